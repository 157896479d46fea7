"""Strict SRT and WebVTT parsers used by the tests to check exported subtitles."""

from __future__ import annotations

import re

_SRT_TIME = re.compile(
    r"^(\d{2}):([0-5]\d):([0-5]\d),(\d{3}) --> (\d{2}):([0-5]\d):([0-5]\d),(\d{3})$"
)
_VTT_TIME = re.compile(
    r"^(\d{2}):([0-5]\d):([0-5]\d)\.(\d{3}) --> (\d{2}):([0-5]\d):([0-5]\d)\.(\d{3})$"
)


def _secs(g: tuple[str, ...]) -> tuple[float, float]:
    v = [int(x) for x in g]
    return (
        v[0] * 3600 + v[1] * 60 + v[2] + v[3] / 1000,
        v[4] * 3600 + v[5] * 60 + v[6] + v[7] / 1000,
    )


def _check_times(cues: list[tuple[float, float, str]]) -> None:
    for i, (start, end, text) in enumerate(cues):
        assert end > start, f"cue {i + 1}: end {end} not after start {start}"
        assert text.strip(), f"cue {i + 1}: empty text"
        assert "-->" not in text
        if i:
            assert start >= cues[i - 1][0], f"cue {i + 1}: start goes backwards"


def parse_srt(text: str) -> list[tuple[float, float, str]]:
    """Parse SRT strictly: numbering from 1, ``HH:MM:SS,mmm --> HH:MM:SS,mmm``, text lines,
    one blank line between cues, times non-decreasing. Raises AssertionError otherwise."""
    cues: list[tuple[float, float, str]] = []
    if not text.strip():
        return cues
    assert not text.startswith("\n")
    blocks = text.rstrip("\n").split("\n\n")
    for i, block in enumerate(blocks, 1):
        lines = block.split("\n")
        assert len(lines) >= 3, f"cue {i}: needs number, times and text: {lines!r}"
        assert lines[0] == str(i), f"cue numbered {lines[0]!r}, expected {i}"
        m = _SRT_TIME.match(lines[1])
        assert m, f"cue {i}: bad time line {lines[1]!r}"
        start, end = _secs(m.groups())
        cues.append((start, end, "\n".join(lines[2:])))
    _check_times(cues)
    return cues


def parse_vtt(text: str) -> list[tuple[float, float, str]]:
    """Parse WebVTT strictly: ``WEBVTT`` header line, blank line, cues of
    ``HH:MM:SS.mmm --> HH:MM:SS.mmm`` plus text, times non-decreasing."""
    lines = text.split("\n")
    assert lines[0] == "WEBVTT", "missing WEBVTT header"
    assert len(lines) == 1 or lines[1] == "", "header must be followed by a blank line"
    cues: list[tuple[float, float, str]] = []
    body = "\n".join(lines[2:]).strip("\n")
    if not body:
        return cues
    for block in body.split("\n\n"):
        blines = block.split("\n")
        m = _VTT_TIME.match(blines[0])
        assert m, f"bad cue timing line {blines[0]!r}"
        assert len(blines) >= 2
        start, end = _secs(m.groups())
        cues.append((start, end, "\n".join(blines[1:])))
    _check_times(cues)
    return cues
