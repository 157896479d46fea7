"""An explicit registry of stages, in dependency order."""

from __future__ import annotations

from collections.abc import Iterator

from earwitness.pipeline.stage import Stage


class StageRegistry:
    """Holds stages by name. Registering a name twice is an error unless ``replace=True``."""

    def __init__(self) -> None:
        self._stages: dict[str, Stage] = {}

    def register(self, stage: Stage, *, replace: bool = False) -> Stage:
        if not isinstance(stage, Stage):
            raise TypeError(f"{stage!r} does not implement the Stage protocol")
        if stage.name in self._stages and not replace:
            raise ValueError(f"a stage named {stage.name!r} is already registered")
        self._stages[stage.name] = stage
        return stage

    def unregister(self, name: str) -> None:
        del self._stages[name]

    def get(self, name: str) -> Stage:
        return self._stages[name]

    def names(self) -> list[str]:
        return [s.name for s in self.ordered()]

    def __contains__(self, name: object) -> bool:
        return name in self._stages

    def __iter__(self) -> Iterator[Stage]:
        return iter(self.ordered())

    def ordered(self) -> list[Stage]:
        """Stages in an order where each comes after the stages it requires or declares in
        an optional ``after`` attribute (stable otherwise)."""
        done: dict[str, Stage] = {}
        visiting: set[str] = set()

        def visit(stage: Stage) -> None:
            if stage.name in done:
                return
            if stage.name in visiting:
                raise ValueError(f"stage dependency cycle through {stage.name!r}")
            visiting.add(stage.name)
            # ``requires``: hard dependencies. ``after`` (optional attribute): stages whose
            # results are used when present, so they must run first if registered.
            for dep in (*stage.requires, *getattr(stage, "after", ())):
                if dep in self._stages:
                    visit(self._stages[dep])
            visiting.discard(stage.name)
            done[stage.name] = stage

        for stage in self._stages.values():
            visit(stage)
        return list(done.values())


_DEFAULT: StageRegistry | None = None


def default_registry() -> StageRegistry:
    """The process-wide registry, with the built-in stages registered on first use."""
    global _DEFAULT
    if _DEFAULT is None:
        from earwitness.pipeline.builtins import register_builtins

        _DEFAULT = StageRegistry()
        register_builtins(_DEFAULT)
    return _DEFAULT
