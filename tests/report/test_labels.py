"""labels.txt is an Audacity label track that parses back to the findings."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from earwitness.analysis import AnalysisOutcome
from earwitness.report import parse_labels, render_labels

LINE = re.compile(r"^\d+\.\d{6}\t\d+\.\d{6}\t[^\t\n]+$")


def test_written_labels_follow_the_audacity_format(analyzed: AnalysisOutcome) -> None:
    text = Path(analyzed.labels).read_text(encoding="utf-8")
    lines = text.splitlines()
    assert len(lines) == len(analyzed.report["findings"])
    assert all(LINE.match(line) for line in lines), lines
    labels = parse_labels(text)
    for label, f in zip(labels, analyzed.report["findings"], strict=True):
        assert label.start_s == pytest.approx(f["start_s"], abs=1e-6)
        assert label.end_s == pytest.approx(f["end_s"], abs=1e-6)
        assert label.text.startswith(f"{f['id']} {f['kind']}: ")


def _finding(start: float, end: float, label: str) -> dict[str, object]:
    return {"id": "F1", "kind": "edit_point", "start_s": start, "end_s": end, "label": label}


def test_tabs_and_newlines_in_labels_are_folded() -> None:
    text = render_labels({"findings": [_finding(1.0, 2.0, "a\tb\nc")]})
    assert text == "1.000000\t2.000000\tF1 edit_point: a b c\n"


def test_empty_report_gives_empty_track() -> None:
    assert render_labels({"findings": []}) == ""
    assert parse_labels("") == []


@pytest.mark.parametrize("bad", ["1.0\n", "x\t2.0\tlabel\n", "3.0\t2.0\tbackwards\n"])
def test_malformed_tracks_are_rejected(bad: str) -> None:
    with pytest.raises(ValueError, match="label line 1"):
        parse_labels(bad)


def test_spectral_selection_lines_are_ignored() -> None:
    labels = parse_labels("1.0\t2.0\tshot\n\\\t100.0\t4000.0\n")
    assert [(x.start_s, x.end_s, x.text) for x in labels] == [(1.0, 2.0, "shot")]


spans = st.tuples(
    st.floats(min_value=0, max_value=1e5, allow_nan=False),
    st.floats(min_value=0, max_value=100, allow_nan=False),
    st.text(min_size=0, max_size=20),
)


@settings(max_examples=80, deadline=None)
@given(st.lists(spans, max_size=30))
def test_labels_round_trip_sorted(items: list[tuple[float, float, str]]) -> None:
    findings = [_finding(s, s + d, text) for s, d, text in items]
    labels = parse_labels(render_labels({"findings": findings}))
    assert len(labels) == len(findings)
    keys = [(x.start_s, x.end_s) for x in labels]
    assert keys == sorted(keys)
    expected = sorted((round(s, 6), round(s + d, 6)) for s, d, _ in items)
    flat = [t for k in keys for t in k]
    assert flat == pytest.approx([t for k in expected for t in k], abs=1e-6)
