"""The analyze job: ingest first, run every stage (failures recorded), write and keep files."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

from earwitness.analysis import analyze
from earwitness.custody.store import EvidenceStore
from earwitness.errors import InputError
from earwitness.pipeline import AnalysisContext, StageResult
from earwitness.report import validate_report
from tests.report.fakes import fake_registry, make_recording


class ArtifactStage:
    name: ClassVar[str] = "compression"
    version: ClassVar[str] = "0.0-test"
    description: ClassVar[str] = "Writes artifacts, some with names it may not use."
    requires: ClassVar[tuple[str, ...]] = ()

    def params(self) -> Mapping[str, Any]:
        return {}

    def enabled(self, ctx: AnalysisContext) -> str | None:
        return None

    def run(self, ctx: AnalysisContext) -> StageResult:
        return StageResult(
            artifacts={"transcript.srt": b"1\n", "../escape.txt": b"x", "report.json": b"{}"}
        )


@pytest.fixture
def store(tmp_path: Path) -> EvidenceStore:
    return EvidenceStore.open(tmp_path / "store")


def test_failing_stage_is_recorded_and_others_run(
    tmp_path: Path, rng: np.random.Generator, store: EvidenceStore
) -> None:
    path = make_recording(tmp_path / "a.m4a", rng, seconds=3.0)
    out = analyze(path, tmp_path / "out", store=store, registry=fake_registry())
    status = {r.name: r.status for r in out.runs}
    assert status == {
        "edit_points": "failed",
        "voice_background": "skipped",
        "duplicated_segments": "ok",
        "speech": "ok",
    }
    failed = next(s for s in out.report["stages"] if s["name"] == "edit_points")
    assert failed["error"].startswith("RuntimeError: boom")
    assert {f["stage"] for f in out.report["findings"]} == {"duplicated_segments", "speech"}
    for name in ("report.json", "report.html", "labels.txt"):
        assert (tmp_path / "out" / name).stat().st_size > 0
    validate_report(json.loads((tmp_path / "out" / "report.json").read_text("utf-8")))


def test_report_is_kept_in_the_store_and_audited(
    tmp_path: Path, rng: np.random.Generator, store: EvidenceStore
) -> None:
    path = make_recording(tmp_path / "a.m4a", rng, seconds=3.0)
    out = analyze(path, tmp_path / "out", store=store, registry=fake_registry(broken=False))
    assert out.stored_at is not None
    assert (out.stored_at / "report.json").read_bytes() == out.report_json.read_bytes()
    actions = [e.action for e in store.audit_entries(out.item_id)]
    assert actions[0] == "ingest" and actions[-1] == "analysis"
    # the report's custody section names the chain head as it was before this analysis
    assert out.report["custody"]["audit_head"]["seq"] < store.audit_entries()[-1].seq


def test_second_analysis_recognises_the_duplicate(
    tmp_path: Path, rng: np.random.Generator, store: EvidenceStore
) -> None:
    path = make_recording(tmp_path / "a.m4a", rng, seconds=2.0)
    first = analyze(path, tmp_path / "o1", store=store, registry=fake_registry(broken=False))
    second = analyze(
        path,
        tmp_path / "o2",
        store=store,
        registry=fake_registry(broken=False),
        source="second sighting",
    )
    assert first.item_id == second.item_id
    assert len(store.items()) == 1
    assert [s["source"] for s in second.report["item"]["sources"]][-1] == "second sighting"


def test_artifacts_cannot_escape_or_replace_the_report(
    tmp_path: Path, rng: np.random.Generator, store: EvidenceStore
) -> None:
    from earwitness.pipeline import StageRegistry

    reg = StageRegistry()
    reg.register(ArtifactStage())
    path = make_recording(tmp_path / "a.m4a", rng, seconds=2.0)
    out = analyze(path, tmp_path / "out", store=store, registry=reg)
    assert (tmp_path / "out" / "transcript.srt").read_bytes() == b"1\n"
    assert not (tmp_path / "escape.txt").exists()
    assert json.loads(out.report_json.read_text("utf-8"))["schema"] == "earwitness.report/1"


@pytest.mark.parametrize(
    ("content", "reason"),
    [(b"", "empty"), (b"this is not audio at all" * 50, "not a readable")],
)
def test_bad_file_raises_input_error_naming_it(
    tmp_path: Path, store: EvidenceStore, content: bytes, reason: str
) -> None:
    bad = tmp_path / "statement.mp3"
    bad.write_bytes(content)
    with pytest.raises(InputError, match=reason) as info:
        analyze(bad, tmp_path / "out", store=store, registry=fake_registry())
    assert "statement.mp3" in str(info.value)
    assert not (tmp_path / "out").exists()
    assert store.items() == []
