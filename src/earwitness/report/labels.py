"""Audacity label track (``labels.txt``): one ``start<TAB>end<TAB>label`` line per finding.

Audacity imports this with *File > Import > Labels*; times are seconds with six decimals.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Label:
    start_s: float
    end_s: float
    text: str


def _clean(text: str) -> str:
    return " ".join(str(text).split())


def label_text(finding: Mapping[str, Any]) -> str:
    """``F3 edit_point: <label>`` on one line (tabs and newlines folded to spaces)."""
    fid = finding.get("id", "")
    return _clean(f"{fid} {finding['kind']}: {finding.get('label', '')}".strip())


def render_labels(report: Mapping[str, Any]) -> str:
    """The label track of a report's findings, sorted by (printed) start then end time."""
    rows = sorted(
        (round(float(f["start_s"]), 6), round(float(f["end_s"]), 6), label_text(f))
        for f in report.get("findings", [])
    )
    return "".join(f"{start:.6f}\t{end:.6f}\t{text}\n" for start, end, text in rows)


def parse_labels(text: str) -> list[Label]:
    """Read an Audacity label track back. Spectral-selection lines (starting ``\\``) are
    ignored. Raises :class:`ValueError` on a malformed line."""
    out: list[Label] = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("\\"):
            continue
        parts = line.split("\t")
        if len(parts) < 2:
            raise ValueError(f"label line {n}: expected start<TAB>end<TAB>label")
        try:
            start, end = float(parts[0]), float(parts[1])
        except ValueError as exc:
            raise ValueError(f"label line {n}: bad time ({exc})") from exc
        if end < start:
            raise ValueError(f"label line {n}: end {end} is before start {start}")
        out.append(Label(start, end, "\t".join(parts[2:])))
    return out
