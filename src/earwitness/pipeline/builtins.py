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

    from earwitness.events.stage import AcousticEventsStage

    registry.register(AcousticEventsStage())

    # after acoustic_events: voice_background reads its results
    from earwitness.forensics import stages as fx

    for forensic_stage in (fx.DuplicatedSegmentsStage(), fx.EditPointsStage(),
                           fx.CompressionStage(), fx.VoiceBackgroundStage()):
        registry.register(forensic_stage)
