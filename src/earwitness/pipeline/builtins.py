"""Registration of the built-in stages. Each domain adds one line here, as a plugin would."""

from __future__ import annotations

from earwitness.pipeline.registry import StageRegistry


def register_builtins(registry: StageRegistry) -> None:
    from earwitness.metadata.stage import MetadataStage

    registry.register(MetadataStage())
