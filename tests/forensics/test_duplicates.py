"""Copy-move detection on synthetic ground truth."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import signal as sps

from earwitness.decode import load_audio
from earwitness.forensics.duplicates import (
    DuplicateMatch,
    DuplicateParams,
    find_duplicates,
    group_occurrences,
)
from earwitness.synth import forensics as F
from earwitness.synth import noise

SR = 16000


def _overlaps(a0: float, a1: float, b0: float, b1: float) -> bool:
    return min(a1, b1) - max(a0, b0) > 0.5 * min(a1 - a0, b1 - b0)


def test_pasted_gunshot_three_times_found_with_sources(rng: np.random.Generator) -> None:
    bed = F.speech_bed(sr=SR, rng=rng, duration_s=20)
    shot = F.gunshot(sr=SR, rng=rng)
    y, truth = F.paste(
        background=bed, sound=shot, sr=SR, at_s=[2.0, 7.3, 13.1], gains_db=[0.0, -3.0, 2.0]
    )
    occ = group_occurrences(find_duplicates(y=y, sr=SR))
    assert len(occ) == 2
    for t, o in zip(truth, occ, strict=True):
        assert _overlaps(o.start_s, o.end_s, t.start_s, t.end_s)
        assert _overlaps(o.source_start_s, o.source_end_s, t.source_start_s, t.source_end_s)
        assert o.n_occurrences == 3


def test_processed_copy_over_other_background_found(rng: np.random.Generator) -> None:
    """Gain, low-pass filtering and a different background do not hide a pasted copy."""
    shot = F.gunshot(sr=SR, rng=rng, duration_s=0.6)
    a = F.speech_bed(sr=SR, rng=rng, duration_s=6, noise_amp=0.01)
    b = F.speech_bed(sr=SR, rng=rng, duration_s=6, noise_amp=0.01, color="white")
    y = np.concatenate([a, b])
    y[int(1.0 * SR) : int(1.0 * SR) + shot.size] += shot
    bl, al = sps.butter(4, 4000 / (SR / 2))
    copy = sps.lfilter(bl, al, shot) * 0.7
    y[int(8.2 * SR) : int(8.2 * SR) + copy.size] += copy.astype(np.float32)
    occ = group_occurrences(find_duplicates(y=y, sr=SR))
    assert len(occ) == 1
    assert abs(occ[0].start_s - occ[0].source_start_s - 7.2) < 0.01


def test_repeated_word_by_same_speaker_not_flagged(rng: np.random.Generator) -> None:
    y = noise(duration_s=20, sr=SR, rng=rng, amp=0.005)
    for k in range(12):
        w = F.word(sr=SR, rng=rng, f0=130.0)
        s = int((0.5 + 1.5 * k) * SR)
        y[s : s + w.size] += w
    assert find_duplicates(y=y, sr=SR) == []


def test_rhythmic_noise_not_flagged(rng: np.random.Generator) -> None:
    y = F.rhythmic_noise(sr=SR, rng=rng, duration_s=20, period_s=0.5)
    assert find_duplicates(y=y, sr=SR) == []


def test_looped_noise_is_flagged(rng: np.random.Generator) -> None:
    """The same noise played twice *is* a copy, unlike two bursts of similar noise."""
    burst = F.rhythmic_noise(sr=SR, rng=rng, duration_s=1.0, period_s=0.5)
    bed = noise(duration_s=10, sr=SR, rng=rng, amp=0.003)
    y, truth = F.paste(background=bed, sound=burst, sr=SR, at_s=[2.0, 6.0])
    occ = group_occurrences(find_duplicates(y=y, sr=SR))
    assert occ and _overlaps(occ[0].start_s, occ[0].end_s, truth[0].start_s, truth[0].end_s)


def test_short_or_silent_input_gives_nothing() -> None:
    assert find_duplicates(y=np.zeros(SR * 5, np.float32), sr=SR) == []
    assert find_duplicates(y=np.zeros(100, np.float32), sr=SR) == []


def test_extra_candidates_are_verified_not_trusted(rng: np.random.Generator) -> None:
    y = noise(duration_s=6, sr=SR, rng=rng, amp=0.05)
    assert find_duplicates(y=y, sr=SR, candidates=[(1.0, 2.0, 2.5)]) == []


def test_group_source_is_earliest() -> None:
    m = [
        DuplicateMatch(5.0, 5.5, 9.0, 9.5, 0.9, 0.8, 0.0, 3),
        DuplicateMatch(1.0, 1.5, 5.0, 5.5, 0.9, 0.8, 0.0, 3),
    ]
    occ = group_occurrences(m)
    assert [o.start_s for o in occ] == [5.0, 9.0]
    assert all(o.source_start_s == 1.0 for o in occ)


@settings(max_examples=5, deadline=None)
@given(seed=st.integers(0, 2**16), amp=st.floats(0.001, 0.5))
def test_independent_noise_never_matches(seed: int, amp: float) -> None:
    y = noise(duration_s=4, sr=SR, rng=np.random.default_rng(seed), amp=amp, color="pink")
    assert find_duplicates(y=y, sr=SR, params=DuplicateParams()) == []


def test_params_are_frozen() -> None:
    p = DuplicateParams()
    with pytest.raises(AttributeError):
        p.coherence_threshold = 0.1  # type: ignore[misc]


def test_repeated_phrase_in_real_speech(corpus: Path) -> None:
    """JFK's speech: untouched gives nothing; a phrase copied elsewhere is found."""
    y = load_audio(corpus / "jfk.flac", sr=SR).samples
    assert group_occurrences(find_duplicates(y=y, sr=SR)) == []
    edited = y.copy()
    a, b, n = int(1.0 * SR), int(7.0 * SR), int(1.2 * SR)
    edited[b : b + n] = y[a : a + n]
    occ = group_occurrences(find_duplicates(y=edited, sr=SR))
    assert len(occ) == 1
    assert abs(occ[0].start_s - occ[0].source_start_s - 6.0) < 0.01
