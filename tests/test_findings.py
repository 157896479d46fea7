"""Loading the stored calibration (error rates) of a detector."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from earwitness import findings
from earwitness.errors import ModelError
from earwitness.findings import load_error_rates

GOOD = {
    "detector": "demo",
    "summary": "recall 0.9 on 10 files",
    "figures": {"recall": 0.9},
    "dataset": "ten files",
    "produced_by": "tests",
    "measured_at": "2026-12-02",
}


def _use_dir(monkeypatch: pytest.MonkeyPatch, root: Path) -> None:
    monkeypatch.setattr(findings, "calibration_file", lambda d: root / "calibration" / f"{d}.json")


def _write(root: Path, text: str) -> Path:
    path = root / "calibration" / "demo.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_packaged_calibration_loads() -> None:
    rates = load_error_rates("metadata")
    assert rates is not None and rates.detector == "metadata"


def test_no_calibration_is_none(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _use_dir(monkeypatch, tmp_path)
    assert load_error_rates("demo") is None


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('{"detector": "demo", "summ', "not valid JSON"),
        ("[1, 2]", "not a JSON object"),
        (json.dumps({k: v for k, v in GOOD.items() if k != "summary"}), "missing key 'summary'"),
        (json.dumps({**GOOD, "figures": {"recall": "high"}}), "figure 'recall'"),
        (json.dumps({**GOOD, "figures": [0.9]}), "'figures' is not a JSON object"),
    ],
)
def test_a_bad_calibration_is_a_model_error_naming_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, reason: str
) -> None:
    _use_dir(monkeypatch, tmp_path)
    path = _write(tmp_path, text)
    with pytest.raises(ModelError) as err:
        load_error_rates("demo")
    assert str(path) in str(err.value)
    assert "calibration/demo.json" in str(err.value)
    assert reason in str(err.value)
