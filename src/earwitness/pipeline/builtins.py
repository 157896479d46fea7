"""Registration of the built-in stages. Each domain adds one line here, as a plugin would."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from earwitness.errors import EarwitnessError
from earwitness.pipeline.registry import StageRegistry

if TYPE_CHECKING:
    from earwitness.pipeline.context import AnalysisContext
    from earwitness.pipeline.stage import Stage, StageResult


def built(make: Callable[[], Stage]) -> Stage:
    """``make()``; when that raises an :class:`EarwitnessError` (a damaged calibration or
    model file), a stand-in with the stage's name that fails with that error when run, so the
    other stages still run and the report says why this one did not."""
    try:
        return make()
    except EarwitnessError as exc:
        return _unbuildable(make, exc)


def _unbuildable(make: Callable[[], Stage], exc: EarwitnessError) -> Stage:
    class Unbuildable:
        name: ClassVar[str] = str(getattr(make, "name", getattr(make, "__name__", "stage")))
        version: ClassVar[str] = str(getattr(make, "version", ""))
        description: ClassVar[str] = str(getattr(make, "description", ""))
        requires: ClassVar[tuple[str, ...]] = tuple(getattr(make, "requires", ()))
        after: ClassVar[tuple[str, ...]] = tuple(getattr(make, "after", ()))
        heavy: ClassVar[bool] = bool(getattr(make, "heavy", False))

        def params(self) -> Mapping[str, Any]:
            return {}

        def enabled(self, ctx: AnalysisContext) -> str | None:
            return None

        def run(self, ctx: AnalysisContext) -> StageResult:
            raise exc.with_traceback(None)

    return Unbuildable()


def register_builtins(registry: StageRegistry) -> None:
    from earwitness.metadata.stage import MetadataStage

    registry.register(MetadataStage())

    from earwitness.fingerprint.stage import ArchiveMatchStage

    registry.register(ArchiveMatchStage())

    from earwitness.speech.stage import SpeechStage

    registry.register(SpeechStage())

    from earwitness.speakers.stage import SpeakersStage  # after speech: reads its segments

    registry.register(SpeakersStage())

    from earwitness.forensics import stages as fx

    # These read their calibration when built: a damaged file fails that stage alone.
    registry.register(built(fx.DuplicatedSegmentsStage))
    registry.register(built(fx.EditPointsStage))
    registry.register(built(fx.CompressionStage))

    from earwitness.events.stage import AcousticEventsStage  # links duplicated shots

    registry.register(AcousticEventsStage())

    registry.register(built(fx.VoiceBackgroundStage))  # reads acoustic_events when present
