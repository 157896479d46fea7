"""Shot copies (pasted samples) and the crack–bang structure (Maher 2006/2007)."""

from __future__ import annotations

import numpy as np
import pytest

from earwitness.events.gunshot import crack_bang, shot_similarity
from earwitness.synth import noise
from earwitness.synth.events import burst, gunshot, place

SR = 16000


def test_pasted_shots_are_copies_and_fresh_shots_are_not(rng: np.random.Generator) -> None:
    bed = noise(duration_s=4.0, sr=SR, rng=rng, amp=0.002)
    pasted = burst(sr=SR, rng=rng, n_shots=4, interval_s=0.3, copies=True)
    fresh = burst(sr=SR, rng=rng, n_shots=4, interval_s=0.3, copies=False)
    for b, expect in ((pasted, True), (fresh, False)):
        y = place(background=bed, event=b.samples, at_s=1.0, sr=SR, snr_db=20)
        times = [1.0 + t for t in b.shot_times_s]
        sim = shot_similarity(y=y, sr=SR, shot_times_s=times)
        assert len(sim.ncc) == 3
        if expect:
            assert min(sim.ncc) > 0.95
            assert (0, 3) in sim.copies
        else:
            assert sim.copies == ()
            assert max(sim.ncc) < 0.9


def test_crack_before_bang_at_high_rate(rng: np.random.Generator) -> None:
    sr = 48000
    shot = gunshot(sr=sr, rng=rng, crack=True, crack_delay_s=0.03)
    y = place(
        background=noise(duration_s=2.0, sr=sr, rng=rng, amp=1e-4), event=shot, at_s=0.5, sr=sr
    )
    cb = crack_bang(y=y, sr=sr, onset_s=0.5)
    assert cb.crack_found
    assert cb.crack_to_bang_s == pytest.approx(0.03, abs=0.006)


def test_no_crack_without_n_wave(rng: np.random.Generator) -> None:
    sr = 48000
    shot = gunshot(sr=sr, rng=rng, crack=False)
    y = place(
        background=noise(duration_s=2.0, sr=sr, rng=rng, amp=1e-4), event=shot, at_s=0.5, sr=sr
    )
    assert not crack_bang(y=y, sr=sr, onset_s=0.5).crack_found


def test_low_rate_is_declined(rng: np.random.Generator) -> None:
    cb = crack_bang(y=np.zeros(16000, np.float32), sr=16000, onset_s=0.2)
    assert not cb.crack_found and not cb.bandwidth_ok


def test_burst_rejects_zero_shots(rng: np.random.Generator) -> None:
    with pytest.raises(ValueError):
        burst(sr=SR, rng=rng, n_shots=0)
