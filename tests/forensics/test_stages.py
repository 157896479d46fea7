"""The four stages through the pipeline runner: registration and the findings contract."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from earwitness.forensics import stages as fx
from earwitness.forensics.calib import calibrated_params
from earwitness.forensics.duplicates import DuplicateParams
from earwitness.pipeline import StageRegistry, default_registry
from earwitness.pipeline.context import AnalysisContext
from earwitness.pipeline.runner import run_stages
from earwitness.synth import encode_file
from earwitness.synth import forensics as F

SR = 16000
NAMES = ("duplicated_segments", "edit_points", "compression", "voice_background")


def test_registered_after_acoustic_events() -> None:
    names = default_registry().names()
    for n in NAMES:
        assert n in names
    # voice_background reads the acoustic_events results: that stage is built in and runs first
    assert "acoustic_events" in names
    assert names.index("acoustic_events") < names.index("voice_background")


def test_all_stages_on_a_manipulated_file(
    rng: np.random.Generator, tmp_path: Path, make_ctx: Callable[[Path], AnalysisContext]
) -> None:
    bed = F.speech_bed(sr=SR, rng=rng, duration_s=16, noise_amp=0.004)
    shot = F.gunshot(sr=SR, rng=rng)
    y, _ = F.paste(background=bed, sound=shot, sr=SR, at_s=[2.0, 6.5, 11.0])
    y, sil = F.insert_silence(y=y, sr=SR, at_s=9.0, length_s=0.25)
    path = encode_file(tmp_path / "x.wav", y, sr=SR)
    reg = StageRegistry()
    for st in (
        fx.DuplicatedSegmentsStage(DuplicateParams()),  # contract, not calibration
        fx.EditPointsStage(),
        fx.CompressionStage(),
        fx.VoiceBackgroundStage(),
    ):
        reg.register(st)
    ctx = make_ctx(path)
    runs = {r.name: r for r in run_stages(ctx, reg)}
    assert all(r.status == "ok" for r in runs.values()), [r.error for r in runs.values()]
    dups = [f for f in ctx.results["duplicated_segments"].findings]
    assert len(dups) == 2
    for f in dups:
        assert f.kind == "duplicated_segment" and f.label
        assert f.details["source_start_s"] < f.details["source_end_s"] <= f.start_s
    edits = ctx.results["edit_points"].findings
    assert any(abs(f.start_s - sil[0].t_s) < 0.01 for f in edits)
    for f in edits:
        assert f.start_s == f.end_s
        for ev in f.details["evidence"].values():
            assert {"before", "after", "change", "unit", "threshold"} <= set(ev)
    (comp,) = ctx.results["compression"].findings
    assert comp.details["prior_lossy"] is False
    assert comp.details["nyquist_hz"] == SR / 2
    # the pasted shots are loud events next to speech: they are checked, as advisories
    vb = ctx.results["voice_background"].findings
    assert vb
    for f in vb:
        assert f.advisory is True


def test_voice_background_uses_acoustic_events_results(
    rng: np.random.Generator, tmp_path: Path, make_ctx: Callable[[Path], AnalysisContext]
) -> None:
    from earwitness.findings import Finding
    from earwitness.pipeline.stage import StageResult

    y = F.speech_bed(sr=SR, rng=rng, duration_s=8, noise_amp=0.003)
    path = encode_file(tmp_path / "v.wav", y, sr=SR)
    ctx = make_ctx(path)
    ctx.results["acoustic_events"] = StageResult(
        findings=(
            Finding(kind="acoustic_event", start_s=4.0, end_s=4.2, score=1.0, label="gunshot"),
        )
    )
    res = fx.VoiceBackgroundStage().run(ctx)
    assert res.summary["event_source"] == "acoustic_events stage"
    assert res.summary["events_considered"] == 1
    # the stage's one event is checked (it sits in speech) and reported as an advisory
    assert len(res.findings) == 1 and res.findings[0].start_s == pytest.approx(4.0, abs=0.05)
    assert all(f.advisory for f in res.findings)


def test_calibrated_params_ignore_unknown_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    from earwitness import findings
    from earwitness.forensics import calib

    rates = findings.ErrorRates(
        detector="d",
        summary="s",
        figures={},
        dataset="x",
        produced_by="t",
        measured_at="now",
        params={"coherence_threshold": 0.42, "dataset_size": 3},
    )
    monkeypatch.setattr(calib, "load_error_rates", lambda name: rates)
    p, r = calibrated_params(DuplicateParams, "duplicated_segments")
    assert p.coherence_threshold == 0.42 and r is rates
