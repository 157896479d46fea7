"""build_report without a store: sections, questions, language lifting, sorting."""

from __future__ import annotations

from earwitness.custody.records import ItemRecord, SourceRecord
from earwitness.findings import Finding
from earwitness.pipeline import AnalyzeOptions, StageResult, StageRun
from earwitness.report import validate_report
from earwitness.report.build import STAGE_QUESTIONS, build_report

ITEM = ItemRecord(
    id="0123456789abcdef",
    sha256="0123456789abcdef" * 4,
    size=1234,
    original_name="voice <note>.ogg",
    duration_s=10.0,
    ingested_at="2026-11-25T00:00:00Z",
    probe={
        "format": "ogg",
        "streams": [
            {"index": 0, "type": "audio", "codec": "opus", "sample_rate": 48000, "channels": 1}
        ],
        "audio_stream": 0,
        "tags": {"title": "x"},
    },
    sources=(
        SourceRecord(
            source=None,
            original_name="voice <note>.ogg",
            collected_at=None,
            ingested_at="2026-11-25T00:00:00Z",
            host="h",
            user="u",
        ),
    ),
)


def _run(name: str, *findings: Finding, summary: dict[str, object] | None = None) -> StageRun:
    return StageRun(
        name=name,
        version="1",
        description=f"{name} method",
        status="ok",
        elapsed_s=0.5,
        params={"p": 1},
        result=StageResult(findings=findings, summary=summary or {}),
    )


def test_report_without_store_is_valid_and_says_so() -> None:
    report = build_report(item=ITEM, runs=[], options=AnalyzeOptions(), store=None)
    validate_report(report)
    assert report["custody"]["verified"] is False
    assert report["custody"]["sha256_at_analysis"] is None
    assert report["findings"] == [] and report["language"] is None
    assert report["item"]["probe"]["codec"] == "opus"


def test_findings_sorted_and_numbered_across_stages() -> None:
    a = _run(
        "edit_points", Finding(kind="edit_point", start_s=5.0, end_s=5.0, score=1.0, label="b")
    )
    b = _run(
        "acoustic_events",
        Finding(kind="acoustic_event", start_s=1.0, end_s=2.0, score=1.0, label="a"),
        Finding(kind="acoustic_event", start_s=5.0, end_s=6.0, score=1.0, label="c"),
    )
    report = build_report(item=ITEM, runs=[a, b], options=AnalyzeOptions(), store=None)
    validate_report(report)
    assert [(f["id"], f["label"]) for f in report["findings"]] == [
        ("F1", "a"),
        ("F2", "b"),
        ("F3", "c"),
    ]
    assert report["finding_counts"] == {"acoustic_event": 2, "edit_point": 1}


def test_questions_and_language() -> None:
    speech = _run("speech", summary={"language": "ps", "language_probability": 0.81})
    plugin = _run("my_plugin", summary={"questions": ["Is the hum 50 Hz?"]})
    opts = AnalyzeOptions(watchlist=("Abu X",))
    report = build_report(item=ITEM, runs=[speech, plugin], options=opts, store=None)
    validate_report(report)
    asked = [q["question"] for q in report["questions"]]
    assert asked[0] == STAGE_QUESTIONS["speech"]
    assert "Is the hum 50 Hz?" in asked
    assert any("Abu X" in q for q in asked)
    assert report["language"] == {"code": "ps", "probability": 0.81, "stage": "speech"}
    assert report["summary"]["speech"]["language"] == "ps"
