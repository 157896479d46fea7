"""Detector parameters: frozen dataclasses whose calibrated values come from validation runs.

Each detector declares its tunable thresholds as a frozen dataclass with defaults. The
validation script in ``benchmarks/`` chooses the thresholds on labelled data and writes them,
with the error rates measured at those thresholds, to ``earwitness/calibration/<detector>.json``
(``params``). :func:`calibrated_params` reads them back, so the figures shown beside a finding
always describe the parameters that produced it.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

from earwitness.findings import ErrorRates, load_error_rates

P = TypeVar("P")


def calibrated_params(cls: type[P], detector: str) -> tuple[P, ErrorRates | None]:
    """Defaults of ``cls`` overridden by the ``params`` stored for ``detector``, plus its rates.

    Unknown keys in the stored params are ignored (they describe the data, not the detector);
    lists become tuples so the result stays hashable and frozen.
    """
    rates = load_error_rates(detector)
    if rates is None:
        return cls(), None
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    kw: dict[str, Any] = {}
    for key, value in rates.params.items():
        if key in names:
            kw[key] = tuple(value) if isinstance(value, list) else value
    return cls(**kw), rates


def params_dict(params: object) -> dict[str, Any]:
    """A frozen params dataclass as a plain dict (for ``StageResult.params`` and JSON)."""
    return dataclasses.asdict(params)  # type: ignore[call-overload,no-any-return]
