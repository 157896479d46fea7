"""Room-reverberation change as edit-point evidence, on synthetic rooms (known RT60)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from earwitness.forensics.edits import EditParams, find_edit_points, reverb_evidence
from earwitness.forensics.reverb import decay_change, estimate_decay
from earwitness.synth import forensics as F

SR = 16000


def _room(y: np.ndarray, rt60_s: float, rng: np.random.Generator) -> np.ndarray:
    """``y`` fully convolved with an exponentially decaying noise impulse response."""
    return F.reverberate(y=y, sr=SR, rt60_s=rt60_s, rng=rng, wet=1.0)


def _two_rooms(rng: np.random.Generator, at_s: float = 8.0) -> np.ndarray:
    """First part in a 0.2 s room, the rest in a 1.0 s room, at matched level."""
    a = F.speech_bed(sr=SR, rng=rng, duration_s=16, noise_amp=0.003)
    short, long_ = _room(a, 0.2, rng), _room(a, 1.0, rng)
    long_ *= np.sqrt(np.mean(short**2) / np.mean(long_**2))
    i = int(at_s * SR)
    return np.concatenate([short[:i], long_[i:]]).astype(np.float32)


def test_join_of_two_rooms_shows_longer_decay_after(rng: np.random.Generator) -> None:
    y = _two_rooms(rng)
    ev = reverb_evidence(y=y, sr=SR, t_s=8.0, p=EditParams())
    assert ev["before"] is not None and ev["after"] is not None
    assert ev["before"] < ev["after"]
    assert ev["moved"] and ev["ratio"] >= ev["threshold"]
    assert set(ev) >= {"before", "after", "change", "unit", "threshold"}


def test_constant_room_shows_no_change(rng: np.random.Generator) -> None:
    a = F.speech_bed(sr=SR, rng=rng, duration_s=20, noise_amp=0.003)
    for y in (a, _room(a, 0.2, rng)):
        for t in (5.0, 10.0, 15.0):
            ev = reverb_evidence(y=y, sr=SR, t_s=t, p=EditParams())
            assert ev["before"] is not None and ev["after"] is not None
            assert not ev["moved"]


def test_reverb_evidence_on_detected_join(rng: np.random.Generator) -> None:
    # a DC step marks the join for the detector; the reverb evidence is read at that instant
    y, truth = F.dc_jump(y=_two_rooms(rng), sr=SR, at_s=8.0, offset=0.02)
    points, _ = find_edit_points(y=y, sr=SR)
    hit = [p for p in points if abs(p.t_s - truth.t_s) <= 0.05]
    assert hit
    ev = hit[0].evidence["reverb_decay"]
    assert ev["moved"] and ev["before"] < ev["after"]
    # evidence only: reverberation never proposes an instant itself
    assert "reverb_decay" not in hit[0].triggered_by


def test_no_estimate_without_free_decays(rng: np.random.Generator) -> None:
    steady = 0.01 * rng.standard_normal(5 * SR).astype(np.float32)
    est = estimate_decay(y=steady, sr=SR)
    assert est.rt60_s is None and est.decay_db_per_s is None
    ev = reverb_evidence(y=steady, sr=SR, t_s=2.5, p=EditParams())
    assert ev["change"] is None and not ev["moved"]


def test_decay_change_rejects_bad_window() -> None:
    with pytest.raises(ValueError, match="window_s"):
        decay_change(y=np.zeros(SR, np.float32), sr=SR, t_s=0.5, window_s=0.0)


_BED = F.speech_bed(sr=SR, rng=np.random.default_rng(7), duration_s=6, noise_amp=0.003)


@settings(max_examples=8, deadline=None)
@given(gain_db=st.floats(min_value=-30.0, max_value=10.0))
def test_estimate_is_level_invariant(gain_db: float) -> None:
    ref = estimate_decay(y=_BED, sr=SR)
    est = estimate_decay(y=_BED * np.float32(10 ** (gain_db / 20)), sr=SR)
    assert ref.rt60_s is not None and est.rt60_s is not None
    assert est.rt60_s == pytest.approx(ref.rt60_s, rel=1e-3)
