"""The analysis spine: stages behind one interface, a registry, and the runner.

A stage is any object satisfying :class:`Stage`. Built-in stages register themselves through
:func:`earwitness.pipeline.builtins.register_builtins` exactly as a third-party plugin would,
by calling :meth:`StageRegistry.register`.
"""

from earwitness.pipeline.context import AnalysisContext, AnalyzeOptions
from earwitness.pipeline.registry import StageRegistry, default_registry
from earwitness.pipeline.stage import Stage, StageResult, StageRun

__all__ = [
    "AnalysisContext",
    "AnalyzeOptions",
    "Stage",
    "StageRegistry",
    "StageResult",
    "StageRun",
    "default_registry",
]
