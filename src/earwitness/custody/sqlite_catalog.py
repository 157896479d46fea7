"""The default catalog backend: one SQLite file in WAL mode, writers serialised by
``BEGIN IMMEDIATE``, the audit table guarded by triggers that refuse UPDATE and DELETE."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from earwitness.custody.catalog import AuditDraft, Sighting
from earwitness.custody.chain import GENESIS, seal
from earwitness.custody.records import AuditEntry, ItemRecord, SourceRecord
from earwitness.errors import StoreError

SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    sha256 TEXT PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    size INTEGER NOT NULL,
    original_name TEXT NOT NULL,
    duration_s REAL NOT NULL,
    ingested_at TEXT NOT NULL,
    probe TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sources (
    n INTEGER PRIMARY KEY AUTOINCREMENT,
    sha256 TEXT NOT NULL REFERENCES items(sha256),
    source TEXT,
    original_name TEXT NOT NULL,
    path TEXT,
    collected_at TEXT,
    ingested_at TEXT NOT NULL,
    host TEXT NOT NULL,
    user TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sources_sha ON sources(sha256);
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    action TEXT NOT NULL,
    item_id TEXT,
    actor TEXT NOT NULL,
    details TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_item ON audit(item_id);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TABLE IF NOT EXISTS seen_paths (
    path TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    source TEXT NOT NULL,
    collected_at TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    PRIMARY KEY (path, size, mtime_ns, source, collected_at)
);
"""

_ITEM_COLS = "sha256, id, size, original_name, duration_s, ingested_at, probe"


