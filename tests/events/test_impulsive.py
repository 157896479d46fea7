"""The impulsive detector on synthetic gunshots, bursts and explosions with known times."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from earwitness.events.features import compute_features, segments
from earwitness.events.impulsive import ImpulsiveDetector, ImpulsiveParams, broadband_rise
from earwitness.synth import babble, noise
from earwitness.synth.events import burst, explosion, gunshot, place

SR = 16000


def _bed(rng: np.random.Generator, dur: float = 8.0, speech: bool = True) -> np.ndarray:
    bed = noise(duration_s=dur, sr=SR, rng=rng, amp=0.001, color="pink")
    if speech:
        bed = bed + babble(duration_s=dur, sr=SR, rng=rng, amp=0.1)
    return bed


def test_single_shot_found_at_its_onset(rng: np.random.Generator) -> None:
    y = place(background=_bed(rng), event=gunshot(sr=SR, rng=rng), at_s=3.0, sr=SR, snr_db=10)
    events = ImpulsiveDetector().detect(feats=compute_features(y=y, sr=SR))
    gun = [e for e in events if e.label == "gunfire"]
    assert len(gun) == 1
    assert gun[0].start_s == pytest.approx(3.0, abs=0.05)
    assert gun[0].details["shot_count"] == 1
    assert gun[0].layer == "dsp"
    assert gun[0].detector == "dsp_impulsive"


def test_automatic_fire_is_one_burst_with_shot_times(rng: np.random.Generator) -> None:
    b = burst(sr=SR, rng=rng, n_shots=6, interval_s=0.12)
    y = place(background=_bed(rng), event=b.samples, at_s=2.0, sr=SR, snr_db=10)
    events = ImpulsiveDetector().detect(feats=compute_features(y=y, sr=SR))
    gun = [e for e in events if e.label == "gunfire"]
    assert len(gun) == 1
    d = gun[0].details
    assert 5 <= d["shot_count"] <= 6
    truth = np.array(b.shot_times_s) + 2.0
    found = np.array(d["shot_times_s"])
    assert np.all(np.min(np.abs(found[:, None] - truth[None, :]), axis=1) < 0.02)
    assert np.allclose(d["intervals_s"], np.diff(found), atol=1e-3)


def test_explosion_is_not_gunfire(rng: np.random.Generator) -> None:
    y = place(
        background=_bed(rng),
        event=explosion(sr=SR, rng=rng, decay_s=1.5),
        at_s=2.5,
        sr=SR,
        snr_db=10,
    )
    events = ImpulsiveDetector().detect(feats=compute_features(y=y, sr=SR))
    assert [e.label for e in events] == ["explosion"]
    assert events[0].start_s == pytest.approx(2.5, abs=0.05)
    assert events[0].end_s > 3.0  # long decay


def test_speech_alone_raises_nothing(rng: np.random.Generator) -> None:
    events = ImpulsiveDetector().detect(feats=compute_features(y=_bed(rng, 20.0), sr=SR))
    assert events == []


def test_broadband_rise_of_a_step_is_at_the_step() -> None:
    band = np.full((50, 4), -60.0)
    band[20:] = -20.0
    rise, frac = broadband_rise(band_db=band)
    assert int(np.argmax(rise)) == 20
    assert frac[20] == 1.0
    assert rise[10] == 0.0


@settings(max_examples=20, deadline=None)
@given(st.lists(st.booleans(), min_size=0, max_size=60), st.integers(0, 3), st.integers(1, 4))
def test_segments_are_ordered_disjoint_and_cover_only_true(
    mask: list[bool], max_gap: int, min_len: int
) -> None:
    m = np.array(mask, dtype=bool)
    segs = segments(mask=m, min_len=min_len, max_gap=max_gap)
    for (_s0, e0), (s1, _) in itertools.pairwise(segs):
        assert s1 - e0 > max_gap  # closer runs would have been joined
    for s, e in segs:
        assert e - s >= min_len
        assert m[s] and m[e - 1]
    # complete: every frame of a run of True at least min_len long is inside a segment
    covered = np.zeros(m.size, dtype=bool)
    for s, e in segs:
        covered[s:e] = True
    for k, group in itertools.groupby(enumerate(mask), key=lambda x: x[1]):
        run = [i for i, _ in group]
        if k and len(run) >= min_len:
            assert covered[run].all(), (run, segs)


def test_params_are_recorded() -> None:
    det = ImpulsiveDetector(ImpulsiveParams(min_rise_db=11.0))
    assert det.params()["min_rise_db"] == 11.0
