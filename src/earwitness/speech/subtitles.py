"""SubRip (SRT) and WebVTT export, and the alignment of a translation to the transcript.

SRT: numbered cues, ``HH:MM:SS,mmm --> HH:MM:SS,mmm``, a blank line between cues.
WebVTT (W3C, "WebVTT: The Web Video Text Tracks Format"): a ``WEBVTT`` header, then cues
with ``HH:MM:SS.mmm --> HH:MM:SS.mmm``; ``-->`` is escaped out of cue text.
"""

from __future__ import annotations

from collections.abc import Sequence

from earwitness.speech.options import Segment


def _stamp(t: float, sep: str) -> str:
    ms = max(0, round(t * 1000))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def _cues(segments: Sequence[Segment]) -> list[tuple[float, float, str]]:
    out: list[tuple[float, float, str]] = []
    for seg in segments:
        text = " ".join(seg.text.split())
        while "-->" in text:  # "--->" becomes "-->" after one pass
            text = text.replace("-->", "->")
        if not text:
            continue
        start = max(seg.start, out[-1][0] if out else 0.0)
        end = max(seg.end, start + 0.001)
        out.append((start, end, text))
    return out


def to_srt(segments: Sequence[Segment]) -> str:
    """SRT text of ``segments`` (empty ones skipped; start times made non-decreasing)."""
    lines: list[str] = []
    for i, (start, end, text) in enumerate(_cues(segments), 1):
        lines += [str(i), f"{_stamp(start, ',')} --> {_stamp(end, ',')}", text, ""]
    return "\n".join(lines)


def to_vtt(segments: Sequence[Segment]) -> str:
    """WebVTT text of ``segments``."""
    lines = ["WEBVTT", ""]
    for start, end, text in _cues(segments):
        lines += [f"{_stamp(start, '.')} --> {_stamp(end, '.')}", text, ""]
    return "\n".join(lines)


def align_translation(original: Sequence[Segment], translated: Sequence[Segment]) -> list[str]:
    """The translation text belonging to each original segment.

    Whisper's translate task makes its own segments. Each translated segment is given to the
    original segment it overlaps most in time (ties: the earlier one; no overlap: the nearest
    by midpoint), so every translated word appears exactly once.
    """
    out: list[list[str]] = [[] for _ in original]
    if not original:
        return []
    for tr in translated:
        text = tr.text.strip()
        if not text:
            continue
        overlaps = [min(o.end, tr.end) - max(o.start, tr.start) for o in original]
        best = max(range(len(original)), key=lambda i: (overlaps[i], -i))
        if overlaps[best] <= 0:
            mid = (tr.start + tr.end) / 2
            best = min(
                range(len(original)),
                key=lambda i: abs((original[i].start + original[i].end) / 2 - mid),
            )
        out[best].append(text)
    return [" ".join(parts) for parts in out]
