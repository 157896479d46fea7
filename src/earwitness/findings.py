"""The finding: the unit of evidence every analysis stage produces.

A finding is a *result*, never an interpretation: it names what was measured (``kind``), where
(``start_s``/``end_s`` in seconds of the decoded original, encoder delay removed), how strongly
(``score``, whose meaning the producing stage documents), by which method and with which
parameters, and the error rates measured for that method on labelled data.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

from earwitness.errors import ModelError
from earwitness.jsonfile import read_json_object


@dataclass(frozen=True)
class ErrorRates:
    """Error rates of a detector, measured by a validation run on labelled data.

    ``figures`` holds named measurements (e.g. ``{"recall": 0.96, "false_per_hour": 0.4}``);
    ``summary`` is the sentence shown beside a finding; ``dataset`` describes the data and
    ``params`` the detector parameters in force when the run was made; ``produced_by`` names the
    script. Instances are loaded from JSON files written by ``benchmarks/`` validation scripts,
    never typed by hand.
    """

    detector: str
    summary: str
    figures: Mapping[str, float]
    dataset: str
    produced_by: str
    measured_at: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "detector": self.detector,
            "summary": self.summary,
            "figures": dict(self.figures),
            "dataset": self.dataset,
            "produced_by": self.produced_by,
            "measured_at": self.measured_at,
            "params": dict(self.params),
        }


def calibration_file(detector: str) -> Traversable:
    """Where the validation figures of ``detector`` are stored (``calibration/<detector>.json``
    in the package)."""
    return resources.files("earwitness") / "calibration" / f"{detector}.json"


def load_error_rates(detector: str) -> ErrorRates | None:
    """Load the validation figures stored for ``detector`` in ``earwitness/calibration/``.

    Returns ``None`` when no validation run has been recorded for it yet; the report then
    says that the error rate of this method is unmeasured. A file that is there but cannot be
    read, is not JSON or lacks a key raises :class:`ModelError` naming the file and the
    reason (the stage reading it then fails, and the report says why).
    """
    path = calibration_file(detector)
    try:
        data = read_json_object(path, what="calibration file", error=ModelError)
    except FileNotFoundError:
        return None
    missing = [k for k in _RATES_KEYS if k not in data]
    if missing:
        keys = ", ".join(repr(k) for k in missing)
        raise ModelError(f"{path}: calibration file is missing key {keys}")
    if not isinstance(data["figures"], dict):
        raise ModelError(f"{path}: calibration file's 'figures' is not a JSON object")
    params = data.get("params", {})
    if not isinstance(params, dict):
        raise ModelError(f"{path}: calibration file's 'params' is not a JSON object")
    figures: dict[str, float] = {}
    for k, v in data["figures"].items():
        try:
            figures[k] = float(v)
        except (TypeError, ValueError):
            raise ModelError(f"{path}: calibration figure {k!r} is not a number ({v!r})") from None
    return ErrorRates(
        detector=str(data["detector"]),
        summary=str(data["summary"]),
        figures=figures,
        dataset=str(data["dataset"]),
        produced_by=str(data["produced_by"]),
        measured_at=str(data["measured_at"]),
        params=params,
    )


_RATES_KEYS = ("detector", "summary", "figures", "dataset", "produced_by", "measured_at")


def json_value(value: Any) -> Any:
    """Convert numpy scalars/arrays and tuples to plain JSON values (non-finite floats -> None).

    Used for finding details and report sections. The audit chain has its own converter
    (:func:`earwitness.custody.chain.plain_json`), which keeps non-finite floats as strings
    because entry hashes must never change."""
    if isinstance(value, Mapping):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    if hasattr(value, "tolist"):
        return json_value(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


@dataclass(frozen=True)
class Finding:
    """One result with a time span a person can listen to.

    ``kind`` is a stable machine name (``archive_match``, ``duplicated_segment``,
    ``edit_point``, ``compression``, ``acoustic_event``, ``transcript``, ...). ``label`` is a
    short human label. ``details`` holds kind-specific fields (documented in
    ``docs/report-schema.md``). ``method`` names the algorithm; ``stage`` is filled in by the
    pipeline. For point events ``start_s == end_s``. A whole-file finding spans the recording.
    """

    kind: str
    start_s: float
    end_s: float
    score: float
    label: str
    details: Mapping[str, Any] = field(default_factory=dict)
    method: str = ""
    error_rates: ErrorRates | None = None
    stage: str = ""
    advisory: bool = False

    def __post_init__(self) -> None:
        if not (math.isfinite(self.start_s) and math.isfinite(self.end_s)):
            raise ValueError(f"finding {self.kind}: non-finite time span")
        if self.end_s < self.start_s:
            raise ValueError(
                f"finding {self.kind}: end_s {self.end_s} is before start_s {self.start_s}"
            )

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "start_s": round(float(self.start_s), 4),
            "end_s": round(float(self.end_s), 4),
            "score": None if not math.isfinite(self.score) else float(self.score),
            "label": self.label,
            "details": json_value(self.details),
            "method": self.method,
            "stage": self.stage,
            "advisory": self.advisory,
            "error_rates": self.error_rates.to_dict() if self.error_rates else None,
        }
