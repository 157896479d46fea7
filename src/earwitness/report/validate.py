"""The report's JSON Schema (draft 2020-12), shipped with the package, and validation."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

import jsonschema


@cache
def report_schema() -> dict[str, Any]:
    """The JSON Schema of ``report.json`` (``earwitness/report/schema/report.schema.json``)."""
    text = (resources.files("earwitness.report") / "schema" / "report.schema.json").read_text(
        encoding="utf-8"
    )
    schema: dict[str, Any] = json.loads(text)
    return schema


def validate_report(report: Any) -> None:
    """Raise :class:`jsonschema.ValidationError` unless ``report`` follows the schema.

    Beyond the schema, every finding must end at or after its start and finding ids must be
    unique, ``F1``, ``F2``... in order.
    """
    validator = jsonschema.Draft202012Validator(report_schema())
    validator.validate(report)
    for i, f in enumerate(report["findings"], start=1):
        if f["end_s"] < f["start_s"]:
            raise jsonschema.ValidationError(f"finding {f['id']}: end_s is before start_s")
        if f["id"] != f"F{i}":
            raise jsonschema.ValidationError(f"finding {f['id']}: expected id F{i}")
