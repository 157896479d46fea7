"""Ingest hooks: work done for every newly added item (e.g. fingerprinting into the archive index).

A hook is any object with a ``name`` and ``__call__(store, item, path)``. Built-in hooks are
registered in :func:`register_builtin_hooks` exactly as a plugin would register its own. A hook
that raises is recorded in the audit log as ``hook_failed``; it never rejects the ingest.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from earwitness.custody.records import ItemRecord

if TYPE_CHECKING:
    from earwitness.custody.store import EvidenceStore


@runtime_checkable
class IngestHook(Protocol):
    name: str

    def __call__(self, store: EvidenceStore, item: ItemRecord, path: Path) -> None: ...


class HookRegistry:
    """An ordered, explicit list of ingest hooks."""

    def __init__(self) -> None:
        self._hooks: dict[str, IngestHook] = {}

    def register(self, hook: IngestHook, *, replace: bool = False) -> None:
        if hook.name in self._hooks and not replace:
            raise ValueError(f"an ingest hook named {hook.name!r} is already registered")
        self._hooks[hook.name] = hook

    def unregister(self, name: str) -> None:
        self._hooks.pop(name, None)

    def __iter__(self) -> Iterator[IngestHook]:
        return iter(list(self._hooks.values()))

    def names(self) -> list[str]:
        return list(self._hooks)


def register_builtin_hooks(registry: HookRegistry) -> None:
    """Each domain that needs per-item work at ingest adds one line here."""
    from earwitness.fingerprint.archive import ArchiveIndexHook

    registry.register(ArchiveIndexHook())


_DEFAULT: HookRegistry | None = None


def default_hooks() -> HookRegistry:
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = HookRegistry()
        register_builtin_hooks(_DEFAULT)
    return _DEFAULT
