"""The stage runner: a stage that cannot produce its result fails alone and says why."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

from earwitness import findings
from earwitness.decode import probe
from earwitness.findings import load_error_rates
from earwitness.metadata.stage import MetadataStage
from earwitness.pipeline import AnalysisContext, AnalyzeOptions, StageRegistry, StageResult
from earwitness.pipeline import registry as registry_module
from earwitness.pipeline.registry import default_registry
from earwitness.pipeline.runner import run_stages
from tests.decode.helpers import write_wav

SR = 16000


class _Ok:
    name: ClassVar[str] = "ok_stage"
    version: ClassVar[str] = "1"
    description: ClassVar[str] = "always succeeds"
    requires: ClassVar[tuple[str, ...]] = ()

    def params(self) -> Mapping[str, Any]:
        return {}

    def enabled(self, ctx: AnalysisContext) -> str | None:
        return None

    def run(self, ctx: AnalysisContext) -> StageResult:
        return StageResult(summary={"ran": True})


class _RatesInParams(_Ok):
    """Like the events stage: its parameters come from a calibration file."""

    name: ClassVar[str] = "rates_in_params"

    def params(self) -> Mapping[str, Any]:
        rates = load_error_rates("demo")
        return dict(rates.params) if rates else {}


@pytest.fixture
def corrupt_demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``calibration/demo.json`` and ``calibration/metadata.json`` are damaged; the other
    detectors keep their packaged calibration."""
    real = findings.calibration_file
    bad = tmp_path / "calibration"
    bad.mkdir()
    for name in ("demo", "metadata", "duplicated_segments"):
        (bad / f"{name}.json").write_text('{"detector": "x", "summ', encoding="utf-8")

    def fake(detector: str) -> Any:
        if detector in ("demo", "metadata", "duplicated_segments"):
            return bad / f"{detector}.json"
        return real(detector)

    monkeypatch.setattr(findings, "calibration_file", fake)
    return bad


def _ctx(tmp_path: Path, **options: Any) -> AnalysisContext:
    t = np.arange(SR * 2) / SR
    path = write_wav(tmp_path / "a.wav", sr=SR, samples=0.2 * np.sin(2 * np.pi * 220 * t))
    return AnalysisContext(
        path=path,
        probe=probe(path),
        sha256="0" * 64,
        item_id="item",
        options=AnalyzeOptions(**options),
    )


def test_a_corrupt_calibration_fails_only_the_stage_that_reads_it(
    tmp_path: Path, corrupt_demo: Path
) -> None:
    reg = StageRegistry()
    reg.register(MetadataStage())
    reg.register(_RatesInParams())
    reg.register(_Ok())
    runs = {r.name: r for r in run_stages(_ctx(tmp_path), reg)}
    assert runs["ok_stage"].status == "ok"
    for name in ("metadata", "rates_in_params"):
        assert runs[name].status == "failed"
        assert runs[name].error is not None
        assert runs[name].error.startswith("ModelError: ")
        assert "calibration/" in runs[name].error and "not valid JSON" in runs[name].error


def test_a_stage_that_cannot_be_built_fails_alone(
    tmp_path: Path, corrupt_demo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The forensic stages read their calibration when built: the registry is still made."""
    monkeypatch.setattr(registry_module, "_DEFAULT", None)  # built afresh, restored after
    reg = default_registry()
    assert "duplicated_segments" in reg
    ctx = _ctx(tmp_path, stages=("duplicated_segments", "edit_points"))
    runs = {r.name: r for r in run_stages(ctx, reg)}
    assert runs["duplicated_segments"].status == "failed"
    assert "calibration/duplicated_segments.json" in str(runs["duplicated_segments"].error)
    assert runs["edit_points"].status == "ok"
