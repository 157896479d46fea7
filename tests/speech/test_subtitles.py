"""SRT/WebVTT export round-trips through strict parsers; translation alignment."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from earwitness.speech.options import Segment
from earwitness.speech.subtitles import align_translation, to_srt, to_vtt

from .subtitle_parsers import parse_srt, parse_vtt

_text = st.text(alphabet=st.sampled_from("abc ي ش-->\n."), min_size=0, max_size=20)


@st.composite
def segment_lists(draw: st.DrawFn) -> list[Segment]:
    n = draw(st.integers(0, 12))
    t = 0.0
    out = []
    for _ in range(n):
        t += draw(st.floats(0, 4000))
        dur = draw(st.floats(0, 30))
        out.append(Segment(start=t, end=t + dur, text=draw(_text)))
    return out


@given(segment_lists())
def test_exports_parse_back_strictly(segments: list[Segment]) -> None:
    srt, vtt = parse_srt(to_srt(segments)), parse_vtt(to_vtt(segments))
    kept = [s for s in segments if " ".join(s.text.split())]
    assert len(srt) == len(vtt) == len(kept)
    for (a0, a1, at), (b0, b1, bt), seg in zip(srt, vtt, kept, strict=True):
        assert (a0, a1, at) == (b0, b1, bt)
        assert a0 == pytest.approx(seg.start, abs=0.0015)


@pytest.mark.parametrize("text", ["--->", "a ---> b", "---->>", "-- >", "<-->"])
def test_cue_separator_never_left_in_text(text: str) -> None:
    """Found by Hypothesis: one pass of replacing "-->" turned "--->" back into "-->"."""
    segs = [Segment(start=1.0, end=2.0, text=text)]
    for cues in (parse_srt(to_srt(segs)), parse_vtt(to_vtt(segs))):
        assert len(cues) == 1 and "-->" not in cues[0][2]


def test_known_cue_format() -> None:
    segs = [
        Segment(start=3725.5, end=3727.25, text=" Ask not. "),
        Segment(start=3727.25, end=3730.0, text=""),
    ]
    assert to_srt(segs) == "1\n01:02:05,500 --> 01:02:07,250\nAsk not.\n"
    assert to_vtt(segs) == "WEBVTT\n\n01:02:05.500 --> 01:02:07.250\nAsk not.\n"


def test_translation_goes_to_the_most_overlapping_segment() -> None:
    original = [Segment(0.0, 4.0, "a"), Segment(4.0, 9.0, "b"), Segment(20.0, 22.0, "c")]
    translated = [
        Segment(0.2, 5.0, "one"),
        Segment(5.0, 8.5, "two"),
        Segment(12.0, 13.0, "three"),
        Segment(20.5, 21.0, " "),
    ]
    assert align_translation(original, translated) == ["one", "two three", ""]
    assert align_translation([], translated) == []
