"""The stage interface and its frozen result."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

from earwitness.findings import Finding

if TYPE_CHECKING:
    from earwitness.pipeline.context import AnalysisContext


@dataclass(frozen=True)
class StageResult:
    """What a stage returns: its findings plus a stage-level summary.

    ``params`` records the parameters actually used (copied into the report's methods
    section). ``summary`` carries stage-level values that are not time-spanned findings (for
    example the detected language, the speaker count, a compression verdict's inputs).
    ``artifacts`` maps a file name to bytes written next to the report (e.g. an SRT file).
    ``questions`` lists the questions this stage addresses, in plain words.
    """

    findings: tuple[Finding, ...] = ()
    params: Mapping[str, Any] = field(default_factory=dict)
    summary: Mapping[str, Any] = field(default_factory=dict)
    artifacts: Mapping[str, bytes] = field(default_factory=dict)
    limitations: tuple[str, ...] = ()


@dataclass(frozen=True)
class StageRun:
    """The record the runner keeps of one stage: identity, status, timing and result."""

    name: str
    version: str
    description: str
    status: str  # "ok" | "failed" | "skipped"
    elapsed_s: float
    params: Mapping[str, Any]
    result: StageResult | None = None
    error: str | None = None
    reason: str | None = None  # why skipped


@runtime_checkable
class Stage(Protocol):
    """An analysis stage.

    Attributes: ``name`` (stable, snake_case; also the key for ordering dependencies),
    ``version`` (bump when results can change), ``description`` (one sentence for the
    report's methods section), ``requires`` (names of earlier stages whose results it reads via
    ``ctx.results``), ``heavy`` (True when it needs optional models: such stages can be turned
    off with options).

    ``params()`` returns the parameters the stage will use; ``enabled(ctx)`` returns ``None``
    to run or a reason to skip; ``run(ctx)`` does the work.
    """

    name: ClassVar[str]
    version: ClassVar[str]
    description: ClassVar[str]
    requires: ClassVar[tuple[str, ...]]

    def params(self) -> Mapping[str, Any]: ...

    def enabled(self, ctx: AnalysisContext) -> str | None: ...

    def run(self, ctx: AnalysisContext) -> StageResult: ...
