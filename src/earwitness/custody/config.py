"""``STORE/config.json``: per-store limits and the catalog backend.

Keys: every field of :class:`earwitness.decode.Limits` (``max_bytes``, ``max_duration_s``,
``min_sample_rate``, ``max_sample_rate``, ``max_expansion``, ``expansion_slack_bytes``), and
``catalog`` (a name in :data:`earwitness.custody.catalog.CATALOG_BACKENDS`, default
``"sqlite"``). Missing keys keep their defaults; unknown keys are an error.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from earwitness.decode import Limits
from earwitness.errors import StoreError

LIMIT_KEYS = tuple(f.name for f in fields(Limits))
OTHER_KEYS = ("catalog", "catalog_file")


@dataclass(frozen=True)
class StoreConfig:
    """What ``config.json`` says (defaults when the file is absent)."""

    limits: Limits = field(default_factory=Limits)
    catalog: str = "sqlite"
    extra: dict[str, Any] = field(default_factory=dict)


def load_config(path: Path) -> StoreConfig:
    if not path.exists():
        return StoreConfig()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise StoreError(f"{path}: cannot read the store configuration ({exc})") from exc
    if not isinstance(raw, dict):
        raise StoreError(f"{path}: the store configuration must be a JSON object")
    unknown = sorted(set(raw) - set(LIMIT_KEYS) - set(OTHER_KEYS))
    if unknown:
        raise StoreError(
            f"{path}: unknown key(s) {', '.join(unknown)}; known: "
            f"{', '.join(LIMIT_KEYS + OTHER_KEYS)}"
        )
    defaults = Limits()
    values: dict[str, Any] = {}
    for key in LIMIT_KEYS:
        if key in raw:
            kind = type(getattr(defaults, key))
            value = raw[key]
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                raise StoreError(f"{path}: {key} must be a positive number, not {value!r}")
            values[key] = kind(value)
    return StoreConfig(
        limits=Limits(**values),
        catalog=str(raw.get("catalog", "sqlite")),
        extra={k: raw[k] for k in OTHER_KEYS if k in raw},
    )
