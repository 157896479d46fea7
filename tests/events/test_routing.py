"""Per-label layer routing of the default detector (trained layer or DSP layer per label)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from earwitness.decode import probe
from earwitness.errors import ModelError
from earwitness.events.base import DetectorRegistry
from earwitness.events.classifier import (
    MODEL_PATH,
    ROUTED_LABELS,
    EventClassifier,
    TrainedDetector,
    parse_routing,
)
from earwitness.events.features import compute_features
from earwitness.events.music import MusicDetector
from earwitness.events.stage import AcousticEventsStage, builtin_detectors, calibrated_params
from earwitness.pipeline.context import AnalysisContext
from earwitness.synth import babble, encode_file, noise
from earwitness.synth.events import drone, place

SR = 16000
SUSTAINED_TO_DSP = {"aircraft": "dsp", "vehicle": "dsp", "crowd": "dsp"}
ALL_TRAINED = dict.fromkeys(ROUTED_LABELS, "dsp-trained")


@pytest.fixture(scope="module")
def model() -> EventClassifier:
    return EventClassifier.load()


@pytest.fixture
def drone_mix(rng: np.random.Generator) -> np.ndarray:
    bed = noise(duration_s=14.0, sr=SR, rng=rng, amp=0.001, color="pink") + babble(
        duration_s=14.0, sr=SR, rng=rng, amp=0.1
    )
    ev = drone(sr=SR, rng=rng, kind="jet", duration_s=5.0, f0=100.0)
    return place(background=bed, event=ev, at_s=5.0, sr=SR, snr_db=12)


def _detector(model: EventClassifier, routing: dict[str, str]) -> TrainedDetector:
    imp, sus, _mus = calibrated_params()
    return TrainedDetector(model, dsp=(imp, sus), routing=routing)


def test_drone_routed_to_dsp_is_reported_by_the_dsp_layer(
    drone_mix: np.ndarray, model: EventClassifier
) -> None:
    det = _detector(model, SUSTAINED_TO_DSP)
    evs = det.detect(feats=compute_features(y=drone_mix, sr=SR))
    sustained = [e for e in evs if e.label in ("aircraft", "vehicle", "crowd")]
    assert sustained, "the DSP sustained detector finds the drone"
    assert all(e.layer == "dsp" and e.detector == "dsp_sustained" for e in sustained)
    assert all(e.details["routed_by"] == "dsp_trained" for e in sustained)
    assert any(4.0 < e.start_s < 6.5 for e in sustained)
    assert det.params()["routing"]["aircraft"] == "dsp"
    assert "dsp_params" in det.params()


def test_drone_routed_to_the_trained_layer_is_reported_by_it(
    drone_mix: np.ndarray, model: EventClassifier
) -> None:
    evs = _detector(model, ALL_TRAINED).detect(feats=compute_features(y=drone_mix, sr=SR))
    assert [e.label for e in evs] == ["aircraft"]
    assert evs[0].layer == "dsp-trained" and evs[0].detector == "dsp_trained"
    assert all(e.layer == "dsp-trained" for e in evs)


def test_stage_finding_names_the_routed_layer(
    drone_mix: np.ndarray, model: EventClassifier, tmp_path: Path
) -> None:
    path = tmp_path / "drone.flac"
    encode_file(path, drone_mix, sr=SR, codec="flac")
    reg = DetectorRegistry()
    reg.register(_detector(model, SUSTAINED_TO_DSP))
    reg.register(MusicDetector(calibrated_params()[2]))
    ctx = AnalysisContext(path=path, probe=probe(path), sha256="0" * 64, item_id="t")
    res = AcousticEventsStage(registry=reg).run(ctx)
    found = [f for f in res.findings if f.label in ("aircraft", "vehicle", "crowd")]
    assert found
    for f in found:
        assert f.details["layer"] == "dsp"
        assert f.details["detector"] == "dsp_sustained"
        assert f.method == "dsp:dsp_sustained"
    assert res.params["detectors"]["dsp_trained"]["routing"]["aircraft"] == "dsp"


def test_default_detector_honours_the_model_files_routing(model: EventClassifier) -> None:
    det = builtin_detectors().get("dsp_trained")
    assert isinstance(det, TrainedDetector)
    shipped = parse_routing(model.meta.get("routing", {"labels": {}}))
    assert det.routing == shipped
    assert det.params()["routing"] == shipped
    assert set(shipped) == set(ROUTED_LABELS)


def test_bad_routing_is_a_model_error(tmp_path: Path) -> None:
    data = json.loads(MODEL_PATH.read_text(encoding="utf-8"))
    data["routing"] = {"labels": {"aircraft": "tagger"}}
    bad = tmp_path / "m.json"
    bad.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ModelError, match="routing"):
        EventClassifier.load(bad)
    with pytest.raises(ModelError, match="routing"):
        parse_routing({"labels": {"music": "dsp"}})
