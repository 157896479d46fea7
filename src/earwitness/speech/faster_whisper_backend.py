"""The built-in speech backend: Whisper (Radford et al. 2022, "Robust Speech Recognition via
Large-Scale Weak Supervision", arXiv:2212.04356) run by faster-whisper on CTranslate2.

Each block is decoded the way ``WhisperModel.transcribe(vad_filter=True)`` decodes a file:
the speech spans are concatenated, decoded, and the times mapped back to the recording with
faster-whisper's own ``restore_speech_timestamps``. Only local directories are loaded
(``local_files_only``); nothing is downloaded.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar

import numpy as np

from earwitness.errors import ModelError
from earwitness.speech.backend import BlockInfo
from earwitness.speech.options import ModelInfo, Segment, TranscriptionOptions, Word

SAMPLE_RATE = 16000


def default_threads() -> int:
    """CTranslate2's default is 4 threads; never more than the machine has."""
    return max(1, min(4, os.cpu_count() or 1))


class FasterWhisperModel:
    """A loaded ``faster_whisper.WhisperModel`` (satisfies :class:`SpeechModel`)."""

    def __init__(self, info: ModelInfo, whisper: Any, cpu_threads: int) -> None:
        self.info = info
        self.cpu_threads = cpu_threads
        self._whisper = whisper

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
        from faster_whisper.transcribe import restore_speech_timestamps

        if task not in ("transcribe", "translate"):
            raise ValueError(f"unknown task {task!r}")
        chunks = [{"start": int(s), "end": int(e)} for s, e in speech if e > s]
        if not chunks:
            return BlockInfo(language or "", 0.0), iter(())
        joined = np.concatenate([audio[c["start"] : c["end"]] for c in chunks])
        joined = np.ascontiguousarray(joined, dtype=np.float32)

        def run(word_timestamps: bool) -> tuple[Any, list[Segment]]:
            segments, info = self._whisper.transcribe(
                joined,
                language=language,
                task=task,
                beam_size=options.beam_size,
                best_of=options.best_of,
                patience=options.patience,
                temperature=list(options.temperatures),
                compression_ratio_threshold=options.compression_ratio_threshold,
                log_prob_threshold=options.log_prob_threshold,
                no_speech_threshold=options.no_speech_threshold,
                condition_on_previous_text=options.condition_on_previous_text,
                initial_prompt=initial_prompt,
                word_timestamps=word_timestamps,
                vad_filter=False,
            )
            restored = restore_speech_timestamps(segments, chunks, SAMPLE_RATE)
            return info, [_convert(s) for s in restored]

        note = None
        try:
            info, segs = run(options.word_timestamps)
        except IndexError as exc:
            # faster-whisper 1.2 crashes in find_alignment when CTranslate2 returns an empty
            # alignment (SYSTRAN/faster-whisper#1342, PR #1460). Decode the block again
            # without word timestamps rather than lose it.
            if not options.word_timestamps:
                raise
            info, segs = run(False)
            note = f"word timestamps unavailable (faster-whisper alignment error: {exc})"
        top = tuple((str(lang), float(p)) for lang, p in (info.all_language_probs or [])[:5])
        block_info = BlockInfo(str(info.language), float(info.language_probability), top, note=note)
        return block_info, iter(segs)


def _convert(seg: Any) -> Segment:
    words = tuple(
        Word(
            word=str(w.word),
            start=float(w.start),
            end=float(w.end),
            probability=float(w.probability),
        )
        for w in (seg.words or ())
    )
    return Segment(
        start=float(seg.start),
        end=float(max(seg.end, seg.start)),
        text=str(seg.text).strip(),
        words=words,
        avg_logprob=float(seg.avg_logprob),
        no_speech_prob=float(seg.no_speech_prob),
        compression_ratio=float(seg.compression_ratio),
        temperature=None if seg.temperature is None else float(seg.temperature),
    )


class FasterWhisperBackend:
    """Loads CTranslate2 Whisper directories with faster-whisper; caches loaded models."""

    name: ClassVar[str] = "faster-whisper"

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str, str, int], Any] = {}

    def available(self) -> str | None:
        try:
            import faster_whisper  # noqa: F401
        except ImportError:
            return "faster-whisper is not installed (pip install 'earwitness[asr]')"
        return None

    def load(self, model: ModelInfo, options: TranscriptionOptions) -> FasterWhisperModel:
        reason = self.available()
        if reason:
            raise ModelError(reason)
        threads = options.cpu_threads or default_threads()
        key = (model.path, model.sha256, options.compute_type, threads)
        if key not in self._cache:
            from faster_whisper import WhisperModel

            try:
                whisper = WhisperModel(
                    model.path,
                    device="cpu",
                    compute_type=options.compute_type,
                    cpu_threads=threads,
                    local_files_only=True,
                )
            except (RuntimeError, ValueError, OSError) as exc:
                raise ModelError(f"{model.path}: cannot load Whisper model ({exc})") from exc
            self._cache.clear()  # keep one model in memory
            self._cache[key] = whisper
        return FasterWhisperModel(model, self._cache[key], threads)
