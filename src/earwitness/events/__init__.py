"""Background acoustic events: gunfire, explosions, aircraft, vehicles, crowds and music.

Two layers behind one :class:`EventDetector` interface: signal-processing detectors that need
no model (:mod:`impulsive`, :mod:`sustained`, :mod:`music`) and an optional ONNX tagger
(:mod:`tagger`). The ``acoustic_events`` pipeline stage is in :mod:`stage`.
"""

from earwitness.events.base import LABELS, DetectedEvent, DetectorRegistry, EventDetector
from earwitness.events.features import FrameFeatures, compute_features

__all__ = [
    "LABELS",
    "DetectedEvent",
    "DetectorRegistry",
    "EventDetector",
    "FrameFeatures",
    "compute_features",
]
