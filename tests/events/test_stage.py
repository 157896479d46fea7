"""The ``acoustic_events`` stage end to end on an encoded file with synthetic ground truth."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from earwitness.decode import probe
from earwitness.events.base import DetectedEvent, DetectorRegistry
from earwitness.events.features import FrameFeatures
from earwitness.events.stage import AcousticEventsStage, builtin_detectors, tagger_config
from earwitness.findings import Finding
from earwitness.pipeline.context import AnalysisContext, AnalyzeOptions
from earwitness.pipeline.stage import Stage, StageResult
from earwitness.synth import babble, encode_file, noise
from earwitness.synth.events import burst, place

SR = 16000


def _ctx(path: Path) -> AnalysisContext:
    return AnalysisContext(path=path, probe=probe(path), sha256="0" * 64, item_id="t")


@pytest.fixture
def pasted_burst_file(tmp_path: Path, rng: np.random.Generator) -> tuple[Path, list[float]]:
    bed = noise(duration_s=10.0, sr=SR, rng=rng, amp=0.001, color="pink") + babble(
        duration_s=10.0, sr=SR, rng=rng, amp=0.1
    )
    b = burst(sr=SR, rng=rng, n_shots=4, interval_s=0.35, copies=True)
    y = place(background=bed, event=b.samples, at_s=4.0, sr=SR, snr_db=12)
    path = tmp_path / "burst.flac"
    encode_file(path, y, sr=SR, codec="flac")
    return path, [4.0 + t for t in b.shot_times_s]


def test_stage_reports_gunfire_with_copies(pasted_burst_file: tuple[Path, list[float]]) -> None:
    path, truth = pasted_burst_file
    stage = AcousticEventsStage()
    assert isinstance(stage, Stage)
    res = stage.run(_ctx(path))
    gun = [f for f in res.findings if f.label == "gunfire"]
    assert len(gun) == 1
    f = gun[0]
    assert f.kind == "acoustic_event"
    assert f.start_s == pytest.approx(truth[0], abs=0.05)
    assert f.details["layer"] == "dsp-trained"
    assert f.details["detector"] == "dsp_trained"
    assert f.details["proposed_by"] == "dsp_impulsive"
    assert f.details["shot_count"] == 4
    assert np.allclose(f.details["shot_times_s"], truth, atol=0.02)
    assert [0, 3] in f.details["copies"]
    assert min(f.details["shot_ncc"]) > 0.9
    assert "detectors" in res.params
    # the figures measured by benchmarks/validate_events.py travel with the finding
    assert f.error_rates is not None
    assert f.error_rates.detector == "acoustic_events_gunfire"
    assert f.error_rates.produced_by == "benchmarks/validate_events.py"
    assert f.to_dict()["details"]["layer"] == "dsp-trained"


def test_stage_dsp_only_layer(pasted_burst_file: tuple[Path, list[float]]) -> None:
    path, _truth = pasted_burst_file
    opts = AnalyzeOptions(extra={"acoustic_events": {"trained": False}})
    ctx = AnalysisContext(path=path, probe=probe(path), sha256="0" * 64, item_id="t", options=opts)
    res = AcousticEventsStage().run(ctx)
    gun = [f for f in res.findings if f.label == "gunfire"]
    assert [(f.details["layer"], f.details["detector"]) for f in gun] == [("dsp", "dsp_impulsive")]
    assert gun[0].details["shot_count"] == 4


def test_stage_links_duplicated_segment_findings(
    pasted_burst_file: tuple[Path, list[float]],
) -> None:
    path, truth = pasted_burst_file
    ctx = _ctx(path)
    dup = Finding(
        kind="duplicated_segment",
        start_s=truth[1],
        end_s=truth[1] + 0.2,
        score=0.99,
        label="copy",
        details={"id": "dup-1"},
    )
    ctx.results["duplicated_segments"] = StageResult(findings=(dup,))
    res = AcousticEventsStage().run(ctx)
    gun = next(f for f in res.findings if f.label == "gunfire")
    assert gun.details["duplicated_segments"][0]["finding"] == "dup-1"
    assert res.summary["duplicated_segments_linked"] is True


class _Fixed:
    name = "fixed"
    layer = "tagger"
    labels = ("aircraft",)

    def params(self) -> dict[str, float]:
        return {}

    def detect(self, *, feats: FrameFeatures) -> list[DetectedEvent]:
        return [
            DetectedEvent(
                label="aircraft",
                start_s=1.0,
                end_s=2.0,
                score=0.7,
                detector=self.name,
                layer=self.layer,
            )
        ]


def test_stage_uses_an_explicit_registry(pasted_burst_file: tuple[Path, list[float]]) -> None:
    reg = DetectorRegistry()
    reg.register(_Fixed())
    res = AcousticEventsStage(registry=reg).run(_ctx(pasted_burst_file[0]))
    assert [(f.label, f.details["layer"], f.error_rates) for f in res.findings] == [
        ("aircraft", "tagger", None)
    ]


def test_registry_rejects_duplicates_and_non_detectors() -> None:
    reg = DetectorRegistry()
    reg.register(_Fixed())
    with pytest.raises(ValueError):
        reg.register(_Fixed())
    with pytest.raises(TypeError):
        reg.register(object())  # type: ignore[arg-type]


def test_detected_event_validates() -> None:
    with pytest.raises(ValueError):
        DetectedEvent(label="x", start_s=2.0, end_s=1.0, score=0.0, detector="d", layer="dsp")
    with pytest.raises(ValueError):
        DetectedEvent(label="x", start_s=0.0, end_s=1.0, score=0.0, detector="d", layer="cnn")


def test_builtins_without_tagger() -> None:
    assert builtin_detectors().names() == ["dsp_trained", "dsp_music"]
    assert builtin_detectors(trained=False).names() == [
        "dsp_impulsive",
        "dsp_sustained",
        "dsp_music",
    ]
    assert tagger_config({}) is None


def test_chunked_analysis_matches_whole_file(tmp_path: Path, rng: np.random.Generator) -> None:
    bed = noise(duration_s=14.0, sr=SR, rng=rng, amp=0.001, color="pink") + babble(
        duration_s=14.0, sr=SR, rng=rng, amp=0.1
    )
    b = burst(sr=SR, rng=rng, n_shots=5, interval_s=0.12)
    y = place(background=bed, event=b.samples, at_s=4.7, sr=SR, snr_db=12)  # spans 5.0 s
    path = tmp_path / "long.flac"
    encode_file(path, y, sr=SR, codec="flac")

    def summary(stage: AcousticEventsStage) -> list[tuple[str, float, int]]:
        res = stage.run(_ctx(path))
        return [
            (f.label, round(f.start_s, 2), int(f.details.get("shot_count", 0)))
            for f in res.findings
        ]

    whole = summary(AcousticEventsStage())
    chunked = summary(AcousticEventsStage(chunk_s=5.0, overlap_s=3.0))
    assert chunked == whole
    assert ("gunfire", 4.7, 5) in whole


def test_bad_chunking_is_rejected() -> None:
    with pytest.raises(ValueError):
        AcousticEventsStage(chunk_s=0.0)
