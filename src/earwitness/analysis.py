"""The ``analyze`` job as a Python API: ingest, run the stages, write the report files."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from earwitness.custody.store import EvidenceStore
from earwitness.decode import probe
from earwitness.errors import InputError
from earwitness.pipeline import AnalysisContext, AnalyzeOptions, StageRegistry
from earwitness.pipeline.runner import ProgressFn, run_stages
from earwitness.pipeline.stage import StageRun
from earwitness.report.build import build_report
from earwitness.report.html import render_html
from earwitness.report.labels import render_labels


@dataclass(frozen=True)
class AnalysisOutcome:
    """Where the report files went, and the report itself."""

    item_id: str
    out_dir: Path
    report: dict[str, Any]
    runs: tuple[StageRun, ...]

    @property
    def report_json(self) -> Path:
        return self.out_dir / "report.json"

    @property
    def report_html(self) -> Path:
        return self.out_dir / "report.html"


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
    """Ingest ``path`` into ``store`` (if not there yet), analyse the stored copy, write
    ``report.json``, ``report.html``, ``labels.txt`` and stage artifacts into ``out_dir``,
    keep a copy of the report in the store, and log an ``analyze`` audit entry.

    Raises :class:`InputError` when the file cannot be ingested.
    """
    options = options or AnalyzeOptions(limits=store.limits)
    outcome = store.ingest(path, source=source)
    if outcome.item is None:
        raise InputError(path, outcome.error or "rejected")
    item = outcome.item
    original = store.original_path(item)
    ctx = AnalysisContext(
        path=original,
        probe=probe(original, options.limits),
        sha256=item.sha256,
        item_id=item.id,
        options=options,
        store=store,
    )
    runs = run_stages(ctx, registry, progress=progress)
    report = build_report(item=item, runs=runs, options=options, store=store)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, bytes] = {
        "report.json": json.dumps(report, indent=2, ensure_ascii=False).encode("utf-8"),
        "labels.txt": render_labels(report).encode("utf-8"),
    }
    files["report.html"] = render_html(report, ctx).encode("utf-8")
    for run in runs:
        if run.result is not None:
            files.update(run.result.artifacts)
    for name, data in files.items():
        (out / name).write_bytes(data)
    store.save_report(item.id, report, files)
    ctx.release_audio()
    return AnalysisOutcome(item_id=item.id, out_dir=out, report=report, runs=tuple(runs))
