"""The ``acoustic_events`` stage: what is in the background, when, and whether shots are copies.

Runs every registered detector on shared 16 kHz features and emits findings of kind
``acoustic_event`` (label ``gunfire``, ``explosion``, ``aircraft``, ``vehicle``, ``crowd``,
``music``; ``details.layer`` says ``"dsp"`` or ``"tagger"``, ``details.detector`` which
detector). Gunfire findings carry shot times, count, intervals and shot-to-shot similarity
(copies), and link overlapping ``duplicated_segment`` findings when that stage ran first.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from earwitness.events.base import DetectedEvent, DetectorRegistry, resolve
from earwitness.events.classifier import EventClassifier, TrainedDetector, combine
from earwitness.events.features import compute_features
from earwitness.events.gunshot import crack_bang, shot_similarity
from earwitness.events.impulsive import ImpulsiveDetector, ImpulsiveParams
from earwitness.events.music import MusicDetector, MusicParams
from earwitness.events.sustained import SustainedDetector, SustainedParams
from earwitness.events.tagger import OnnxTagger, TaggerConfig
from earwitness.findings import ErrorRates, Finding, load_error_rates
from earwitness.pipeline.stage import StageResult

if TYPE_CHECKING:
    from earwitness.pipeline.context import AnalysisContext

CALIBRATION = "acoustic_events_dsp"
TAGGER_ENV = "EARWITNESS_EVENT_TAGGER"
COPY_THRESHOLD = 0.9
CHUNK_S = 600.0  # analyse long recordings in 10-minute pieces (bounded memory)
OVERLAP_S = 15.0


def calibrated_params() -> tuple[ImpulsiveParams, SustainedParams, MusicParams]:
    """Detector thresholds from ``calibration/acoustic_events_dsp.json`` (written by
    ``benchmarks/validate_events.py``), defaults where none were recorded."""
    rates = load_error_rates(CALIBRATION)
    p: Mapping[str, Any] = rates.params if rates else {}
    return (
        ImpulsiveParams(**dict(p.get("impulsive", {}))),
        SustainedParams(**dict(p.get("sustained", {}))),
        MusicParams(**dict(p.get("music", {}))),
    )


def builtin_detectors(
    tagger: TaggerConfig | None = None, *, trained: bool = True
) -> DetectorRegistry:
    """The built-in detectors plus the ONNX tagger if configured. With ``trained`` (the
    default) gunfire, explosions, aircraft, vehicles and crowds come from ``dsp_trained``
    (:class:`ModelError` if the packaged model is missing or corrupt), which reports each
    label from the layer the model file's ``routing`` names (the trained classifier, or the
    DSP detectors with calibrated thresholds; chosen by grouped CV on the train half);
    otherwise from the DSP impulsive and sustained detectors with calibrated thresholds.
    Music always comes from the DSP music detector."""
    imp, sus, mus = calibrated_params()
    reg = DetectorRegistry()
    if trained:
        reg.register(TrainedDetector(EventClassifier.load(), dsp=(imp, sus)))
    else:
        reg.register(ImpulsiveDetector(imp))
        reg.register(SustainedDetector(sus))
    reg.register(MusicDetector(mus))
    if tagger is not None:
        reg.register(OnnxTagger(tagger))
    return reg


def tagger_config(options: Mapping[str, Any]) -> TaggerConfig | None:
    """The tagger configuration: ``options["tagger"]`` (a mapping or a path to a JSON file),
    else the JSON file named by the ``EARWITNESS_EVENT_TAGGER`` environment variable."""
    raw: Any = options.get("tagger")
    if raw is None and os.environ.get(TAGGER_ENV):
        raw = os.environ[TAGGER_ENV]
    if raw is None:
        return None
    if isinstance(raw, str | Path):
        path = Path(raw)
        data = json.loads(path.read_text(encoding="utf-8"))
        for key in ("model_path", "labels_csv"):  # relative to the config file
            if key in data and not Path(data[key]).is_absolute():
                data[key] = str(path.parent / data[key])
        return TaggerConfig.from_mapping(data)
    return TaggerConfig.from_mapping(raw)


def detect_chunked(
    *, registry: DetectorRegistry, y: np.ndarray, sr: int, chunk_s: float, overlap_s: float
) -> list[DetectedEvent]:
    """Run every detector on ``chunk_s`` pieces of ``y`` (each analysed with ``overlap_s`` of
    context on both sides, so features stay bounded in memory for long recordings), shift the
    event times back, keep each event in the chunk where it starts, then :func:`resolve`."""
    n = y.size
    step = max(1, int(chunk_s * sr))
    ov = int(overlap_s * sr)
    out: list[DetectedEvent] = []
    for a in range(0, max(n, 1), step):
        b = min(n, a + step)
        lo, hi = max(0, a - ov), min(n, b + ov)
        feats = compute_features(y=y[lo:hi], sr=sr)
        off = lo / sr
        for det in registry:
            for ev in det.detect(feats=feats):
                start = ev.start_s + off
                last = b >= n
                if not (a / sr <= start < b / sr or (last and start >= a / sr)):
                    continue
                details = dict(ev.details)
                if "shot_times_s" in details:
                    details["shot_times_s"] = [round(t + off, 4) for t in details["shot_times_s"]]
                out.append(replace(ev, start_s=start, end_s=ev.end_s + off, details=details))
    trained = [e for e in out if e.layer == "dsp-trained"]
    return combine(trained, resolve([e for e in out if e.layer != "dsp-trained"]))


def _links(ev: DetectedEvent, dup: list[Finding]) -> list[dict[str, Any]]:
    out = []
    for i, f in enumerate(dup):
        if f.start_s <= ev.end_s and f.end_s >= ev.start_s:
            ref = f.details.get("id", i) if isinstance(f.details, Mapping) else i
            out.append({"finding": ref, "start_s": round(f.start_s, 3), "end_s": round(f.end_s, 3)})
    return out


class AcousticEventsStage:
    """Background acoustic events (gunfire, explosions, aircraft, vehicles, crowds, music)."""

    name: ClassVar[str] = "acoustic_events"
    version: ClassVar[str] = "1.0"
    description: ClassVar[str] = (
        "Detects and times background acoustic events (gunfire, explosions, aircraft, "
        "vehicles, crowds, music) with signal-processing detectors and an optional ONNX "
        "tagger; counts shots and tests whether shots are copies of each other."
    )
    requires: ClassVar[tuple[str, ...]] = ()
    # Run after duplicated_segments when it is registered, to link pasted shots to it.
    after: ClassVar[tuple[str, ...]] = ("duplicated_segments",)

    def __init__(
        self,
        registry: DetectorRegistry | None = None,
        *,
        chunk_s: float = CHUNK_S,
        overlap_s: float = OVERLAP_S,
    ) -> None:
        if chunk_s <= 0 or overlap_s < 0:
            raise ValueError("chunk_s must be > 0 and overlap_s >= 0")
        self._registry = registry
        self.chunk_s = chunk_s
        self.overlap_s = overlap_s

    def _detectors(self, ctx: AnalysisContext | None) -> DetectorRegistry:
        if self._registry is not None:
            return self._registry
        opts = ctx.options.extra.get(self.name, {}) if ctx is not None else {}
        return builtin_detectors(tagger_config(opts), trained=bool(opts.get("trained", True)))

    def params(self) -> Mapping[str, Any]:
        reg = self._registry or builtin_detectors(None)
        return {
            "detectors": {d.name: {"layer": d.layer, **dict(d.params())} for d in reg},
            "copy_threshold_ncc": COPY_THRESHOLD,
            "analysis_rate_hz": 16000,
            "chunk_s": self.chunk_s,
            "chunk_overlap_s": self.overlap_s,
        }

    def enabled(self, ctx: AnalysisContext) -> str | None:
        if not ctx.probe.audio_streams:
            return "no audio stream"
        return None

    def run(self, ctx: AnalysisContext) -> StageResult:
        reg = self._detectors(ctx)
        audio = ctx.audio(sr=16000, mono=True)
        y = np.asarray(audio.samples, dtype=np.float32)
        events = detect_chunked(
            registry=reg, y=y, sr=audio.sr, chunk_s=self.chunk_s, overlap_s=self.overlap_s
        )
        duration = audio.duration_s
        dup_result = ctx.results.get("duplicated_segments")
        dup = (
            [f for f in dup_result.findings if f.kind == "duplicated_segment"]
            if dup_result is not None
            else []
        )
        native = None
        findings: list[Finding] = []
        rates: dict[str, ErrorRates | None] = {}
        for ev in sorted(events, key=lambda e: (e.start_s, e.label)):
            details: dict[str, Any] = {
                "layer": ev.layer,
                "detector": ev.detector,
                **dict(ev.details),
            }
            if ev.label == "gunfire" and "shot_times_s" in details:
                times = list(details["shot_times_s"])
                if len(times) > 1:
                    sim = shot_similarity(
                        y=y, sr=audio.sr, shot_times_s=times, threshold=COPY_THRESHOLD
                    )
                    details["shot_ncc"] = list(sim.ncc)
                    details["copies"] = [list(c) for c in sim.copies]
                    details["copy_threshold"] = sim.threshold
                links = _links(ev, dup)
                if links:
                    details["duplicated_segments"] = links
                if ctx.native_sr >= 32000:
                    native = native or ctx.audio(sr=None, mono=True)
                    cb = crack_bang(y=native.samples, sr=native.sr, onset_s=times[0])
                    if cb.crack_found and cb.crack_to_bang_s is not None:
                        findings.append(
                            Finding(
                                kind="acoustic_event",
                                start_s=times[0],
                                end_s=times[0] + cb.crack_to_bang_s + 0.01,
                                score=1.0,
                                label="crack_bang",
                                advisory=True,
                                method="crack-bang (N-wave before muzzle blast; Maher 2006/2007)",
                                details={
                                    "layer": "dsp",
                                    "detector": "crack_bang",
                                    "crack_to_bang_s": cb.crack_to_bang_s,
                                    "crack_duration_ms": cb.crack_duration_ms,
                                    "note": cb.note,
                                },
                            )
                        )
            key = f"acoustic_events_{ev.label}" if ev.layer in ("dsp", "dsp-trained") else ""
            if key and key not in rates:
                rates[key] = load_error_rates(key)
            findings.append(
                Finding(
                    kind="acoustic_event",
                    start_s=ev.start_s,
                    end_s=min(max(ev.end_s, ev.start_s), max(duration, ev.start_s)),
                    score=ev.score,
                    label=ev.label,
                    details=details,
                    method=f"{ev.layer}:{ev.detector}",
                    error_rates=rates.get(key),
                )
            )
        counts: dict[str, int] = {}
        for f in findings:
            counts[f.label] = counts.get(f.label, 0) + 1
        limitations = [
            "Labels come from a small classifier trained on DSP features of game/library "
            "sound effects (few source files per label); aircraft, vehicles and other "
            "machinery can be confused, and real recordings may differ (see docs/events.md).",
            "Sustained events are measured against the quietest part of the recording; a "
            "drone that lasts the whole recording is not reported.",
            "Shot 'copies' means near-identical waveforms (NCC >= "
            f"{COPY_THRESHOLD}); distinct shots can still be fakes.",
        ]
        if not any(d.layer == "tagger" for d in reg):
            limitations.append("No learned tagger configured: only the DSP layer ran.")
        return StageResult(
            findings=tuple(findings),
            params=self.params(),
            summary={
                "event_counts": counts,
                "detectors": [d.name for d in reg],
                "duplicated_segments_linked": dup_result is not None,
            },
            limitations=tuple(limitations),
        )
