"""report.json follows the shipped JSON Schema; malformed reports are rejected."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from earwitness.analysis import AnalysisOutcome, analyze
from earwitness.custody.store import EvidenceStore
from earwitness.findings import Finding
from earwitness.pipeline import AnalyzeOptions
from earwitness.report import SCHEMA_ID, report_schema, validate_report
from earwitness.report.build import sort_findings
from tests.report.fakes import make_recording


def test_schema_file_is_draft_2020_12_and_valid() -> None:
    schema = report_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


def test_written_report_validates(analyzed: AnalysisOutcome) -> None:
    report = json.loads(Path(analyzed.report_json).read_text(encoding="utf-8"))
    validate_report(report)
    assert report["schema"] == SCHEMA_ID
    assert report == analyzed.report


def test_report_contract(analyzed: AnalysisOutcome) -> None:
    r = analyzed.report
    assert r["custody"]["verified"] is True
    assert r["custody"]["sha256_at_analysis"] == r["item"]["sha256"]
    assert r["item"]["probe"]["codec"] == "aac"
    assert r["item"]["sources"][0]["source"] == "https://t.me/example/123"
    starts = [f["start_s"] for f in r["findings"]]
    assert starts == sorted(starts)
    assert [f["id"] for f in r["findings"]] == [f"F{i + 1}" for i in range(len(starts))]
    assert r["summary"]["speech"]["language"] == "ar"
    assert r["language"] == {"code": "ar", "probability": 0.93, "stage": "speech"}
    assert r["limitations"]["stages"]["duplicated_segments"] == ["Test limitation."]
    assert len(r["limitations"]["general"]) >= 3
    by_name = {s["name"]: s for s in r["stages"]}
    assert by_name["edit_points"]["status"] == "failed"
    assert "boom" in by_name["edit_points"]["error"]
    assert by_name["voice_background"]["status"] == "skipped"
    assert by_name["duplicated_segments"]["params"] == {"threshold": 0.5}
    asked = {q["stage"]: q for q in r["questions"]}
    assert asked["edit_points"]["addressed"] is False
    assert asked["duplicated_segments"]["addressed"] is True
    dup = next(f for f in r["findings"] if f["kind"] == "duplicated_segment")
    assert dup["error_rates"]["summary"].startswith("on the validation set")
    assert all(f["error_rates"] is None for f in r["findings"] if f["kind"] == "edit_point")


def test_default_registry_report_validates(tmp_path: Path, rng: np.random.Generator) -> None:
    """Whatever built-in stages exist when this runs, the report must follow the schema."""
    path = make_recording(tmp_path / "in.m4a", rng, seconds=5.0)
    with EvidenceStore.open(tmp_path / "store") as store:
        out = analyze(
            path,
            tmp_path / "out",
            store=store,
            options=AnalyzeOptions(no_asr=True, limits=store.limits),
        )
    validate_report(json.loads(out.report_json.read_text(encoding="utf-8")))
    assert out.report["stages"], "no built-in stage ran"


Mutation = Callable[[dict[str, Any]], None]


def _set(path: str, value: Any) -> Mutation:
    def mutate(r: dict[str, Any]) -> None:
        *head, last = path.split(".")
        node: Any = r
        for key in head:
            node = node[int(key)] if key.isdigit() else node[key]
        node[int(last) if last.isdigit() else last] = value

    return mutate


def _delete(path: str) -> Mutation:
    def mutate(r: dict[str, Any]) -> None:
        *head, last = path.split(".")
        node: Any = r
        for key in head:
            node = node[int(key)] if key.isdigit() else node[key]
        del node[last]

    return mutate


MALFORMED: dict[str, Mutation] = {
    "wrong schema id": _set("schema", "earwitness.report/0"),
    "no findings": _delete("findings"),
    "finding without kind": _delete("findings.0.kind"),
    "negative time": _set("findings.0.start_s", -1.0),
    "end before start": _set("findings.0.end_s", -0.0),
    "bad finding id": _set("findings.0.id", "X1"),
    "score as text": _set("findings.0.score", "high"),
    "error rates without summary": _set("findings.0.error_rates", {"detector": "x"}),
    "bad sha256": _set("item.sha256", "abc"),
    "unknown stage status": _set("stages.0.status", "maybe"),
    "failed stage without error": _set("stages.0.error", None),
    "language probability above 1": _set("language.probability", 1.5),
    "no general limitations": _set("limitations.general", []),
    "custody verified not boolean": _set("custody.verified", "yes"),
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_reports_are_rejected(analyzed: AnalysisOutcome, name: str) -> None:
    report = copy.deepcopy(analyzed.report)
    assert report["stages"][0]["status"] == "failed"  # the mutations rely on this order
    MALFORMED[name](report)
    with pytest.raises(jsonschema.ValidationError):
        validate_report(report)


times = st.floats(min_value=0, max_value=3600, allow_nan=False, allow_infinity=False)


@st.composite
def findings(draw: st.DrawFn) -> Finding:
    a, b = sorted((draw(times), draw(times)))
    return Finding(
        kind=draw(st.sampled_from(["edit_point", "acoustic_event", "transcript", "x_y"])),
        start_s=a,
        end_s=b,
        score=draw(st.floats(allow_nan=True, allow_infinity=True)),
        label=draw(st.text(max_size=30)),
        details={"k": draw(st.floats(allow_nan=True))},
    )


@settings(max_examples=60, deadline=None)
@given(st.lists(findings(), max_size=25))
def test_any_findings_give_a_valid_sorted_report(
    analyzed: AnalysisOutcome, fs: list[Finding]
) -> None:
    report = copy.deepcopy(analyzed.report)
    report["findings"] = sort_findings(f.to_dict() for f in fs)
    validate_report(json.loads(json.dumps(report, allow_nan=False)))
    keys = [(f["start_s"], f["end_s"]) for f in report["findings"]]
    assert keys == sorted(keys)
