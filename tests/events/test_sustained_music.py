"""Sustained drones (aircraft with Doppler glide) and held-pitch chant on synthetic truth."""

from __future__ import annotations

import numpy as np
import pytest

from earwitness.events.features import compute_features
from earwitness.events.music import MusicDetector, pitch_track
from earwitness.events.sustained import SustainedDetector, SustainedParams, line_glide
from earwitness.synth import babble, noise, tone
from earwitness.synth.events import chant, drone, place

SR = 16000


def _bed(rng: np.random.Generator, dur: float) -> np.ndarray:
    return noise(duration_s=dur, sr=SR, rng=rng, amp=0.001, color="pink") + babble(
        duration_s=dur, sr=SR, rng=rng, amp=0.1
    )


@pytest.mark.parametrize("kind", ["propeller", "jet"])
def test_fly_by_is_found_and_timed(rng: np.random.Generator, kind: str) -> None:
    ev = drone(sr=SR, rng=rng, kind=kind, duration_s=5.0)
    y = place(background=_bed(rng, 14.0), event=ev, at_s=5.0, sr=SR, snr_db=10)
    found = SustainedDetector().detect(feats=compute_features(y=y, sr=SR))
    assert len(found) == 1
    assert found[0].start_s == pytest.approx(5.0, abs=0.6)
    assert found[0].end_s == pytest.approx(10.0, abs=0.8)
    assert found[0].layer == "dsp"


def test_propeller_glide_is_measured_downwards(rng: np.random.Generator) -> None:
    ev = drone(sr=SR, rng=rng, kind="propeller", duration_s=6.0, speed=40.0, distance=60.0)
    f = compute_features(y=ev + noise(duration_s=6.0, sr=SR, rng=rng, amp=1e-3), sr=SR)
    _, glide = line_glide(power=f.power, freqs=f.freqs)
    assert glide < -0.05  # approaching -> receding: pitch falls


def test_steady_tone_has_no_glide(rng: np.random.Generator) -> None:
    y = tone(freq=300.0, duration_s=3.0, sr=SR) + noise(duration_s=3.0, sr=SR, rng=rng, amp=1e-3)
    f = compute_features(y=y, sr=SR)
    tonality, glide = line_glide(power=f.power, freqs=f.freqs)
    assert abs(glide) < 0.01
    assert tonality > 20


def test_speech_alone_is_not_sustained(rng: np.random.Generator) -> None:
    assert SustainedDetector().detect(feats=compute_features(y=_bed(rng, 20.0), sr=SR)) == []


def test_chant_is_music_and_speech_is_not(rng: np.random.Generator) -> None:
    det = MusicDetector()
    bed = _bed(rng, 14.0)
    assert det.detect(feats=compute_features(y=bed, sr=SR)) == []
    y = place(
        background=bed, event=chant(sr=SR, rng=rng, duration_s=7.0), at_s=4.0, sr=SR, snr_db=10
    )
    found = det.detect(feats=compute_features(y=y, sr=SR))
    assert len(found) == 1
    assert found[0].label == "music"
    assert 3.0 <= found[0].start_s <= 6.0
    assert found[0].end_s >= 9.0


def test_pitch_track_of_a_harmonic_tone(rng: np.random.Generator) -> None:
    t = np.arange(SR) / SR
    y = sum(np.sin(2 * np.pi * 200 * h * t) / h for h in range(1, 6)).astype(np.float32)
    f = compute_features(y=y, sr=SR)
    f0, voicing = pitch_track(power=f.power, sr=SR, fmin=80, fmax=800)
    mid = slice(10, -10)
    assert np.median(f0[mid]) == pytest.approx(200.0, rel=0.03)
    assert np.median(voicing[mid]) > 0.8


def test_fading_in_drone_onset_is_where_it_rises_out_of_the_speech(
    rng: np.random.Generator,
) -> None:
    """A drone that fades in over 2 s (-40 dB to 0 dB, linear in dB) under speech: the onset
    is where it reaches its level and stays, not at its first faint sample."""
    dur = 6.0
    ev = drone(sr=SR, rng=rng, kind="jet", duration_s=dur, speed=1.0, distance=1000.0)
    t = np.arange(ev.size) / SR
    ev = ev * (10.0 ** (np.clip(-40.0 + 20.0 * t, -40.0, 0.0) / 20.0)).astype(np.float32)
    y = place(background=_bed(rng, 14.0), event=ev, at_s=4.0, sr=SR, snr_db=10)
    found = SustainedDetector().segments(feats=compute_features(y=y, sr=SR))
    assert len(found) == 1
    # the fade reaches within 9 dB of the median level after about 1.4 s and stays
    assert 4.0 + 1.0 < found[0].start_s < 4.0 + 2.3


def test_onset_hold_zero_keeps_the_steepest_rise_rule(rng: np.random.Generator) -> None:
    ev = drone(sr=SR, rng=rng, kind="jet", duration_s=5.0)
    y = place(background=_bed(rng, 14.0), event=ev, at_s=5.0, sr=SR, snr_db=10)
    feats = compute_features(y=y, sr=SR)
    old = SustainedDetector(SustainedParams(onset_hold_s=0.0)).segments(feats=feats)
    new = SustainedDetector().segments(feats=feats)
    assert len(old) == len(new) == 1
    assert old[0].start_s == pytest.approx(5.0, abs=0.6)
    assert new[0].start_s == pytest.approx(5.0, abs=0.6)
