"""Block planning and streamed transcription, with a fake model of known behaviour."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from earwitness.speech.backend import BlockInfo, SpeechBackendRegistry, default_backends
from earwitness.speech.options import ModelInfo, Segment, TranscriptionOptions, Word
from earwitness.speech.transcribe import block_audio, plan_blocks, transcribe_blocks

SR = 16000


@st.composite
def speech_spans(draw: st.DrawFn) -> tuple[list[tuple[int, int]], int]:
    t = 0
    spans = []
    for _ in range(draw(st.integers(0, 15))):
        t += draw(st.integers(0, 5 * SR))
        d = draw(st.integers(1, 40 * SR))
        spans.append((t, t + d))
        t += d
    return spans, t + SR


@settings(max_examples=80, deadline=None)
@given(spans=speech_spans(), block_s=st.sampled_from([5, 30, 600]))
def test_blocks_cover_speech_exactly_and_are_bounded(
    spans: tuple[list[tuple[int, int]], int], block_s: int
) -> None:
    speech, n = spans
    probs = np.random.default_rng(0).random(n // 512 + 1).astype(np.float32)
    blocks = plan_blocks(speech=speech, probs=probs, block_samples=block_s * SR)
    pieces = [p for b in blocks for p in b.speech]
    assert sum(e - s for s, e in pieces) == sum(e - s for s, e in speech)
    for b in blocks:
        assert b.end - b.start <= block_s * SR
        assert b.start == b.speech[0][0] and b.end == b.speech[-1][1]
    assert all(a.end <= b.start for a, b in itertools.pairwise(blocks))


@settings(max_examples=40, deadline=None)
@given(chunk=st.integers(1000, 50000), spans=speech_spans())
def test_block_audio_slices_the_stream_exactly(
    chunk: int, spans: tuple[list[tuple[int, int]], int]
) -> None:
    speech, n = spans
    audio = np.arange(n, dtype=np.float32)
    blocks = plan_blocks(
        speech=speech, probs=np.zeros(n // 512 + 1, np.float32), block_samples=20 * SR
    )
    chunks = (audio[i : i + chunk] for i in range(0, n, chunk))
    for block, got in block_audio(chunks, blocks):
        np.testing.assert_array_equal(got, audio[block.start : block.end])


class FakeModel:
    """Emits one segment per speech span, with the span's first sample value as text, and
    records the calls it receives."""

    cpu_threads = 1

    def __init__(self) -> None:
        self.info = ModelInfo(name="fake", path="/fake", sha256="0" * 64, multilingual=True)
        self.calls: list[tuple[str, str | None, str | None]] = []

    def transcribe(
        self,
        audio: np.ndarray,
        *,
        speech: Sequence[tuple[int, int]],
        task: str,
        language: str | None,
        initial_prompt: str | None,
        options: TranscriptionOptions,
    ) -> tuple[BlockInfo, Iterator[Segment]]:
        self.calls.append((task, language, initial_prompt))
        segs = [
            Segment(
                start=s / SR,
                end=e / SR,
                text=f"{task}:{int(audio[s])}",
                words=(Word("w", s / SR, e / SR, 1.0),),
            )
            for s, e in speech
        ]
        return BlockInfo(language or "ar", 0.75, (("ar", 0.75),)), iter(segs)


def test_streamed_transcription_offsets_and_language() -> None:
    n = 200 * SR
    audio = np.arange(n, dtype=np.float32)
    speech = [(10 * SR, 15 * SR), (40 * SR, 50 * SR), (120 * SR, 125 * SR)]
    blocks = plan_blocks(
        speech=speech, probs=np.zeros(n // 512 + 1, np.float32), block_samples=60 * SR
    )
    assert len(blocks) == 2
    model = FakeModel()
    transcript, translation = transcribe_blocks(
        model=model,
        chunks=(audio[i : i + SR * 7] for i in range(0, n, SR * 7)),
        blocks=blocks,
        options=TranscriptionOptions(),
        translate=lambda lang: lang == "ar",
    )
    assert [(s.start, s.end) for s in transcript.segments] == [(10, 15), (40, 50), (120, 125)]
    assert [s.text for s in transcript.segments] == [
        f"transcribe:{10 * SR}",
        f"transcribe:{40 * SR}",
        f"transcribe:{120 * SR}",
    ]
    assert transcript.segments[2].words[0].start == 120.0
    assert transcript.language == "ar" and transcript.language_probability == 0.75
    assert translation is not None and len(translation.segments) == 3
    # language detected once, then fixed; the previous block's last text is the next prompt
    assert model.calls[0] == ("transcribe", None, None)
    assert model.calls[1] == ("translate", "ar", None)
    assert model.calls[2] == ("transcribe", "ar", f"transcribe:{40 * SR}")
    assert model.calls[3] == ("translate", "ar", f"translate:{40 * SR}")


def test_no_translation_when_not_wanted() -> None:
    audio = np.ones(10 * SR, np.float32)
    blocks = plan_blocks(
        speech=[(SR, 2 * SR)], probs=np.zeros(400, np.float32), block_samples=60 * SR
    )
    model = FakeModel()
    _, translation = transcribe_blocks(
        model=model,
        chunks=[audio],
        blocks=blocks,
        options=TranscriptionOptions(language="en"),
        translate=lambda lang: lang != "en",
    )
    assert translation is None and [c[0] for c in model.calls] == ["transcribe"]


def test_backend_registry_is_explicit() -> None:
    assert "faster-whisper" in default_backends().names()
    reg = SpeechBackendRegistry()
    reg.register(default_backends().get("faster-whisper"))
    import pytest

    from earwitness.errors import NotFoundError

    with pytest.raises(ValueError, match="already registered"):
        reg.register(default_backends().get("faster-whisper"))
    with pytest.raises(NotFoundError, match=r"no speech backend named 'whisper\.cpp'"):
        reg.get("whisper.cpp")
    with pytest.raises(TypeError):
        reg.register(object())  # type: ignore[arg-type]


def test_word_alignment_crash_falls_back_to_segment_times() -> None:
    """faster-whisper 1.2 can raise IndexError in find_alignment; the block is decoded again
    without word timestamps and the problem is noted, not fatal."""
    from types import SimpleNamespace

    from earwitness.speech.faster_whisper_backend import FasterWhisperModel

    class BrokenAlignment:
        def transcribe(self, audio: np.ndarray, *, word_timestamps: bool, **kw: object):  # type: ignore[no-untyped-def]
            def gen():  # type: ignore[no-untyped-def]
                if word_timestamps:
                    raise IndexError("boolean index did not match indexed array")
                yield SimpleNamespace(
                    start=0.0,
                    end=1.0,
                    text=" hello",
                    words=None,
                    avg_logprob=-0.2,
                    no_speech_prob=0.01,
                    compression_ratio=1.1,
                    temperature=0.0,
                )

            info = SimpleNamespace(
                language="ar",
                language_probability=0.9,
                all_language_probs=[("ar", 0.9), ("fa", 0.05)],
            )
            return gen(), info

    info = ModelInfo(name="fake", path="/fake", sha256="0" * 64, multilingual=True)
    model = FasterWhisperModel(info, BrokenAlignment(), 1)
    audio = np.zeros(5 * SR, np.float32)
    blocks = plan_blocks(
        speech=[(2 * SR, 3 * SR)], probs=np.zeros(200, np.float32), block_samples=60 * SR
    )
    transcript, _ = transcribe_blocks(
        model=model, chunks=[audio], blocks=blocks, options=TranscriptionOptions()
    )
    (seg,) = transcript.segments
    assert (seg.start, seg.end, seg.text, seg.words) == (2.0, 3.0, "hello", ())
    assert transcript.language == "ar" and transcript.language_top[0] == ("ar", 0.9)
    assert len(transcript.notes) == 1 and "word timestamps unavailable" in transcript.notes[0]
    assert transcript.notes[0].startswith("2.0-3.0 s (transcribe)")
