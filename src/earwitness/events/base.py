"""The detector interface shared by both layers (DSP and learned tagger) and its registry.

A detector receives the shared frame features of one recording (computed once, see
:mod:`earwitness.events.features`) and returns :class:`DetectedEvent` objects. The stage turns
them into findings of kind ``acoustic_event``. Detectors register explicitly in a
:class:`DetectorRegistry`; the built-in ones are listed in :func:`builtin_detectors`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, runtime_checkable

from earwitness.events.features import FrameFeatures

#: Labels every detector maps its own classes onto (more are allowed, e.g. ``siren``).
LABELS = ("gunfire", "explosion", "aircraft", "vehicle", "crowd", "music")
LAYERS = ("dsp", "dsp-trained", "tagger")


@dataclass(frozen=True)
class DetectedEvent:
    """One event: label, time span, score in [0, 1] and detector-specific details."""

    label: str
    start_s: float
    end_s: float
    score: float
    detector: str
    layer: str
    details: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.end_s < self.start_s:
            raise ValueError(f"event {self.label}: end {self.end_s} before start {self.start_s}")
        if self.layer not in LAYERS:
            raise ValueError(f"unknown layer {self.layer!r}")


@runtime_checkable
class EventDetector(Protocol):
    """A background-event detector.

    ``name`` is stable (it appears in findings as ``details.detector``), ``layer`` is ``"dsp"``
    (signal processing, no model) or ``"tagger"`` (a learned model), ``labels`` lists the
    labels it can emit. ``params()`` returns the thresholds in force (recorded in the report);
    ``detect`` does the work on shared features.
    """

    name: ClassVar[str]
    layer: ClassVar[str]
    labels: ClassVar[tuple[str, ...]]

    def params(self) -> Mapping[str, Any]: ...

    def detect(self, *, feats: FrameFeatures) -> list[DetectedEvent]: ...


class DetectorRegistry:
    """Detectors by name, in registration order. Registering a name twice is an error."""

    def __init__(self) -> None:
        self._items: dict[str, EventDetector] = {}

    def register(self, detector: EventDetector, *, replace: bool = False) -> EventDetector:
        if not isinstance(detector, EventDetector):
            raise TypeError(f"{detector!r} does not implement the EventDetector protocol")
        if detector.name in self._items and not replace:
            raise ValueError(f"a detector named {detector.name!r} is already registered")
        self._items[detector.name] = detector
        return detector

    def get(self, name: str) -> EventDetector:
        return self._items[name]

    def names(self) -> list[str]:
        return list(self._items)

    def __iter__(self) -> Iterator[EventDetector]:
        return iter(list(self._items.values()))

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items


IMPULSIVE = ("gunfire", "explosion")
SUSTAINED = ("aircraft", "vehicle", "crowd")


def resolve(events: list[DetectedEvent], *, tail_s: float = 0.5) -> list[DetectedEvent]:
    """Remove DSP events that only restate another detector's event: a sustained segment
    that starts with an explosion or shot and ends within ``tail_s`` of that event's decay is
    its tail; a sustained segment mostly covered by music is the music; a one- or two-shot
    "gunfire" inside an explosion's decay is part of the explosion.
    Tagger events are never removed."""
    imp = [e for e in events if e.layer == "dsp" and e.label in IMPULSIVE]
    music = [e for e in events if e.layer == "dsp" and e.label == "music"]
    expl = [e for e in imp if e.label == "explosion"]
    out = []
    for ev in events:
        if (
            ev.layer == "dsp"
            and ev.label in SUSTAINED
            and any(
                abs(ev.start_s - i.start_s) <= 0.6 and ev.end_s <= i.end_s + tail_s + 1.0
                for i in imp
            )
        ):
            continue
        if (
            ev.layer == "dsp"
            and ev.label in SUSTAINED
            and any(
                min(ev.end_s, m.end_s) - max(ev.start_s, m.start_s) >= 0.5 * (ev.end_s - ev.start_s)
                for m in music
            )
        ):  # a held pitch that changes from note to note is a tune, not an engine
            continue
        if (
            ev.layer == "dsp"
            and ev.label == "gunfire"
            and int(ev.details.get("shot_count", 1)) <= 2
            and any(x.start_s < ev.start_s <= x.end_s for x in expl)
        ):
            continue
        out.append(ev)
    return out
