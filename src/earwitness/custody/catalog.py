"""The catalog role: item rows, their sightings and the audit log, behind one Protocol.

The SQLite backend (:mod:`earwitness.custody.sqlite_catalog`) is the default; a server
database can be added by implementing :class:`Catalog` and registering a factory in
:data:`CATALOG_BACKENDS`, chosen by the ``catalog`` key of ``STORE/config.json``.

Every write method is one transaction: an item row and its audit entry commit together, so the
catalog never holds an item without the entry that explains it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from earwitness.custody.records import AuditEntry, ItemRecord, SourceRecord


@dataclass(frozen=True)
class AuditDraft:
    """An audit entry before the catalog gives it a seq, a prev_hash and a hash."""

    at: str
    action: str
    item_id: str | None
    actor: str
    details: Mapping[str, Any]


@dataclass(frozen=True)
class Sighting:
    """A file already ingested from ``path`` with this size and mtime (the resume cache)."""

    path: str
    size: int
    mtime_ns: int
    source: str | None
    collected_at: str | None
    sha256: str


@runtime_checkable
class Catalog(Protocol):
    """What the evidence store needs from a catalog backend."""

    def add_item(
        self,
        item: ItemRecord,
        source: SourceRecord,
        entry: AuditDraft,
        seen: Sighting | None = None,
    ) -> tuple[bool, ItemRecord, AuditEntry]:
        """Insert ``item`` with its first sighting and its ``ingest`` entry, in one transaction.

        If an item with the same sha256 is already there (another process won a race), record
        ``source`` against it instead, with ``entry`` turned into a ``duplicate`` entry.
        ``seen`` (the resume cache row) is written in the same transaction.
        Returns (added, the stored item, the entry written).
        """
        ...

    def add_sighting(
        self,
        sha256: str,
        source: SourceRecord,
        entry: AuditDraft,
        seen: Sighting | None = None,
    ) -> tuple[ItemRecord, AuditEntry]:
        """Record another source for an existing item and its audit entry, in one transaction."""
        ...

    def append_audit(self, entry: AuditDraft) -> AuditEntry:
        """Append one entry to the chain (in its own transaction)."""
        ...

    def find(self, id_or_prefix: str) -> list[ItemRecord]:
        """Items whose id or sha256 starts with ``id_or_prefix`` (lower-case hex)."""
        ...

    def by_sha256(self, sha256: str) -> ItemRecord | None: ...

    def items(self) -> list[ItemRecord]:
        """Every item, oldest ingest first."""
        ...

    def audit_entries(self, item_id: str | None = None) -> Iterator[AuditEntry]:
        """Entries in seq order: all of them, or those about one item."""
        ...

    def entry_at(self, seq: int) -> AuditEntry | None:
        """The entry with this seq, if present."""
        ...

    def head(self) -> tuple[int, str] | None:
        """(seq, hash) of the last entry, or None for an empty log."""
        ...

    def remember_path(self, sighting: Sighting) -> None: ...

    def recall_path(
        self, *, path: str, size: int, mtime_ns: int, source: str | None, collected_at: str | None
    ) -> str | None:
        """The sha256 last ingested from this exact path/size/mtime/source, if any."""
        ...

    def close(self) -> None: ...


CatalogFactory = Callable[[Path, Mapping[str, Any]], Catalog]


def _sqlite(root: Path, config: Mapping[str, Any]) -> Catalog:
    from earwitness.custody.sqlite_catalog import SQLiteCatalog

    return SQLiteCatalog(root / str(config.get("catalog_file", "catalog.sqlite")))


CATALOG_BACKENDS: dict[str, CatalogFactory] = {"sqlite": _sqlite}
"""Explicit registry of catalog backends, by the name used in ``config.json``."""


def register_catalog_backend(name: str, factory: CatalogFactory) -> None:
    if name in CATALOG_BACKENDS:
        raise ValueError(f"a catalog backend named {name!r} is already registered")
    CATALOG_BACKENDS[name] = factory
