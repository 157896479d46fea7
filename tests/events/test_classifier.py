"""The trained layer: model loading, segment features, and synthetic events classified."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from earwitness.errors import ModelError
from earwitness.events.base import DetectedEvent, EventDetector
from earwitness.events.classifier import (
    BACKGROUND,
    MODEL_PATH,
    EventClassifier,
    TrainedDetector,
    novelty_onsets,
    suppress_restated,
)
from earwitness.events.features import compute_features
from earwitness.events.segment_features import FEATURE_NAMES, N_FEATURES, segment_features
from earwitness.synth import babble, noise
from earwitness.synth.events import burst, drone, place

SR = 16000


@pytest.fixture(scope="module")
def model() -> EventClassifier:
    return EventClassifier.load()


def _bed(rng: np.random.Generator, dur: float = 10.0) -> np.ndarray:
    return noise(duration_s=dur, sr=SR, rng=rng, amp=0.001, color="pink") + babble(
        duration_s=dur, sr=SR, rng=rng, amp=0.1
    )


def test_packaged_model_loads_and_records_training(model: EventClassifier) -> None:
    assert BACKGROUND in model.classes
    assert {"gunfire", "explosion", "aircraft"} <= set(model.classes)
    assert model.feature_names == FEATURE_NAMES
    assert model.meta["produced_by"] == "benchmarks/train_events.py"
    assert "train half" in model.meta["training"]["data"]
    p = model.predict_proba(np.zeros((3, N_FEATURES)))
    assert p.shape == (3, len(model.classes))
    assert np.allclose(p.sum(axis=1), 1.0)
    assert isinstance(TrainedDetector(model), EventDetector)


def test_missing_model_is_a_model_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="not found"):
        EventClassifier.load(tmp_path / "nope.json")


def test_corrupt_model_is_a_model_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(ModelError, match="unreadable"):
        EventClassifier.load(bad)
    bad.write_text(json.dumps({"format": "something else"}), encoding="utf-8")
    with pytest.raises(ModelError, match="not an event classifier"):
        EventClassifier.load(bad)


def test_model_with_wrong_shapes_or_features_is_rejected(tmp_path: Path) -> None:
    data = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    broken = dict(data, layers=[{"weights": [[0.0]], "bias": [0.0]}])
    with pytest.raises(ModelError, match="wrong shapes"):
        EventClassifier.from_mapping(broken)
    renamed = dict(data, feature_names=["x"] * len(FEATURE_NAMES))
    with pytest.raises(ModelError, match="features do not match"):
        EventClassifier.from_mapping(renamed)
    missing = {k: v for k, v in data.items() if k != "layers"}
    with pytest.raises(ModelError, match="malformed"):
        EventClassifier.from_mapping(missing)


@settings(max_examples=15, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    start=st.floats(0.0, 3.9),
    length=st.floats(0.0, 5.0),
    source=st.sampled_from(["impulsive", "sustained", "novelty"]),
)
def test_segment_features_have_fixed_shape_and_are_finite(
    seed: int, start: float, length: float, source: str
) -> None:
    r = np.random.default_rng(seed)
    y = (r.standard_normal(4 * SR) * r.uniform(0.0, 0.3)).astype(np.float32)
    feats = compute_features(y=y, sr=SR)
    v = segment_features(
        feats=feats, start_s=start, end_s=start + length, source=source, shot_times_s=[start]
    )
    assert v.shape == (N_FEATURES,)
    assert np.all(np.isfinite(v))


def test_segment_features_reject_unknown_source() -> None:
    feats = compute_features(y=np.zeros(SR, np.float32), sr=SR)
    with pytest.raises(ValueError, match="source"):
        segment_features(feats=feats, start_s=0.1, end_s=0.5, source="guess")


def test_novelty_onsets_find_a_placed_shot(rng: np.random.Generator) -> None:
    b = burst(sr=SR, rng=rng, n_shots=1, interval_s=0.2)
    y = place(background=_bed(rng), event=b.samples, at_s=4.0, sr=SR, snr_db=12)
    onsets = [e.start_s for e in novelty_onsets(feats=compute_features(y=y, sr=SR))]
    assert any(abs(t - 4.0 - b.shot_times_s[0]) < 0.05 for t in onsets)


def test_gunshot_burst_is_gunfire(rng: np.random.Generator, model: EventClassifier) -> None:
    b = burst(sr=SR, rng=rng, n_shots=5, interval_s=0.15)
    y = place(background=_bed(rng), event=b.samples, at_s=4.0, sr=SR, snr_db=12)
    evs = TrainedDetector(model).detect(feats=compute_features(y=y, sr=SR))
    gun = [e for e in evs if e.label == "gunfire"]
    assert len(gun) == 1
    assert gun[0].start_s == pytest.approx(4.0 + b.shot_times_s[0], abs=0.25)
    assert gun[0].layer == "dsp-trained"
    assert gun[0].details["shot_count"] >= 1
    assert set(gun[0].details["class_probabilities"]) == set(model.classes)


def test_jet_drone_is_aircraft(rng: np.random.Generator, model: EventClassifier) -> None:
    jet = drone(sr=SR, rng=rng, kind="jet", duration_s=5.0, f0=100.0)
    y = place(background=_bed(rng, 12.0), event=jet, at_s=4.0, sr=SR, snr_db=12)
    evs = TrainedDetector(model).detect(feats=compute_features(y=y, sr=SR))
    assert [e.label for e in evs] == ["aircraft"]
    assert 3.0 < evs[0].start_s < 6.0


def test_babble_alone_raises_no_event(rng: np.random.Generator, model: EventClassifier) -> None:
    y = _bed(rng, 20.0)
    assert TrainedDetector(model).detect(feats=compute_features(y=y, sr=SR)) == []


def _ev(label: str, start: float, end: float) -> DetectedEvent:
    return DetectedEvent(label, start, end, 0.9, "dsp_trained", "dsp-trained")


def test_an_impulse_restated_under_the_other_label_is_suppressed() -> None:
    blast = _ev("explosion", 2.0, 3.5)
    echo = _ev("gunfire", 2.3, 2.5)  # inside the blast, 0.3 s after its onset
    later = _ev("gunfire", 2.9, 3.0)  # inside the blast span but past the window
    out = suppress_restated([blast, echo, later], within_s=0.6)
    assert out == [blast, later]
    assert suppress_restated([blast, echo], within_s=0.0) == [blast, echo]
    plane = _ev("aircraft", 1.0, 9.0)  # a shot during a fly-by is its own event
    assert suppress_restated([plane, echo], within_s=0.6) == [plane, echo]


def test_decision_offsets_shift_the_label(model: EventClassifier) -> None:
    prob = np.full((1, len(model.classes)), 0.02)
    prob[0, model.classes.index(BACKGROUND)] = 0.5
    prob[0, model.classes.index("gunfire")] = 0.4
    prob /= prob.sum()
    plain = replace(model, log_bias=np.zeros(len(model.classes)))
    assert plain.classes[int(plain.decide(prob)[0])] == BACKGROUND
    bias = np.zeros(len(model.classes))
    bias[model.classes.index("gunfire")] = 0.5
    assert model.classes[int(replace(model, log_bias=bias).decide(prob)[0])] == "gunfire"


def test_non_finite_decision_offsets_are_rejected() -> None:
    data = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    bad = dict(data, decision={"log_bias": {"gunfire": float("nan")}})
    with pytest.raises(ModelError, match="wrong shapes or values"):
        EventClassifier.from_mapping(bad)


def test_onset_features_see_a_louder_onset_after_a_speech_onset(
    rng: np.random.Generator,
) -> None:
    """A proposal 0.3 s before a shot: the shot is the peak of its window, 0.3 s later, and
    rises more than the proposal's own onset; a proposal at the shot sees neither."""
    b = burst(sr=SR, rng=rng, n_shots=1, interval_s=0.2)
    y = place(background=_bed(rng), event=b.samples, at_s=4.0, sr=SR, snr_db=12)
    feats = compute_features(y=y, sr=SR)
    shot = 4.0 + b.shot_times_s[0]
    names = list(FEATURE_NAMES)
    early = segment_features(feats=feats, start_s=shot - 0.3, end_s=shot + 0.5, source="novelty")
    at = segment_features(feats=feats, start_s=shot, end_s=shot + 0.5, source="novelty")
    i_delay, i_later = names.index("peak_delay_s"), names.index("later_rise_db")
    assert early[i_delay] == pytest.approx(0.3, abs=0.05)
    assert at[i_delay] < 0.05
    assert early[i_later] > at[i_later] + 3.0
    assert at[names.index("crest_db")] > 6.0