class SQLiteCatalog:
    """:class:`earwitness.custody.catalog.Catalog` over a local SQLite database."""

    def __init__(self, path: Path, *, busy_timeout_s: float = 120.0) -> None:
        self.path = Path(path)
        try:
            self._lock = threading.RLock()  # one connection, usable from several threads
            self._db = sqlite3.connect(
                str(self.path),
                timeout=busy_timeout_s,
                isolation_level=None,
                check_same_thread=False,
            )
            self._db.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = FULL")
            self._db.execute("PRAGMA foreign_keys = ON")
            with self._write():
                self._create_schema()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: cannot open the catalog ({exc})") from exc

    def _create_schema(self) -> None:
        for statement in _statements(SCHEMA):
            self._db.execute(statement)

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One writer transaction: ``BEGIN IMMEDIATE`` takes the write lock up front."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            else:
                self._db.execute("COMMIT")

    def _rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    # -- writes ---------------------------------------------------------------------------

    def _append(self, draft: AuditDraft) -> AuditEntry:
        row = self._db.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
        seq, prev = (int(row[0]) + 1, str(row[1])) if row else (1, GENESIS)
        entry = seal(
            seq=seq,
            at=draft.at,
            action=draft.action,
            item_id=draft.item_id,
            actor=draft.actor,
            details=draft.details,
            prev_hash=prev,
        )
        self._db.execute(
            "INSERT INTO audit (seq, at, action, item_id, actor, details, prev_hash, hash) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                entry.seq,
                entry.at,
                entry.action,
                entry.item_id,
                entry.actor,
                json.dumps(entry.details, sort_keys=True, ensure_ascii=False),
                entry.prev_hash,
                entry.hash,
            ),
        )
        return entry

    def _insert_source(self, sha256: str, s: SourceRecord) -> None:
        self._db.execute(
            "INSERT INTO sources (sha256, source, original_name, path, collected_at, "
            "ingested_at, host, user) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                sha256,
                s.source,
                s.original_name,
                s.path,
                s.collected_at,
                s.ingested_at,
                s.host,
                s.user,
            ),
        )

    def add_item(
        self,
        item: ItemRecord,
        source: SourceRecord,
        entry: AuditDraft,
        seen: Sighting | None = None,
    ) -> tuple[bool, ItemRecord, AuditEntry]:
        with self._write():
            if seen is not None:
                self._remember(seen)
            existing = self._item_where("sha256 = ?", (item.sha256,))
            if existing:
                self._insert_source(item.sha256, source)
                dup = AuditDraft(
                    at=entry.at,
                    action="duplicate",
                    item_id=existing[0].id,
                    actor=entry.actor,
                    details=entry.details,
                )
                written = self._append(dup)
                added = False
            else:
                self._db.execute(
                    f"INSERT INTO items ({_ITEM_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        item.sha256,
                        item.id,
                        item.size,
                        item.original_name,
                        item.duration_s,
                        item.ingested_at,
                        json.dumps(dict(item.probe), sort_keys=True),
                    ),
                )
                self._insert_source(item.sha256, source)
                written = self._append(entry)
                added = True
            stored = self._item_where("sha256 = ?", (item.sha256,))[0]
        return added, stored, written

    def add_sighting(
        self,
        sha256: str,
        source: SourceRecord,
        entry: AuditDraft,
        seen: Sighting | None = None,
    ) -> tuple[ItemRecord, AuditEntry]:
        with self._write():
            if not self._item_where("sha256 = ?", (sha256,)):
                raise StoreError(f"no item with sha256 {sha256} in the catalog")
            if seen is not None:
                self._remember(seen)
            self._insert_source(sha256, source)
            written = self._append(entry)
            stored = self._item_where("sha256 = ?", (sha256,))[0]
        return stored, written

    def append_audit(self, entry: AuditDraft) -> AuditEntry:
        with self._write():
            return self._append(entry)

    def remember_path(self, sighting: Sighting) -> None:
        with self._write():
            self._remember(sighting)

    def _remember(self, sighting: Sighting) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO seen_paths VALUES (?, ?, ?, ?, ?, ?)",
            (
                sighting.path,
                sighting.size,
                sighting.mtime_ns,
                sighting.source or "",
                sighting.collected_at or "",
                sighting.sha256,
            ),
        )

    # -- reads ----------------------------------------------------------------------------

    def recall_path(
        self, *, path: str, size: int, mtime_ns: int, source: str | None, collected_at: str | None
    ) -> str | None:
        rows = self._rows(
            "SELECT sha256 FROM seen_paths WHERE path = ? AND size = ? AND mtime_ns = ? "
            "AND source = ? AND collected_at = ?",
            (path, size, mtime_ns, source or "", collected_at or ""),
        )
        return str(rows[0][0]) if rows else None

    def _sources(self, sha256: str) -> tuple[SourceRecord, ...]:
        rows = self._rows(
            "SELECT source, original_name, collected_at, ingested_at, host, user, path "
            "FROM sources WHERE sha256 = ? ORDER BY n",
            (sha256,),
        )
        return tuple(
            SourceRecord(
                source=r[0],
                original_name=r[1],
                collected_at=r[2],
                ingested_at=r[3],
                host=r[4],
                user=r[5],
                path=r[6],
            )
            for r in rows
        )

    def _item_where(self, where: str, params: tuple[Any, ...]) -> list[ItemRecord]:
        rows = self._rows(
            f"SELECT {_ITEM_COLS} FROM items WHERE {where} ORDER BY ingested_at, sha256", params
        )
        return [
            ItemRecord(
                id=r[1],
                sha256=r[0],
                size=int(r[2]),
                original_name=r[3],
                duration_s=float(r[4]),
                ingested_at=r[5],
                probe=json.loads(r[6]),
                sources=self._sources(r[0]),
            )
            for r in rows
        ]

    def find(self, id_or_prefix: str) -> list[ItemRecord]:
        prefix = id_or_prefix.lower()
        return self._item_where("sha256 >= ? AND sha256 < ?", (prefix, prefix + "g"))

    def by_sha256(self, sha256: str) -> ItemRecord | None:
        found = self._item_where("sha256 = ?", (sha256,))
        return found[0] if found else None

    def items(self) -> list[ItemRecord]:
        return self._item_where("1", ())

    def audit_entries(self, item_id: str | None = None) -> Iterator[AuditEntry]:
        if item_id is None:
            return self._entries("", ())
        return self._entries(" WHERE item_id = ?", (item_id,))

    def entry_at(self, seq: int) -> AuditEntry | None:
        return next(self._entries(" WHERE seq = ?", (seq,)), None)

    def _entries(self, where: str, params: tuple[Any, ...]) -> Iterator[AuditEntry]:
        sql = "SELECT seq, at, action, item_id, actor, details, prev_hash, hash FROM audit"
        rows = self._rows(sql + where + " ORDER BY seq", params)
        for r in rows:
            yield AuditEntry(
                seq=int(r[0]),
                at=r[1],
                action=r[2],
                item_id=r[3],
                actor=r[4],
                details=_details(r[5]),
                prev_hash=r[6],
                hash=r[7],
            )

    def head(self) -> tuple[int, str] | None:
        rows = self._rows("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")
        return (int(rows[0][0]), str(rows[0][1])) if rows else None

    def close(self) -> None:
        self._db.close()


def _details(text: str) -> dict[str, Any]:
    """Stored details; text that is not a JSON object (a tampered row) is kept verbatim so
    the hash check fails on it instead of the reader crashing."""
    try:
        value = json.loads(text)
    except ValueError:
        return {"<unparseable>": text}
    return value if isinstance(value, dict) else {"<not an object>": value}


def _statements(script: str) -> list[str]:
    """Split the schema into statements (triggers contain ';' inside BEGIN...END)."""
    out: list[str] = []
    buf: list[str] = []
    for line in script.strip().splitlines():
        buf.append(line)
        text = "\n".join(buf).strip()
        if text.endswith(";") and (
            not text.upper().startswith("CREATE TRIGGER") or text.upper().endswith("END;")
        ):
            out.append(text)
            buf = []
    return out
