"""Runs the registered stages over one item; a failing stage is recorded, never swallowed."""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable
from dataclasses import replace

from earwitness.pipeline.context import AnalysisContext
from earwitness.pipeline.registry import StageRegistry, default_registry
from earwitness.pipeline.stage import StageRun

log = logging.getLogger(__name__)

ProgressFn = Callable[[str, int, int], None]


def run_stages(
    ctx: AnalysisContext,
    registry: StageRegistry | None = None,
    *,
    progress: ProgressFn | None = None,
) -> list[StageRun]:
    """Run every selected stage in dependency order and return one :class:`StageRun` each.

    A stage raising any exception (in ``params()``, ``enabled()`` or ``run()``) becomes a
    ``failed`` run carrying the error and its traceback's last line; the stages after it still
    run. A stage whose required stage did not
    succeed is ``skipped`` with that reason.
    """
    registry = registry or default_registry()
    opts = ctx.options
    stages = [
        s
        for s in registry.ordered()
        if (opts.stages is None or s.name in opts.stages) and s.name not in opts.skip
    ]
    runs: list[StageRun] = []
    for i, stage in enumerate(stages):
        if progress:
            progress(stage.name, i, len(stages))
        try:
            params = dict(stage.params())
        except Exception as exc:  # e.g. a damaged calibration file: this stage fails alone
            log.warning("stage %s failed: %s", stage.name, exc)
            runs.append(_failed(stage, {}, 0.0, exc))
            continue
        missing = [d for d in stage.requires if d in registry and d not in ctx.results]
        reason = (
            f"needs stage(s) {', '.join(missing)} which did not produce a result"
            if missing
            else None
        )
        if reason is None:
            try:
                reason = stage.enabled(ctx)
            except Exception as exc:  # a broken enabled() is a failure, recorded below
                reason = None
                runs.append(_failed(stage, params, 0.0, exc))
                continue
        if reason is not None:
            runs.append(
                StageRun(
                    name=stage.name,
                    version=stage.version,
                    description=stage.description,
                    status="skipped",
                    elapsed_s=0.0,
                    params=params,
                    reason=reason,
                )
            )
            continue
        t0 = time.perf_counter()
        try:
            result = stage.run(ctx)
        except Exception as exc:
            log.warning("stage %s failed: %s", stage.name, exc)
            runs.append(_failed(stage, params, time.perf_counter() - t0, exc))
            continue
        findings = tuple(f if f.stage else replace(f, stage=stage.name) for f in result.findings)
        result = replace(result, findings=findings)
        ctx.results[stage.name] = result
        runs.append(
            StageRun(
                name=stage.name,
                version=stage.version,
                description=stage.description,
                status="ok",
                elapsed_s=time.perf_counter() - t0,
                params=dict(result.params) or params,
                result=result,
            )
        )
    if progress:
        progress("done", len(stages), len(stages))
    return runs


def _failed(
    stage: object, params: dict[str, object], elapsed: float, exc: BaseException
) -> StageRun:
    tb = traceback.extract_tb(exc.__traceback__)
    where = f" (at {tb[-1].filename.rsplit('/', 1)[-1]}:{tb[-1].lineno})" if tb else ""
    return StageRun(
        name=stage.name,  # type: ignore[attr-defined]
        version=stage.version,  # type: ignore[attr-defined]
        description=stage.description,  # type: ignore[attr-defined]
        status="failed",
        elapsed_s=elapsed,
        params=params,
        error=f"{type(exc).__name__}: {exc}{where}",
    )
