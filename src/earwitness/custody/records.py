"""Plain records the custody layer hands out (frozen: callers cannot alter the catalog)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class SourceRecord:
    """One sighting of an item: where it was said to come from, and when it was ingested.

    ``path`` is the absolute path the file was read from on ``host``.
    """

    source: str | None
    original_name: str
    collected_at: str | None
    ingested_at: str
    host: str
    user: str
    path: str | None = None


@dataclass(frozen=True)
class ItemRecord:
    """A stored original. ``id`` is the first 16 hex digits of ``sha256``.

    ``probe`` is :meth:`earwitness.decode.ProbeInfo.to_dict` of the original at ingest;
    ``duration_s`` is the decoded duration at ingest (encoder delay and padding removed).
    ``sources`` lists every ingest of these bytes, first one first.
    """

    id: str
    sha256: str
    size: int
    original_name: str
    duration_s: float
    ingested_at: str
    probe: Mapping[str, Any]
    sources: tuple[SourceRecord, ...] = ()

    @property
    def format(self) -> str:
        return str(self.probe.get("format", ""))


@dataclass(frozen=True)
class IngestOutcome:
    """Result of ingesting one file: ``status`` is "added", "duplicate" or "rejected"."""

    path: str
    status: str
    item: ItemRecord | None = None
    error: str | None = None
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "id": self.item.id if self.item else None,
            "sha256": self.item.sha256 if self.item else None,
            "duration_s": self.item.duration_s if self.item else None,
            "status": self.status,
            **({"error": self.error} if self.error else {}),
            **({"note": self.note} if self.note else {}),
        }


@dataclass(frozen=True)
class AuditEntry:
    """One audit log entry. ``hash`` = SHA-256 of the canonical JSON of every other field."""

    seq: int
    at: str
    action: str
    item_id: str | None
    actor: str
    details: Mapping[str, Any] = field(default_factory=dict)
    prev_hash: str = ""
    hash: str = ""
