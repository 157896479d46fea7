"""The trained layer: DSP proposals relabelled (or rejected) by a small trained classifier.

The DSP detectors (:mod:`impulsive`, :mod:`sustained`) run with loose thresholds and propose
candidate segments; each candidate is described by the fixed feature vector of
:func:`earwitness.events.segment_features.segment_features` and classified by a small
neural network (one hidden ``tanh`` layer and a softmax over standardised features; Bishop
2006, *Pattern Recognition and Machine Learning*, §4.3.4 and §5.1) into an event label or
``background`` (speech, other sounds), which is dropped. Inference is numpy only.

The coefficients live in ``events/models/event_classifier.json``, written by
``benchmarks/train_events.py`` from the *train* half of the sound-effect clips only; the file
records the training data, features, classes and training parameters.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from earwitness.errors import ModelError
from earwitness.events.base import IMPULSIVE, DetectedEvent, resolve
from earwitness.events.features import FrameFeatures, rolling_max, rolling_min
from earwitness.events.impulsive import ImpulsiveDetector, ImpulsiveParams
from earwitness.events.segment_features import FEATURE_NAMES, segment_features
from earwitness.events.sustained import SustainedDetector, SustainedParams

MODEL_PATH = Path(__file__).resolve().parent / "models" / "event_classifier.json"
BACKGROUND = "background"
FORMAT = "earwitness-event-classifier/1"
#: same-label events closer than this (s) are one event (a burst, a long fly-by)
MERGE_GAP_S = {"gunfire": 1.0}
#: labels the routed detector reports, and the layers a label can be routed to
ROUTED_LABELS = ("gunfire", "explosion", "aircraft", "vehicle", "crowd")
ROUTE_LAYERS = ("dsp-trained", "dsp")


def parse_routing(data: Any, *, source: str = "<mapping>") -> dict[str, str]:
    """Per-label layer routing from a model file's ``routing`` block (``{"labels": {label:
    layer}}``); labels not named there stay on the trained layer. Raises :class:`ModelError`
    for an unknown label or layer."""
    labels = data.get("labels", {}) if isinstance(data, Mapping) else None
    if not isinstance(labels, Mapping):
        raise ModelError(f"{source}: routing must be a mapping with a 'labels' mapping")
    out = {lab: "dsp-trained" for lab in ROUTED_LABELS}
    for lab, layer in labels.items():
        if lab not in ROUTED_LABELS or layer not in ROUTE_LAYERS:
            raise ModelError(f"{source}: bad routing {lab!r} -> {layer!r}")
        out[str(lab)] = str(layer)
    return out


@dataclass(frozen=True)
class EventClassifier:
    """Standardisation, then dense layers (``tanh`` between them) and a softmax. Each layer is
    ``(weights, bias)`` with weights of shape (outputs, inputs); one layer is a multinomial
    logistic regression, two a one-hidden-layer perceptron (Bishop 2006, §5.1)."""

    classes: tuple[str, ...]
    feature_names: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    layers: tuple[tuple[np.ndarray, np.ndarray], ...]
    proposal: Mapping[str, Any]
    meta: Mapping[str, Any]
    #: per-class offsets added to the log-probabilities before the arg-max (decision
    #: thresholds calibrated on the train half by ``benchmarks/train_events.py``; zeros when
    #: the model file has none)
    log_bias: np.ndarray | None = None

    @classmethod
    def load(cls, path: Path | None = None) -> EventClassifier:
        """Read a model JSON; raises :class:`ModelError` when missing, corrupt or built for a
        different feature set."""
        p = Path(path) if path is not None else MODEL_PATH
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ModelError(f"event classifier model not found: {p}") from exc
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ModelError(f"event classifier model {p} is unreadable: {exc}") from exc
        return cls.from_mapping(data, source=str(p))

    @classmethod
    def from_mapping(cls, data: Any, *, source: str = "<mapping>") -> EventClassifier:
        if not isinstance(data, Mapping) or data.get("format") != FORMAT:
            raise ModelError(f"{source} is not an event classifier model ({FORMAT})")
        try:
            classes = tuple(str(c) for c in data["classes"])
            names = tuple(str(n) for n in data["feature_names"])
            mean = np.asarray(data["mean"], dtype=np.float64)
            scale = np.asarray(data["scale"], dtype=np.float64)
            layers = tuple(
                (
                    np.asarray(layer["weights"], dtype=np.float64),
                    np.asarray(layer["bias"], dtype=np.float64),
                )
                for layer in data["layers"]
            )
            proposal = dict(data.get("proposal", {}))
            bias_map = dict(data.get("decision", {}).get("log_bias", {}))
            log_bias = np.array([float(bias_map.get(c, 0.0)) for c in classes])
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"{source}: malformed event classifier model: {exc}") from exc
        if names != FEATURE_NAMES:
            raise ModelError(f"{source}: model features do not match this version's features")
        ok = BACKGROUND in classes and mean.shape == scale.shape == (len(names),)
        ok = ok and bool(np.all(scale > 0)) and len(layers) >= 1
        width = len(names)
        for w, b in layers:
            ok = ok and w.ndim == 2 and w.shape[1] == width and b.shape == (w.shape[0],)
            ok = ok and bool(np.all(np.isfinite(w)) and np.all(np.isfinite(b)))
            width = w.shape[0] if w.ndim == 2 else -1
        ok = ok and bool(np.all(np.isfinite(log_bias)))
        if not ok or width != len(classes) or not np.all(np.isfinite(mean)):
            raise ModelError(f"{source}: event classifier arrays have wrong shapes or values")
        parse_routing(data.get("routing", {"labels": {}}), source=source)
        meta = {k: v for k, v in data.items() if k not in ("mean", "scale", "layers")}
        return cls(classes, names, mean, scale, layers, proposal, meta, log_bias)

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """Class probabilities, shape (n, classes), for features ``x`` of shape (n, features)."""
        z = (np.atleast_2d(x) - self.mean) / self.scale
        for i, (w, b) in enumerate(self.layers):
            z = z @ w.T + b
            if i < len(self.layers) - 1:
                z = np.tanh(z)
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return np.asarray(e / e.sum(axis=1, keepdims=True))

    def decide(self, prob: np.ndarray) -> np.ndarray:
        """Class index per row of ``prob``: the arg-max of the log-probabilities plus the
        calibrated per-class offsets (``log_bias``)."""
        bias = self.log_bias if self.log_bias is not None else np.zeros(len(self.classes))
        return np.asarray(np.argmax(np.log(np.atleast_2d(prob) + 1e-12) + bias, axis=1))


def _source(ev: DetectedEvent) -> str:
    if ev.label == "onset":
        return "novelty"
    return "impulsive" if ev.label in IMPULSIVE else "sustained"


def event_features(*, feats: FrameFeatures, ev: DetectedEvent) -> np.ndarray:
    """Features of one proposed DSP event."""
    times = ev.details.get("shot_times_s")
    return segment_features(
        feats=feats,
        start_s=ev.start_s,
        end_s=ev.end_s,
        source=(
            "novelty"
            if ev.label == "onset"
            else "impulsive"
            if ev.label in IMPULSIVE
            else "sustained"
        ),
        shot_times_s=[float(t) for t in times] if times is not None else None,
    )


def proposal_detectors(
    proposal: Mapping[str, Any],
) -> tuple[ImpulsiveDetector, SustainedDetector]:
    """The loose-threshold DSP detectors that propose candidates (params from the model)."""
    return (
        ImpulsiveDetector(ImpulsiveParams(**dict(proposal.get("impulsive", {})))),
        SustainedDetector(SustainedParams(**dict(proposal.get("sustained", {})))),
    )


def novelty_onsets(
    *,
    feats: FrameFeatures,
    min_rise_db: float = 6.0,
    min_peak_db: float = 8.0,
    min_gap_s: float = 0.3,
) -> list[DetectedEvent]:
    """Generic onset proposals: peaks of the mean positive log-band rise over the maximum of
    the frames 20–50 ms before (a band-wise spectral flux; Bello et al. 2005, "A tutorial on
    onset detection in music signals", IEEE TSAP 13(5)) that rise ``min_peak_db`` above the
    running 1 s minimum of the frame level. Each proposal lasts until the level falls back
    within 6 dB of that minimum (at most 8 s)."""
    band = feats.band_db.astype(np.float64)
    n = band.shape[0]
    if n < 8:
        return []
    prev = np.full_like(band, -np.inf)
    for lag in range(2, 6):
        prev[lag:] = np.maximum(prev[lag:], band[:-lag])
    prev[:5] = band[:5]
    rise = np.mean(np.maximum(band - prev, 0.0), axis=1)
    fdb = feats.frame_db.astype(np.float64)
    fr = feats.frame_rate
    floor = rolling_min(x=fdb, width=int(fr))
    gap = max(1, int(min_gap_s * fr))
    peak = rolling_max(x=rise, width=2 * gap + 1)
    ahead = rolling_max(x=fdb, width=11)
    cand = np.nonzero((rise >= min_rise_db) & (rise >= peak) & (ahead - floor >= min_peak_db))[0]
    out: list[DetectedEvent] = []
    last = -(10**9)
    for t in cand.tolist():
        if t - last < gap:
            continue
        last = t
        end = t + 1
        stop = min(n, t + int(8 * fr))
        while end < stop and fdb[end] > floor[t] + 6.0:
            end += 1
        out.append(
            DetectedEvent(
                label="onset",
                start_s=feats.t(max(0, t - 1)),
                end_s=feats.t(end),
                score=0.0,
                detector="novelty",
                layer="dsp",
                details={"rise_db": round(float(rise[t]), 1)},
            )
        )
    return out


def propose(
    *,
    feats: FrameFeatures,
    proposal: Mapping[str, Any],
    impulsive: list[DetectedEvent] | None = None,
) -> list[DetectedEvent]:
    """Candidate events from the DSP detectors, with restated events resolved away, plus
    novelty onsets more than 0.25 s from any of them. ``impulsive``: the impulsive
    detector's events with the proposal thresholds, when the caller already has them."""
    imp, sus = proposal_detectors(proposal)
    imp_events = impulsive if impulsive is not None else imp.detect(feats=feats)
    dsp = resolve([*imp_events, *sus.detect(feats=feats)])
    nov = novelty_onsets(feats=feats, **dict(proposal.get("novelty", {})))
    starts = np.array([e.start_s for e in dsp])
    extra = [e for e in nov if not starts.size or np.min(np.abs(starts - e.start_s)) > 0.25]
    return sorted([*dsp, *extra], key=lambda e: e.start_s)


def _merge(a: DetectedEvent, b: DetectedEvent) -> DetectedEvent:
    """``b`` continues ``a`` (same label): extend ``a``; for gunfire add ``b``'s shots."""
    details = dict(a.details)
    if a.label == "gunfire":
        times = sorted(
            {*map(float, details.get("shot_times_s", [])), *b.details.get("shot_times_s", [])}
        )
        details["shot_times_s"] = [round(t, 4) for t in times]
        details["shot_count"] = len(times)
        details["intervals_s"] = [round(y - x, 4) for x, y in itertools.pairwise(times)]
    return replace(a, end_s=max(a.end_s, b.end_s), score=max(a.score, b.score), details=details)


class TrainedDetector:
    """DSP proposals classified by the trained :class:`EventClassifier`."""

    name: ClassVar[str] = "dsp_trained"
    layer: ClassVar[str] = "dsp-trained"
    labels: ClassVar[tuple[str, ...]] = ("gunfire", "explosion", "aircraft", "vehicle", "crowd")

    def __init__(
        self,
        model: EventClassifier | None = None,
        *,
        dsp: tuple[ImpulsiveParams, SustainedParams] | None = None,
        routing: Mapping[str, str] | None = None,
    ) -> None:
        """``dsp``: thresholds of the DSP detectors that report the labels routed to the DSP
        layer (the stage passes the calibrated ones; default: the model's impulsive proposal
        thresholds and the default sustained thresholds). ``routing``: label -> layer
        (``"dsp-trained"`` or ``"dsp"``); default: the model file's ``routing`` block, chosen
        by grouped CV on the train half (``benchmarks/train_events.py``)."""
        self.model = model or EventClassifier.load()
        raw = {"labels": routing} if routing is not None else self.model.meta.get("routing")
        self.routing = parse_routing(raw if raw is not None else {"labels": {}})
        self._proposal_impulsive = ImpulsiveParams(**dict(self.model.proposal.get("impulsive", {})))
        self.dsp = dsp or (self._proposal_impulsive, SustainedParams())

    def params(self) -> Mapping[str, Any]:
        out: dict[str, Any] = {
            "model": str(self.model.meta.get("name", MODEL_PATH.name)),
            "trained_at": self.model.meta.get("trained_at"),
            "classes": list(self.model.classes),
            "proposal": dict(self.model.proposal),
            "routing": dict(self.routing),
        }
        sel = self.model.meta.get("routing", {})
        if isinstance(sel, Mapping) and "selected_on" in sel:
            out["routing_selected_on"] = sel["selected_on"]
        if "dsp" in self.routing.values():
            out["dsp_params"] = {"impulsive": asdict(self.dsp[0]), "sustained": asdict(self.dsp[1])}
        return out

    def classify(self, *, feats: FrameFeatures, events: list[DetectedEvent]) -> list[DetectedEvent]:
        """Relabel ``events`` (DSP proposals) or drop those classified as background."""
        if not events:
            return []
        x = np.stack([event_features(feats=feats, ev=ev) for ev in events])
        return self.label(events=events, prob=self.model.predict_proba(x))

    def label(self, *, events: list[DetectedEvent], prob: np.ndarray) -> list[DetectedEvent]:
        """Events from proposals and their class probabilities: background dropped, same-label
        continuations merged, restated impulses suppressed (:func:`suppress_restated`)."""
        out: list[DetectedEvent] = []
        for ev, p, k in zip(events, prob, self.model.decide(prob), strict=True):
            label = self.model.classes[int(k)]
            if label == BACKGROUND:
                continue
            details = dict(ev.details)
            if label == "gunfire" and "shot_times_s" not in details:
                details["shot_times_s"] = [round(ev.start_s, 4)]
                details["shot_count"] = 1
                details["intervals_s"] = []
            details["proposed_by"] = ev.detector
            details["proposed_label"] = ev.label
            details["class_probabilities"] = {
                c: round(float(v), 3) for c, v in zip(self.model.classes, p, strict=True)
            }
            prev = next((o for o in reversed(out) if o.label == label), None)
            if prev is not None and ev.start_s <= prev.end_s + MERGE_GAP_S.get(label, 0.3):
                out[out.index(prev)] = _merge(prev, ev)
                continue
            out.append(
                replace(
                    ev,
                    label=label,
                    score=round(float(p[int(k)]), 4),
                    detector=self.name,
                    layer=self.layer,
                    details=details,
                )
            )
        decision = self.model.meta.get("decision", {})
        return suppress_restated(out, within_s=float(decision.get("restate_s", RESTATE_S)))

    def detect_layers(
        self, *, feats: FrameFeatures, dsp: bool | None = None
    ) -> tuple[list[DetectedEvent], list[DetectedEvent]]:
        """Events of the trained layer (all labels) and of the DSP impulsive and sustained
        detectors with the ``dsp`` thresholds (restatements resolved; empty unless ``dsp``,
        by default when a label is routed to the DSP layer)."""
        proposal = self.model.proposal
        if not (dsp if dsp is not None else "dsp" in self.routing.values()):
            return self.classify(feats=feats, events=propose(feats=feats, proposal=proposal)), []
        imp, sus = self.dsp
        imp_events = ImpulsiveDetector(imp).detect(feats=feats)
        same = self._proposal_impulsive == imp
        props = propose(feats=feats, proposal=proposal, impulsive=imp_events if same else None)
        trained = self.classify(feats=feats, events=props)
        return trained, resolve([*imp_events, *SustainedDetector(sus).detect(feats=feats)])

    def detect(self, *, feats: FrameFeatures) -> list[DetectedEvent]:
        """Each label from the layer ``routing`` names (:func:`route`)."""
        trained, dsp = self.detect_layers(feats=feats)
        return route(trained=trained, dsp=dsp, routing=self.routing)


def route(
    *, trained: list[DetectedEvent], dsp: list[DetectedEvent], routing: Mapping[str, str]
) -> list[DetectedEvent]:
    """Per-label layer routing: a trained-layer event is kept when its label is routed to
    ``"dsp-trained"``, a DSP event when its label is routed to ``"dsp"``; each event keeps its
    own ``layer`` and ``detector`` (so a finding says which layer found it) and DSP events
    gain ``details.routed_by`` = ``"dsp_trained"``."""
    keep = [e for e in trained if routing.get(e.label, "dsp-trained") == "dsp-trained"]
    keep += [
        replace(e, details={**dict(e.details), "routed_by": TrainedDetector.name})
        for e in dsp
        if routing.get(e.label) == "dsp"
    ]
    return sorted(keep, key=lambda e: (e.start_s, e.label))


#: an impulsive event of the other impulsive label starting this soon (s) after an earlier
#: one, inside its span, restates it
RESTATE_S = 0.6


def suppress_restated(
    events: list[DetectedEvent], *, within_s: float = RESTATE_S
) -> list[DetectedEvent]:
    """Drop a gunfire or explosion event that starts within ``within_s`` after the onset of
    an earlier impulsive event of the other label and inside its span: one impulse (a blast
    and its echo or debris, a shot and its tail) is reported once, under its first label.
    A later, separate impulse keeps its own event."""
    out: list[DetectedEvent] = []
    for ev in sorted(events, key=lambda e: e.start_s):
        if ev.label in IMPULSIVE and any(
            o.label in IMPULSIVE
            and o.label != ev.label
            and o.start_s < ev.start_s <= min(o.end_s, o.start_s + within_s)
            for o in out
        ):
            continue
        out.append(ev)
    return out


def combine(trained: list[DetectedEvent], others: list[DetectedEvent]) -> list[DetectedEvent]:
    """Trained events plus other detectors' events; a trained sustained event (aircraft,
    vehicle, crowd) mostly covered by a DSP music event is the music and is dropped."""
    music = [e for e in others if e.label == "music"]
    keep = [
        ev
        for ev in trained
        if ev.label not in ("aircraft", "vehicle", "crowd")
        or not any(
            min(ev.end_s, m.end_s) - max(ev.start_s, m.start_s) >= 0.5 * (ev.end_s - ev.start_s)
            for m in music
        )
    ]
    return sorted([*keep, *others], key=lambda e: (e.start_s, e.label))
