"""Streamed transcription of a whole recording in bounded memory.

The recording arrives as 16 kHz mono chunks. Speech spans found by the VAD are grouped into
blocks of at most ``block_s`` seconds; each block's audio is cut from a rolling buffer, handed
to the model (transcription, then translation when asked), and dropped. Only one block of
audio plus one decoder chunk is held at a time, so a 2-hour recording needs no more memory
than a 10-minute one. The language is detected on the first block and then fixed; the text of
a block's last segment is the prompt of the next one (Whisper's conditioning on previous text).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from earwitness.speech.backend import SpeechModel
from earwitness.speech.options import Segment, Transcript, TranscriptionOptions
from earwitness.speech.vad import FRAME, SAMPLE_RATE


@dataclass(frozen=True)
class Block:
    """A span of the recording (samples) and the speech spans inside it (absolute samples)."""

    start: int
    end: int
    speech: tuple[tuple[int, int], ...]


def plan_blocks(
    *, speech: list[tuple[int, int]], probs: np.ndarray, block_samples: int
) -> list[Block]:
    """Group sorted speech spans into blocks spanning at most ``block_samples``.

    A single span longer than that is split at the least speech-like 32 ms frame of the last
    fifth of each block-sized window (so cuts fall in pauses where there are any).
    """
    pieces: list[tuple[int, int]] = []
    for s, e in speech:
        while e - s > block_samples:
            lo = s + (block_samples * 4) // 5
            hi = s + block_samples
            f_lo, f_hi = lo // FRAME, max(lo // FRAME + 1, hi // FRAME)
            window = probs[f_lo:f_hi]
            cut = (f_lo + int(np.argmin(window))) * FRAME if window.size else hi
            cut = min(max(cut, s + 1), hi)
            pieces.append((s, cut))
            s = cut
        pieces.append((s, e))
    blocks: list[Block] = []
    cur: list[tuple[int, int]] = []
    for s, e in pieces:
        if cur and e - cur[0][0] > block_samples:
            blocks.append(Block(cur[0][0], cur[-1][1], tuple(cur)))
            cur = []
        cur.append((s, e))
    if cur:
        blocks.append(Block(cur[0][0], cur[-1][1], tuple(cur)))
    return blocks


def block_audio(
    chunks: Iterable[np.ndarray], blocks: list[Block]
) -> Iterator[tuple[Block, np.ndarray]]:
    """Yield each block with its samples, reading ``chunks`` once and keeping only what the
    current block needs."""
    it = iter(chunks)
    parts: list[np.ndarray] = []
    buf_start = 0  # absolute sample index of parts[0][0]
    buf_len = 0
    exhausted = False
    for block in blocks:
        while buf_start + buf_len < block.end and not exhausted:
            nxt = next(it, None)
            if nxt is None:
                exhausted = True
                break
            parts.append(np.asarray(nxt, dtype=np.float32).reshape(-1))
            buf_len += parts[-1].shape[0]
        # drop whole parts that end before the block starts
        while parts and buf_start + parts[0].shape[0] <= block.start:
            buf_start += parts[0].shape[0]
            buf_len -= parts[0].shape[0]
            parts.pop(0)
        joined = np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)
        a = max(0, block.start - buf_start)
        yield block, joined[a : block.end - buf_start]


@dataclass(frozen=True)
class _Acc:
    segments: list[Segment]
    notes: list[str]
    language: str
    language_probability: float
    language_top: tuple[tuple[str, float], ...]


def transcribe_blocks(
    *,
    model: SpeechModel,
    chunks: Iterable[np.ndarray],
    blocks: list[Block],
    options: TranscriptionOptions,
    translate: Callable[[str], bool] | None = None,
    on_segment: Callable[[str, Segment], None] | None = None,
) -> tuple[Transcript, Transcript | None]:
    """Transcribe every block; also translate to English when ``translate(language)`` says so
    (it is asked once, after the language is known). Returns (transcript, translation|None).
    Segment and word times are seconds of the recording.
    """
    tasks: dict[str, _Acc] = {}
    language = options.language
    do_translate: bool | None = None

    def decode(task: str, block: Block, audio: np.ndarray) -> str:
        speech = [(s - block.start, e - block.start) for s, e in block.speech]
        offset = block.start / SAMPLE_RATE
        acc = tasks.get(task)
        prompt = None
        if options.condition_on_previous_text and acc and acc.segments:
            prompt = acc.segments[-1].text
        info, segs = model.transcribe(
            audio,
            speech=speech,
            task=task,
            language=language,
            initial_prompt=prompt,
            options=options,
        )
        if acc is None:
            acc = _Acc([], [], info.language, info.language_probability, info.language_top)
            tasks[task] = acc
        if info.note:
            acc.notes.append(f"{offset:.1f}-{block.end / SAMPLE_RATE:.1f} s ({task}): {info.note}")
        for seg in segs:
            shifted = _shift(seg, offset)
            acc.segments.append(shifted)
            if on_segment:
                on_segment(task, shifted)
        return info.language

    for block, audio in block_audio(chunks, blocks):
        detected = decode("transcribe", block, audio)
        if language is None:
            language = detected
        if do_translate is None:
            do_translate = bool(translate and language and translate(language))
        if do_translate:
            decode("translate", block, audio)
    first = tasks.get("transcribe")
    lang = first.language if first else (options.language or "")
    prob = first.language_probability if first else 0.0
    top = first.language_top if first else ()

    def build(task: str) -> Transcript:
        acc = tasks.get(task) or _Acc([], [], lang, prob, ())
        return Transcript(
            task=task,
            language=lang if task == "transcribe" else "en",
            language_probability=prob,
            segments=tuple(acc.segments),
            model=model.info,
            options=options,
            language_top=top,
            cpu_threads=model.cpu_threads,
            notes=tuple(acc.notes),
        )

    return build("transcribe"), build("translate") if "translate" in tasks else None


def _shift(seg: Segment, offset: float) -> Segment:
    if offset == 0.0:
        return seg
    from dataclasses import replace

    words = tuple(replace(w, start=w.start + offset, end=w.end + offset) for w in seg.words)
    return replace(seg, start=seg.start + offset, end=seg.end + offset, words=words)
