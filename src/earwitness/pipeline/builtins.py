"""Registration of the built-in stages. Each domain adds one line here, as a plugin would."""

from __future__ import annotations

from earwitness.pipeline.registry import StageRegistry


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

    registry.register(fx.DuplicatedSegmentsStage())
    registry.register(fx.EditPointsStage())
    registry.register(fx.CompressionStage())

    from earwitness.events.stage import AcousticEventsStage  # links duplicated shots

    registry.register(AcousticEventsStage())

    registry.register(fx.VoiceBackgroundStage())  # reads acoustic_events when present
