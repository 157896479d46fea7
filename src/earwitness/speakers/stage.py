"""The ``speakers`` stage: diarization, comparison with the voice library, archive recurrence.

Options (``AnalyzeOptions.extra["speakers"]``): ``embedder`` (registry name),
``merge_distance``, ``hop_s``, ``match_top_k`` (library voices reported per speaker),
``min_llr`` (natural-log LR below which a comparison is marked advisory and a recurrence is not
reported), ``max_new_profiles`` (archive items profiled lazily per run).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any, ClassVar

import numpy as np

from earwitness.findings import Finding
from earwitness.pipeline.context import AnalysisContext
from earwitness.pipeline.stage import StageResult
from earwitness.speakers.archive import SpeakerCache, analyse_chunks, profile_from
from earwitness.speakers.calibration import SpeakerCalibration, load_speaker_calibration
from earwitness.speakers.diarize import Diarization, DiarizationParams, SpeakerCluster
from earwitness.speakers.embedder import (
    DEFAULT_EMBEDDER,
    SpeakerEmbedder,
    embedder_unavailable_reason,
    get_embedder,
)
from earwitness.speakers.library import VoiceLibrary
from earwitness.speakers.windows import WindowParams


@dataclass(frozen=True)
class SpeakersOptions:
    embedder: str = DEFAULT_EMBEDDER
    merge_distance: float = DiarizationParams.merge_distance
    hop_s: float = WindowParams.hop_s
    match_top_k: int = 3
    min_llr: float = round(math.log(10), 4)
    max_new_profiles: int = 25

    @classmethod
    def from_mapping(cls, m: Mapping[str, Any]) -> SpeakersOptions:
        known = {f.name for f in fields(cls)}
        unknown = set(m) - known
        if unknown:
            raise ValueError(f"unknown speakers option(s): {', '.join(sorted(unknown))}")
        return cls(**{k: type(getattr(cls(), k))(v) for k, v in m.items()})


def domain_caution(ctx: AnalysisContext, cal: SpeakerCalibration, speech_s: float) -> str:
    """The domain-shift warning printed beside every LLR."""
    parts = [
        f"Calibrated on {cal.rates.dataset}; LLRs are valid only for material like it.",
    ]
    a = ctx.probe.audio
    codec = getattr(a, "codec", None)
    rate = getattr(a, "sample_rate", None)
    if codec or rate:
        parts.append(
            f"This recording ({codec or 'unknown codec'}, {rate or '?'} Hz) may differ "
            "in channel, codec, language, emotion and duration."
        )
    parts.append(
        "Telephone and low-bitrate codecs, noise, music, shouting and languages not "
        "in the calibration data are not validated and can push LLRs far from their "
        "true value in either direction."
    )
    if speech_s < 10:
        parts.append(
            f"Only {speech_s:.1f} s of this voice were available; short speech makes "
            "the comparison less reliable."
        )
    return " ".join(parts)


class SpeakersStage:
    name: ClassVar[str] = "speakers"
    version: ClassVar[str] = "1.0.0"
    description: ClassVar[str] = (
        "Diarization by agglomerative clustering of GE2E speaker-embedding windows; each "
        "speaker compared with the reference voice library and the archive as calibrated "
        "log-likelihood ratios."
    )
    requires: ClassVar[tuple[str, ...]] = ()
    heavy: ClassVar[bool] = True

    def __init__(
        self, calibration: Callable[[], SpeakerCalibration | None] = load_speaker_calibration
    ) -> None:
        self._load_calibration = calibration

    def _options(self, ctx: AnalysisContext | None) -> SpeakersOptions:
        extra = ctx.options.extra.get("speakers", {}) if ctx is not None else {}
        return SpeakersOptions.from_mapping(extra)

    def params(self) -> Mapping[str, Any]:
        opts = SpeakersOptions()
        return {
            **asdict(opts),
            "diarization": asdict(DiarizationParams()),
            "windows": asdict(WindowParams()),
        }

    def enabled(self, ctx: AnalysisContext) -> str | None:
        return embedder_unavailable_reason(self._options(ctx).embedder)

    def run(self, ctx: AnalysisContext) -> StageResult:
        opts = self._options(ctx)
        embedder = get_embedder(opts.embedder)
        wparams = WindowParams(hop_s=opts.hop_s)
        dparams = DiarizationParams(merge_distance=opts.merge_distance)
        speech = ctx.results.get("speech")
        segs = speech.summary.get("speech_segments") if speech is not None else None
        activity = [(float(s), float(e)) for s, e in segs] if segs is not None else None
        windows, dia = analyse_chunks(
            chunks=ctx.chunks(sr=embedder.sample_rate, mono=True),
            embedder=embedder,
            activity=activity,
            window_params=wparams,
            diarization_params=dparams,
        )
        findings: list[Finding] = []
        method = f"{embedder.name} {embedder.version} windows + average-linkage clustering"
        for t in dia.turns:
            sp = next(s for s in dia.speakers if s.label == t.speaker)
            findings.append(
                Finding(
                    kind="speaker_turn",
                    start_s=t.start_s,
                    end_s=t.end_s,
                    score=1.0,
                    label=t.speaker,
                    method=method,
                    details={
                        "speaker": t.speaker,
                        "speaker_count": dia.speaker_count,
                        "cluster": {
                            "windows": sp.n_windows,
                            "speech_s": round(sp.speech_s, 2),
                            "merge_distance": dparams.merge_distance,
                        },
                    },
                )
            )
        limitations = [
            "Diarization assumes one talker at a time: overlapping speech is given to one "
            "speaker or forms a cluster of its own.",
            "Talkers whose speech comes in short bursts can be split into several clusters "
            "(see docs/benchmarks/speakers.md): treat the speaker count as an upper estimate.",
            "Turn boundaries are accurate to about the window hop "
            f"({wparams.hop_s} s) plus half a window ({embedder.window_s / 2} s).",
        ]
        summary: dict[str, Any] = {
            "speaker_count": dia.speaker_count,
            "speaker_time_s": {s.label: round(s.speech_s, 2) for s in dia.speakers},
            "speakers": [
                {
                    "label": s.label,
                    "speech_s": round(s.speech_s, 2),
                    "turns": sum(1 for t in dia.turns if t.speaker == s.label),
                }
                for s in dia.speakers
            ],
            "windows": len(windows),
            "activity_source": "speech stage" if activity is not None else "energy detector",
            "embedder": f"{embedder.name} {embedder.version}",
        }
        cal = self._load_calibration()
        if cal is not None and cal.embedder != embedder.name:
            limitations.append(
                f"The speaker calibration is for {cal.embedder!r}, not {embedder.name!r}: "
                "no comparison is reported."
            )
            cal = None
        elif cal is None:
            limitations.append(
                "No speaker calibration file: comparisons are not reported "
                "(raw similarity scores are never shown)."
            )
        if ctx.store is None:
            summary["library"] = "no evidence store: library and archive not searched"
        elif not dia.speakers:
            summary["library"] = "no speaker found: nothing compared"
        elif cal is None:
            summary["library"] = "not compared: no usable speaker calibration"
        else:
            findings += self._library(ctx, cal, dia, opts, summary, limitations)
            findings += self._archive(ctx, embedder, cal, dia, opts, summary)
        if ctx.store is not None:
            SpeakerCache(ctx.store, embedder).save(
                profile_from(
                    item_id=ctx.item_id, sha256=ctx.sha256, embedder=embedder, diarization=dia
                )
            )
        return StageResult(
            findings=tuple(findings),
            params={
                **asdict(opts),
                "diarization": asdict(dparams),
                "windows": asdict(wparams),
            },
            summary=summary,
            limitations=tuple(limitations),
        )

    @staticmethod
    def _span(dia: Diarization, sp: SpeakerCluster) -> tuple[float, float]:
        ts = [t for t in dia.turns if t.speaker == sp.label]
        return (ts[0].start_s, ts[-1].end_s) if ts else (0.0, 0.0)

    def _library(
        self,
        ctx: AnalysisContext,
        cal: SpeakerCalibration,
        dia: Diarization,
        opts: SpeakersOptions,
        summary: dict[str, Any],
        limitations: list[str],
    ) -> list[Finding]:
        assert ctx.store is not None
        entries = VoiceLibrary(ctx.store).entries()
        voices = [v for v in entries if v.embedder == cal.embedder]
        skipped: dict[str, list[str]] = {}
        for v in entries:
            if v.embedder != cal.embedder:
                skipped.setdefault(v.embedder, []).append(v.name)
        n_skipped = len(entries) - len(voices)
        skip_note = ""
        if skipped:
            summary["library_skipped"] = skipped
            others = ", ".join(repr(e) for e in sorted(skipped))
            skip_note = f"{n_skipped} reference voice(s) skipped (enrolled with {others})"
            limitations.append(
                f"{n_skipped} reference voice(s) in the library were enrolled with {others}, "
                f"not {cal.embedder!r} (the embedder of the speaker calibration), and were not "
                "compared: "
                + "; ".join(f"{e}: {', '.join(n)}" for e, n in sorted(skipped.items()))
                + ". Enrol them again with this embedder to compare them."
            )
        if not voices:
            summary["library"] = (
                f"no comparison made: {skip_note}"
                if skipped
                else "the reference voice library is empty: no comparison made"
            )
            return []
        summary["library"] = f"{len(voices)} reference voice(s) compared" + (
            f"; {skip_note}" if skipped else ""
        )
        refs = np.stack([v.vector for v in voices])
        out: list[Finding] = []
        table: dict[str, dict[str, float]] = {}
        for sp in dia.speakers:
            llrs = cal.linear.llr(refs @ sp.centroid)
            table[sp.label] = {
                v.name: round(float(x), 3) for v, x in zip(voices, llrs, strict=True)
            }
            start, end = self._span(dia, sp)
            for j in np.argsort(-llrs)[: opts.match_top_k]:
                llr = float(llrs[j])
                v = voices[int(j)]
                out.append(
                    Finding(
                        kind="speaker_match",
                        start_s=start,
                        end_s=end,
                        score=llr,
                        label=f"{sp.label} vs {v.name}: LR {math.exp(llr):.3g}",
                        method="GE2E speaker vectors, cosine, linear logistic-regression "
                        "calibration (Brümmer & du Preez 2006)",
                        error_rates=cal.rates,
                        advisory=llr < opts.min_llr,
                        details={
                            "speaker": sp.label,
                            "reference": v.name,
                            "llr": round(llr, 3),
                            "log10_lr": round(llr / math.log(10), 3),
                            **cal.provenance(),
                            "speaker_speech_s": round(sp.speech_s, 2),
                            "reference_speech_s": round(v.speech_s, 2),
                            "reference_files": [f.sha256 for f in v.files],
                            "caution": domain_caution(ctx, cal, sp.speech_s),
                        },
                    )
                )
        summary["library_llr"] = table
        return out

    def _archive(
        self,
        ctx: AnalysisContext,
        embedder: SpeakerEmbedder,
        cal: SpeakerCalibration,
        dia: Diarization,
        opts: SpeakersOptions,
        summary: dict[str, Any],
    ) -> list[Finding]:
        assert ctx.store is not None
        ref_items = {f.item_id for v in VoiceLibrary(ctx.store).entries() for f in v.files}
        cache = SpeakerCache(ctx.store, embedder)
        profiles, missing = cache.profiles(
            exclude=ctx.item_id, max_new=opts.max_new_profiles, skip_ids=ref_items
        )
        profiles = [p for p in profiles if p.sha256 != ctx.sha256 and p.speakers]
        summary["archive"] = {"items_compared": len(profiles), "items_not_compared": missing}
        out: list[Finding] = []
        for sp in dia.speakers:
            hits: list[dict[str, Any]] = []
            for prof in profiles:
                vecs = np.stack([s.vector for s in prof.speakers])
                llrs = cal.linear.llr(vecs @ sp.centroid)
                j = int(np.argmax(llrs))
                llr = float(llrs[j])
                if llr >= opts.min_llr:
                    hits.append(
                        {
                            "item_id": prof.item_id,
                            "speaker": prof.speakers[j].label,
                            "llr": round(llr, 3),
                            "log10_lr": round(llr / math.log(10), 3),
                            "speech_s": round(prof.speakers[j].speech_s, 2),
                        }
                    )
            if not hits:
                continue
            hits.sort(key=lambda h: -float(h["llr"]))
            start, end = self._span(dia, sp)
            out.append(
                Finding(
                    kind="speaker_recurrence",
                    start_s=start,
                    end_s=end,
                    score=float(hits[0]["llr"]),
                    label=f"{sp.label} also appears in {len(hits)} archive item(s)",
                    method="GE2E speaker vectors against cached archive profiles, calibrated LLR",
                    error_rates=cal.rates,
                    details={
                        "speaker": sp.label,
                        "items": hits,
                        "min_llr": opts.min_llr,
                        **cal.provenance(),
                        "caution": domain_caution(ctx, cal, sp.speech_s),
                    },
                )
            )
        return out
