"""The ONNX tagger loader end to end, with a tiny model built here from onnx helper ops."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from earwitness.errors import ModelError
from earwitness.events.features import compute_features
from earwitness.events.stage import builtin_detectors, tagger_config
from earwitness.events.tagger import OnnxTagger, TaggerConfig, log_mel, read_labels

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")
from onnx import TensorProto, helper  # noqa: E402

SR = 16000
CLASSES = ["Speech", "Gunshot, gunfire", "Helicopter"]


def _labels(tmp_path: Path) -> Path:
    p = tmp_path / "class_labels_indices.csv"
    rows = ["index,mid,display_name"] + [f'{i},/m/{i},"{n}"' for i, n in enumerate(CLASSES)]
    p.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return p


def _logmel_model(tmp_path: Path) -> Path:
    """[N, 96, 64] log-mel patches -> [N, 3] scores: mean log energy of the top 32 mel bands
    feeds class 1 ("Gunshot, gunfire") through a sigmoid; classes 0 and 2 are constant."""
    x = helper.make_tensor_value_info("patches", TensorProto.FLOAT, ["N", 96, 64])
    y = helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["N", 3])
    w = np.zeros((64, 3), np.float32)
    w[32:, 1] = 1.0 / 32
    b = np.array([-5.0, 4.0, -5.0], np.float32)
    nodes = [
        helper.make_node("ReduceMax", ["patches"], ["m"], axes=[1], keepdims=0),
        helper.make_node("MatMul", ["m", "w"], ["z"]),
        helper.make_node("Add", ["z", "b"], ["zb"]),
        helper.make_node("Sigmoid", ["zb"], ["scores"]),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny",
        [x],
        [y],
        initializer=[
            helper.make_tensor("w", TensorProto.FLOAT, w.shape, w.flatten()),
            helper.make_tensor("b", TensorProto.FLOAT, b.shape, b),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    path = tmp_path / "tiny.onnx"
    onnx.save(model, str(path))
    return path


def _signal(rng: np.random.Generator) -> np.ndarray:
    y = 1e-4 * rng.standard_normal(5 * SR).astype(np.float32)
    y[2 * SR : 2 * SR + 4000] += 0.5 * rng.standard_normal(4000).astype(np.float32)
    return y


def test_tiny_model_maps_audioset_classes_to_labels(
    tmp_path: Path, rng: np.random.Generator
) -> None:
    cfg = TaggerConfig(
        model_path=str(_logmel_model(tmp_path)), labels_csv=str(_labels(tmp_path)), threshold=0.5
    )
    tagger = OnnxTagger(cfg)
    events = tagger.detect(feats=compute_features(y=_signal(rng), sr=SR))
    assert [e.label for e in events] == ["gunfire"]
    ev = events[0]
    assert ev.layer == "tagger" and ev.detector == "onnx_tagger"
    assert ev.details["class"] == "Gunshot, gunfire"
    assert ev.start_s <= 2.0 <= ev.end_s
    assert tagger.params()["mapped_classes"] == 2  # Speech is not mapped


def test_config_file_registers_the_tagger(tmp_path: Path) -> None:
    _logmel_model(tmp_path)
    _labels(tmp_path)
    conf = tmp_path / "tagger.json"
    conf.write_text(
        json.dumps({"model_path": "tiny.onnx", "labels_csv": "class_labels_indices.csv"}),
        encoding="utf-8",
    )
    cfg = tagger_config({"tagger": str(conf)})
    assert cfg is not None
    assert "onnx_tagger" in builtin_detectors(cfg)


def test_missing_model_and_bad_options_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="not found"):
        OnnxTagger(TaggerConfig(model_path=str(tmp_path / "nope.onnx"), labels_csv="x"))
    with pytest.raises(ModelError, match="unknown tagger option"):
        TaggerConfig.from_mapping({"model_path": "a", "labels_csv": "b", "colour": 1})
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not a model")
    with pytest.raises(ModelError, match="cannot load"):
        OnnxTagger(TaggerConfig(model_path=str(bad), labels_csv="x"))


def test_class_count_mismatch_is_reported(tmp_path: Path) -> None:
    labels = tmp_path / "two.csv"
    labels.write_text("Speech\nMusic\n", encoding="utf-8")
    with pytest.raises(ModelError, match="3 classes"):
        OnnxTagger(TaggerConfig(model_path=str(_logmel_model(tmp_path)), labels_csv=str(labels)))


def test_read_labels_and_log_mel_shapes(tmp_path: Path, rng: np.random.Generator) -> None:
    assert read_labels(_labels(tmp_path)) == CLASSES
    lm = log_mel(
        y=rng.standard_normal(SR).astype(np.float32),
        sr=SR,
        n_mels=64,
        win_s=0.025,
        hop_s=0.01,
        fmin=125,
        fmax=7500,
        log_offset=0.001,
    )
    assert lm.shape == (98, 64)
    assert np.all(np.isfinite(lm))
