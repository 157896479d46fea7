"""The trained layer: model loading, segment features, and synthetic events classified."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from earwitness.errors import ModelError
from earwitness.events.base import EventDetector
from earwitness.events.classifier import (
    BACKGROUND,
    MODEL_PATH,
    EventClassifier,
    TrainedDetector,
    novelty_onsets,
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
