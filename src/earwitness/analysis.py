"""The ``analyze`` job as a Python API: ingest, run the stages, write the report files."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from earwitness.custody.records import ItemRecord
from earwitness.custody.store import EvidenceStore
from earwitness.decode import probe
from earwitness.errors import InputError
from earwitness.pipeline import AnalysisContext, AnalyzeOptions, StageRegistry
from earwitness.pipeline.runner import ProgressFn, run_stages
from earwitness.pipeline.stage import StageRun
from earwitness.report.build import build_report
from earwitness.report.html import render_html
from earwitness.report.labels import render_labels

log = logging.getLogger(__name__)

#: files written by the report itself; a stage artifact may not replace them
REPORT_FILES = ("report.json", "report.html", "labels.txt")


@dataclass(frozen=True)
class AnalysisOutcome:
    """Where the report files went, and the report itself."""

    item_id: str
    out_dir: Path
    report: dict[str, Any]
    runs: tuple[StageRun, ...]
    stored_at: Path | None = None

    @property
    def report_json(self) -> Path:
        return self.out_dir / "report.json"

    @property
    def report_html(self) -> Path:
        return self.out_dir / "report.html"

    @property
    def labels(self) -> Path:
        return self.out_dir / "labels.txt"


def ingest_for_analysis(
    store: EvidenceStore, path: str | Path, *, source: str | None = None
) -> ItemRecord:
    """Ingest ``path`` (a duplicate is recognised) or raise :class:`InputError` naming it."""
    outcome = store.ingest(path, source=source)
    if outcome.item is None:
        raise InputError(path, outcome.error or "rejected")
    return outcome.item


def make_context(
    store: EvidenceStore, item: ItemRecord, options: AnalyzeOptions
) -> AnalysisContext:
    """The analysis context of a stored item (it reads the stored, read-only original)."""
    original = store.original_path(item)
    return AnalysisContext(
        path=original,
        probe=probe(original, options.limits),
        sha256=item.sha256,
        item_id=item.id,
        options=options,
        store=store,
    )


def _safe_artifact(name: str) -> bool:
    p = Path(name)
    return (
        bool(p.parts)
        and not p.is_absolute()
        and ".." not in p.parts
        and not name.startswith(".")
        and name not in REPORT_FILES
    )


def analyze_item(
    item: ItemRecord,
    out_dir: str | Path,
    *,
    store: EvidenceStore,
    options: AnalyzeOptions | None = None,
    registry: StageRegistry | None = None,
    progress: ProgressFn | None = None,
) -> AnalysisOutcome:
    """Analyse a stored item: run the stages, write ``report.json``, ``report.html``,
    ``labels.txt`` and the stages' artifacts into ``out_dir``, and keep a copy of them in
    the store (which logs an ``analysis`` audit entry with the report's hash)."""
    options = options or AnalyzeOptions(limits=store.limits)
    ctx = make_context(store, item, options)
    try:
        runs = run_stages(ctx, registry, progress=progress)
        report = build_report(item=item, runs=runs, options=options, store=store)
        files: dict[str, bytes] = {}
        for run in runs:
            if run.result is None:
                continue
            for name, data in run.result.artifacts.items():
                if _safe_artifact(name):
                    files[name] = data
                else:
                    log.warning("stage %s: artifact name %r refused", run.name, name)
        files["report.json"] = json.dumps(report, indent=2, ensure_ascii=False).encode("utf-8")
        files["labels.txt"] = render_labels(report).encode("utf-8")
        files["report.html"] = render_html(report, ctx).encode("utf-8")
    finally:
        ctx.release_audio()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        target = out / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    stored_at = store.save_report(item.id, report, files)
    return AnalysisOutcome(
        item_id=item.id, out_dir=out, report=report, runs=tuple(runs), stored_at=stored_at
    )


def analyze(
    path: str | Path,
    out_dir: str | Path,
    *,
    store: EvidenceStore,
    options: AnalyzeOptions | None = None,
    source: str | None = None,
    registry: StageRegistry | None = None,
    progress: ProgressFn | None = None,
) -> AnalysisOutcome:
    """Ingest ``path`` into ``store`` (if not there yet), then :func:`analyze_item` it.

    Raises :class:`InputError` (naming the file) when the file cannot be ingested.
    """
    item = ingest_for_analysis(store, path, source=source)
    return analyze_item(
        item, out_dir, store=store, options=options, registry=registry, progress=progress
    )
