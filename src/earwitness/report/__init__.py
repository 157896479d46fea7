"""Reports for machines and people: ``report.json`` (versioned JSON Schema), a self-contained
``report.html`` and an Audacity label track.

Public API::

    build_report(*, item, runs, options, store) -> dict      # schema "earwitness.report/1"
    validate_report(report) -> None                            # jsonschema.ValidationError
    render_html(report, ctx, options=HtmlOptions()) -> str
    render_labels(report) -> str / parse_labels(text) -> list[Label]
"""

from earwitness.report.build import SCHEMA_ID, build_report
from earwitness.report.labels import Label, parse_labels, render_labels
from earwitness.report.validate import report_schema, validate_report

__all__ = [
    "SCHEMA_ID",
    "Label",
    "build_report",
    "parse_labels",
    "render_labels",
    "report_schema",
    "validate_report",
]
