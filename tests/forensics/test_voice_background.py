"""Voice/background consistency checks on synthetic mixes."""

from __future__ import annotations

import numpy as np
from scipy import signal as sps

from earwitness.forensics.voice_background import check_events, find_loud_events
from earwitness.synth import forensics as F

SR = 16000


def _voice(rng: np.random.Generator, *, narrow: bool) -> np.ndarray:
    y = F.speech_bed(sr=SR, rng=rng, duration_s=8, noise_amp=0.003)
    if narrow:
        sos = sps.butter(8, 3400, "lowpass", fs=SR, output="sos")
        y = sps.sosfilt(sos, y).astype(np.float32)
    return y


def test_fullband_bang_over_narrowband_voice_without_ducking(rng: np.random.Generator) -> None:
    y = _voice(rng, narrow=True)
    shot = F.gunshot(sr=SR, rng=rng)
    y[4 * SR : 4 * SR + shot.size] += shot
    events = find_loud_events(y=y, sr=SR)
    assert any(abs(s - 4.0) < 0.05 for s, _ in events)
    checks = check_events(y=y, sr=SR, events=events)
    c = next(c for c in checks if abs(c.start_s - 4.0) < 0.05)
    assert c.checks["bandwidth_hz"]["sign"] is True
    assert c.checks["agc_pumping_db"]["sign"] is True
    assert len(c.signs) >= 2


def test_bang_recorded_through_same_chain_with_agc(rng: np.random.Generator) -> None:
    """Band-limited together and ducked afterwards, as a phone with AGC would do."""
    y = F.speech_bed(sr=SR, rng=rng, duration_s=8, noise_amp=0.003)
    shot = F.gunshot(sr=SR, rng=rng)
    y[4 * SR : 4 * SR + shot.size] += shot
    gain = np.ones(y.size, np.float32)
    t = np.arange(y.size - 4 * SR) / SR
    gain[4 * SR :] = 1 - 0.7 * np.exp(-np.maximum(t - 0.05, 0) / 2.0) * (t > 0.05)
    y = y * gain
    sos = sps.butter(8, 3400, "lowpass", fs=SR, output="sos")
    y = sps.sosfilt(sos, y).astype(np.float32)
    checks = check_events(y=y, sr=SR, events=[(4.0, 4.3)])
    assert checks
    assert checks[0].checks["bandwidth_hz"]["sign"] is False
    assert checks[0].checks["agc_pumping_db"]["sign"] is False


def test_event_far_from_speech_is_not_checked(rng: np.random.Generator) -> None:
    y = 0.001 * rng.standard_normal(SR * 8).astype(np.float32)
    shot = F.gunshot(sr=SR, rng=rng)
    y[4 * SR : 4 * SR + shot.size] += shot
    assert check_events(y=y, sr=SR, events=[(4.0, 4.3)]) == []
