"""Two-stage archive matching: near-misses verified on the audio (verify.py, matcher)."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from earwitness.fingerprint import fingerprint, match_audio, open_index
from earwitness.fingerprint.features import FingerprintParams
from earwitness.fingerprint.matcher import MatchParams
from earwitness.fingerprint.verify import (
    VerifyNull,
    fit_verify_null,
    query_spectrum,
    reference_spectrum,
    verification_score,
)
from earwitness.synth import babble
from earwitness.synth import degrade as dg

SR = 8000
FP = FingerprintParams()


class _Refs:
    """In-memory ReferenceAudio that records the spans asked for."""

    def __init__(self, audio: dict[str, np.ndarray]) -> None:
        self.audio = audio
        self.calls: list[tuple[str, float, float]] = []

    def __call__(self, item_id: str, start_s: float, end_s: float, sr: int) -> np.ndarray | None:
        assert sr == SR
        self.calls.append((item_id, start_s, end_s))
        y = self.audio.get(item_id)
        return None if y is None else y[round(start_s * sr) : max(0, round(end_s * sr))]


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> tuple[object, dict[str, np.ndarray]]:
    rng = np.random.default_rng(21)
    recs = {f"item{k}": babble(duration_s=40.0, sr=SR, rng=rng) for k in range(4)}
    index = open_index(tmp_path_factory.mktemp("idx"))
    for k, (item_id, y) in enumerate(recs.items()):
        index.add(item_id=item_id, sha256=f"{k:064d}", duration_s=40.0, fp=fingerprint(y=y, sr=SR))
    return index, recs


def _params() -> MatchParams:
    """Built-in decision, with a fixed verification null model and candidates from 3
    landmarks (this small synthetic archive gives few)."""
    p = MatchParams()
    null = VerifyNull(tail_start=0.2, tail_scale=0.04)
    return replace(p, verify=replace(p.verify, min_landmarks=3, null=null))


def test_score_is_high_on_the_true_line_and_low_off_it(rng: np.random.Generator) -> None:
    y = babble(duration_s=12.0, sr=SR, rng=rng)
    noisy = dg.add_noise(y=y[2 * SR : 10 * SR], snr_db=0, rng=rng)
    vp = MatchParams().verify
    q = query_spectrum(y=noisy, params=FP, verify=vp)
    r = reference_spectrum(y=y, params=FP)
    n = q.spec.shape[0]
    true_off = 2.0 / FP.frame_s
    kw = dict(query=q, ref_spec=r, ref_first_frame=0, speed=1.0, q_start=100, q_end=n - 100)
    on = verification_score(offset=true_off, params=FP, verify=vp, **kw)  # type: ignore[arg-type]
    off = verification_score(offset=true_off + 90, params=FP, verify=vp, **kw)  # type: ignore[arg-type]
    assert on > vp.min_score > off


def test_score_nan_when_the_line_leaves_the_reference(rng: np.random.Generator) -> None:
    y = babble(duration_s=5.0, sr=SR, rng=rng)
    vp = MatchParams().verify
    q = query_spectrum(y=y, params=FP, verify=vp)
    r = reference_spectrum(y=y, params=FP)
    s = verification_score(
        query=q,
        ref_spec=r,
        ref_first_frame=0,
        speed=1.0,
        offset=10_000.0,
        q_start=0,
        q_end=100,
        params=FP,
        verify=vp,
    )
    assert math.isnan(s)


@pytest.mark.parametrize("noise_seed", [2, 3, 4])
def test_noisy_excerpt_accepted_on_audio_only(archive: tuple, noise_seed: int) -> None:
    """White noise at 8 dB leaves the synthetic speech a handful of landmarks: far below the
    landmark-only threshold, yet the spectra along the line still agree."""
    index, recs = archive
    start = 12.0
    excerpt = recs["item2"][int(start * SR) : int((start + 10.0) * SR)]
    y = dg.add_noise(y=excerpt, snr_db=8, rng=np.random.default_rng(noise_seed))
    p = _params()
    assert match_audio(y=y, sr=SR, index=index, params=p).matches == ()
    refs = _Refs(recs)
    res = match_audio(y=y, sr=SR, index=index, params=p, references=refs)
    assert res.matches, "the noisy excerpt must be verified on the audio"
    m = res.matches[0]
    assert m.item_id == "item2" and m.decision == "verified_on_audio"
    assert m.verify_score is not None and m.verify_score >= p.verify.min_score
    assert m.refined and m.above_threshold
    assert abs(m.ref_start_s - (start + m.query_start_s)) < 0.1
    assert m.query_end_s - m.query_start_s >= p.min_duration_s
    landmark_expected = p.null.expected(
        n_landmarks=m.n_landmarks, query_s=res.query_duration_s, archive_h=res.archive_hours
    )
    assert landmark_expected > p.max_expected  # the landmarks alone would not do
    assert m.expected_false_matches == pytest.approx(
        landmark_expected * p.verify.null.exceedance(m.verify_score)
    )
    assert m.score == pytest.approx(-math.log10(m.expected_false_matches))
    d = m.to_dict()
    for key in ("item_id", "sha256", "score", "query_start_s", "query_end_s", "speed"):
        assert key in d
    assert d["decision"] == "verified_on_audio"
    # only the span around the alignment was decoded, not the whole reference
    assert refs.calls and all(e - s < 30.0 for _, s, e in refs.calls)


def test_unrelated_audio_rejected(archive: tuple, rng: np.random.Generator) -> None:
    index, recs = archive
    refs = _Refs(recs)
    for snr in (None, 0.0):
        y = babble(duration_s=10.0, sr=SR, rng=rng, f0=150.0)
        if snr is not None:
            y = dg.add_noise(y=y, snr_db=snr, rng=rng)
        res = match_audio(y=y, sr=SR, index=index, params=_params(), references=refs)
        assert res.matches == ()


def test_without_audio_the_decision_is_landmarks_only(
    archive: tuple, rng: np.random.Generator
) -> None:
    index, recs = archive
    y = dg.add_noise(y=recs["item1"][5 * SR : 15 * SR], snr_db=0, rng=rng)
    p = _params()
    assert match_audio(y=y, sr=SR, index=index, params=p).matches == ()
    # imported fingerprints: the references have no audio for the item
    none = _Refs({})
    assert match_audio(y=y, sr=SR, index=index, params=p, references=none).matches == ()
    clean = match_audio(y=recs["item1"][5 * SR : 15 * SR], sr=SR, index=index)
    assert clean.matches and clean.matches[0].decision == "landmarks"


def test_fit_verify_null_tail() -> None:
    rng = np.random.default_rng(3)
    v = rng.exponential(0.05, 5000) + 0.1
    null = fit_verify_null([*v.tolist(), math.nan])
    assert null.tail_scale == pytest.approx(0.05, rel=0.15)
    x = null.tail_start + 0.1
    assert null.exceedance(x) == pytest.approx(float(np.mean(v >= x)), rel=0.3)
    assert null.exceedance(-1.0) == 1.0
    assert fit_verify_null([0.1, 0.2]).source.startswith("too few")


def test_every_line_the_archive_search_finds_can_be_verified() -> None:
    """Under a music bed the true line can carry as few landmarks as the search accepts (4);
    a verification threshold above that would never see it."""
    from earwitness.fingerprint.matcher import ARCHIVE_ALIGN

    p = MatchParams()
    assert p.verify.min_landmarks <= ARCHIVE_ALIGN.min_hits
    assert p.align.min_hits == ARCHIVE_ALIGN.min_hits
