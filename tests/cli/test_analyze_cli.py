"""``earwitness analyze`` and ``earwitness demo`` from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from earwitness.cli.main import main
from earwitness.pipeline import StageRegistry
from earwitness.report import parse_labels, validate_report
from tests.report.fakes import fake_registry, make_recording


@pytest.fixture
def fake_stages(monkeypatch: pytest.MonkeyPatch) -> StageRegistry:
    reg = fake_registry()
    monkeypatch.setattr("earwitness.pipeline.runner.default_registry", lambda: reg)
    monkeypatch.setattr("earwitness.cli.demo_cmd.default_registry", lambda: reg)
    return reg


def test_analyze_writes_the_three_files(
    tmp_path: Path,
    rng: np.random.Generator,
    fake_stages: StageRegistry,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = make_recording(tmp_path / "in.m4a", rng, seconds=5.0)
    out = tmp_path / "out"
    code = main(
        [
            "analyze",
            str(path),
            "--out",
            str(out),
            "--store",
            str(tmp_path / "s"),
            "--no-asr",
            "--json",
        ]
    )
    assert code == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["failed_stages"] == ["edit_points"]
    report = json.loads((out / "report.json").read_text("utf-8"))
    validate_report(report)
    assert report["options"]["no_asr"] is True
    speech = next(s for s in report["stages"] if s["name"] == "speech")
    assert speech["status"] == "skipped"  # --no-asr reached the stage's enabled()
    assert len(parse_labels((out / "labels.txt").read_text("utf-8"))) == printed["findings"]
    assert '<table id="findings">' in (out / "report.html").read_text("utf-8")


def test_analyze_human_output_names_the_report(
    tmp_path: Path,
    rng: np.random.Generator,
    fake_stages: StageRegistry,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = make_recording(tmp_path / "in.m4a", rng, seconds=2.0)
    assert (
        main(["analyze", str(path), "--out", str(tmp_path / "o"), "--store", str(tmp_path / "s")])
        == 0
    )
    text = capsys.readouterr().out
    assert "edit_points              failed (RuntimeError: boom" in text
    assert f"report: {tmp_path / 'o' / 'report.html'}" in text


def test_bad_file_exits_1_naming_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "garbage.ogg"
    bad.write_bytes(b"\x00\x01 definitely not a container " * 40)
    code = main(["analyze", str(bad), "--out", str(tmp_path / "o"), "--store", str(tmp_path / "s")])
    assert code == 1
    err = capsys.readouterr().err
    assert err.startswith(f"earwitness: error: {bad}: not a readable audio or video file")


def test_missing_file_exits_1_naming_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.mp3"
    assert (
        main(
            ["analyze", str(missing), "--out", str(tmp_path / "o"), "--store", str(tmp_path / "s")]
        )
        == 1
    )
    assert f"{missing}: cannot read file" in capsys.readouterr().err


def test_demo_with_stand_in_stages(
    tmp_path: Path, fake_stages: StageRegistry, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--out", str(tmp_path / "demo"), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert Path(printed["store"]) == tmp_path / "demo" / "store"
    assert printed["ground_truth"]["gunshot_starts_s"] == [4.3, 9.85, 19.4]
    validate_report(json.loads(Path(printed["report_json"]).read_text("utf-8")))


@pytest.mark.slow
def test_demo_end_to_end_with_builtin_stages(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The real demo: every built-in stage (speech only if a model is installed)."""
    assert main(["demo", "--out", str(tmp_path / "demo"), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    report = json.loads(Path(printed["report_json"]).read_text("utf-8"))
    validate_report(report)
    assert report["custody"]["verified"] is True
    assert Path(printed["report_html"]).stat().st_size > 10_000
    # The staged manipulations are found: both later gunshots as copies of an earlier one,
    # and the splice as an edit point within 50 ms.
    truth = printed["ground_truth"]
    copies = [f for f in report["findings"] if f["kind"] == "duplicated_segment"]
    shots = truth["gunshot_starts_s"]
    for start in shots[1:]:
        assert any(abs(f["start_s"] - start) < 0.1 for f in copies), (start, copies)
    assert all(abs(f["details"]["source_start_s"] - shots[0]) < 0.1 for f in copies)
    edits = [f["start_s"] for f in report["findings"] if f["kind"] == "edit_point"]
    assert any(abs(t - truth["splice_s"]) <= 0.05 for t in edits), edits
    gunfire = [
        f for f in report["findings"] if f["kind"] == "acoustic_event" and f["label"] == "gunfire"
    ]
    assert gunfire
