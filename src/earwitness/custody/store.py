"""The evidence store: originals (content-addressed, write-once), catalog, audit chain.

Layout of ``root``::

    objects/ab/cd/<sha256>   originals, byte-exact, mode 0444
    catalog.sqlite           items, sightings and the hash-chained audit log (WAL)
    audit.head               {"seq": N, "hash": "..."}: the chain head, to detect a cut tail
    reports/<id>/<time>/     report files kept by save_report()
    data/<name>/             per-subsystem data (indexes, voices...), see data_dir()
    config.json              optional limits and catalog backend (see custody.config)
    tmp/                     private copies being ingested

See docs/custody.md for the crash-safety and concurrency argument.
"""

from __future__ import annotations

import fcntl
import getpass
import hashlib
import json
import logging
import os
import re
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from earwitness.custody.catalog import CATALOG_BACKENDS, AuditDraft, Catalog, Sighting
from earwitness.custody.chain import canonical_json
from earwitness.custody.config import StoreConfig, load_config
from earwitness.custody.hooks import HookRegistry, default_hooks
from earwitness.custody.objects import (
    ObjectStore,
    Staged,
    fsync_dir,
    remove_dead_temps,
    sha256_file,
    write_atomic,
)
from earwitness.custody.records import AuditEntry, IngestOutcome, ItemRecord, SourceRecord
from earwitness.decode import Limits, iter_audio, probe
from earwitness.errors import InputError, NotFoundError, StoreError

log = logging.getLogger(__name__)

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_HEXPREFIX = re.compile(r"^[0-9a-f]{8,64}$")


def utc_now() -> str:
    """UTC ISO 8601 with microseconds, e.g. ``2026-11-25T04:05:06.123456Z``."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid())


@dataclass(frozen=True)
class Head:
    seq: int
    hash: str


class EvidenceStore:
    """Open with :meth:`open`. Safe to use from several processes at once (not threads:
    one instance per thread)."""

    def __init__(
        self, root: Path, *, config: StoreConfig, catalog: Catalog, hooks: HookRegistry
    ) -> None:
        self.root = root
        self.config = config
        self.limits: Limits = config.limits
        self.catalog = catalog
        self.hooks = hooks
        self.objects = ObjectStore(root)
        self.host = socket.gethostname()
        self.user = _user()

    @classmethod
    def open(
        cls,
        root: str | Path,
        *,
        limits: Limits | None = None,
        hooks: HookRegistry | None = None,
    ) -> EvidenceStore:
        """Open (creating if needed) the store at ``root``. ``limits`` overrides config.json."""
        root = Path(root).expanduser().absolute()
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"{root}: cannot create the evidence store ({exc.strerror})") from exc
        config = load_config(root / "config.json")
        if limits is not None:
            config = StoreConfig(limits=limits, catalog=config.catalog, extra=config.extra)
        factory = CATALOG_BACKENDS.get(config.catalog)
        if factory is None:
            raise StoreError(
                f"{root / 'config.json'}: unknown catalog backend {config.catalog!r}; "
                f"known: {', '.join(sorted(CATALOG_BACKENDS))}"
            )
        store = cls(
            root,
            config=config,
            catalog=factory(root, config.extra),
            hooks=hooks if hooks is not None else default_hooks(),
        )
        store.objects.remove_stale_temps()
        remove_dead_temps(root, ".audit.head.*.tmp")
        return store

    def close(self) -> None:
        self.catalog.close()

    def __enter__(self) -> EvidenceStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def actor(self) -> str:
        return f"{self.user}@{self.host}"

    def _draft(self, action: str, item_id: str | None, details: Mapping[str, Any]) -> AuditDraft:
        return AuditDraft(
            at=utc_now(), action=action, item_id=item_id, actor=self.actor, details=details
        )

    # -- ingest ---------------------------------------------------------------------------

    def ingest(
        self,
        path: str | Path,
        *,
        source: str | None = None,
        collected_at: str | None = None,
        resume: bool = False,
    ) -> IngestOutcome:
        """Store ``path`` as evidence. Never raises for bad input: returns status "rejected"
        with the reason. Same bytes as a stored item: status "duplicate", and the new source
        is recorded. ``resume=True`` skips (without a new record) a file already ingested
        from the same path, size, mtime, source and collected-at."""
        shown = str(path)
        p = Path(path)
        try:
            return self._ingest(p, source=source, collected_at=collected_at, resume=resume)
        except InputError as exc:
            return IngestOutcome(path=shown, status="rejected", error=exc.reason)

    def _ingest(
        self, p: Path, *, source: str | None, collected_at: str | None, resume: bool
    ) -> IngestOutcome:
        try:
            st = p.stat()
        except OSError as exc:
            raise InputError(p, f"cannot read file ({exc.strerror})") from exc
        if not p.is_file():
            raise InputError(p, "not a regular file")
        if collected_at is not None:
            collected_at = _check_iso(p, collected_at)
        abspath = str(p.absolute())
        if resume:
            sha = self.catalog.recall_path(
                path=abspath,
                size=st.st_size,
                mtime_ns=st.st_mtime_ns,
                source=source,
                collected_at=collected_at,
            )
            item = self.catalog.by_sha256(sha) if sha else None
            if item is not None and self.original_path(item).is_file():
                return IngestOutcome(
                    path=str(p),
                    status="duplicate",
                    item=item,
                    note="already ingested from this path; skipped",
                )
        if st.st_size == 0:
            raise InputError(p, "file is empty (0 bytes)")
        if st.st_size > self.limits.max_bytes:
            raise InputError(
                p, f"file is {st.st_size} bytes, over the limit of {self.limits.max_bytes} bytes"
            )
        staged = self.objects.stage(p, max_bytes=self.limits.max_bytes)
        try:
            sighting = SourceRecord(
                source=source,
                original_name=p.name,
                collected_at=collected_at,
                ingested_at=utc_now(),
                host=self.host,
                user=self.user,
                path=abspath,
            )
            details: dict[str, Any] = {
                "sha256": staged.sha256,
                "size": staged.size,
                "original_name": p.name,
                "source": source,
                "collected_at": collected_at,
                "path": abspath,
            }
            seen = Sighting(
                path=abspath,
                size=st.st_size,
                mtime_ns=st.st_mtime_ns,
                source=source,
                collected_at=collected_at,
                sha256=staged.sha256,
            )
            existing = self.catalog.by_sha256(staged.sha256)
            if existing is not None:
                if self._restore_if_missing(staged):
                    details["restored_missing_original"] = True
                item, _ = self.catalog.add_sighting(
                    staged.sha256, sighting, self._draft("duplicate", existing.id, details), seen
                )
                self._write_head()
                return IngestOutcome(path=str(p), status="duplicate", item=item)
            info, duration = self._validate(p, staged)
            adopted = self._place(staged)
            item = ItemRecord(
                id=staged.sha256[:16],
                sha256=staged.sha256,
                size=staged.size,
                original_name=p.name,
                duration_s=duration,
                ingested_at=sighting.ingested_at,
                probe=info,
            )
            details["duration_s"] = f"{duration:.6f}"
            details["format"] = str(info.get("format", ""))
            if adopted:
                details["adopted_orphan"] = True
            added, item, _ = self.catalog.add_item(
                item, sighting, self._draft("ingest", item.id, details), seen
            )
            self._write_head()
        finally:
            self.objects.discard(staged.path)
        if added:
            self._run_hooks(item)
            return IngestOutcome(path=str(p), status="added", item=item)
        return IngestOutcome(path=str(p), status="duplicate", item=item)

    def _validate(self, p: Path, staged: Staged) -> tuple[dict[str, Any], float]:
        """Probe and fully decode the private copy once: rejects what is not usable audio."""
        try:
            info = probe(staged.path, self.limits)
            n = 0
            for chunk in iter_audio(
                staged.path, sr=None, mono=True, chunk_s=60.0, limits=self.limits
            ):
                n += int(chunk.shape[-1])
        except InputError as exc:
            raise InputError(p, exc.reason.replace(str(staged.path), str(p))) from exc
        except Exception as exc:  # a decoder library error we did not foresee
            reason = f"cannot be decoded ({type(exc).__name__}: {exc})"
            raise InputError(p, reason.replace(str(staged.path), str(p))) from exc
        sr = int(info.audio.sample_rate or 0)
        if n == 0 or sr == 0:
            raise InputError(p, "audio stream decodes to zero samples")
        d = info.to_dict()
        d["path"] = p.name
        return d, n / sr

    def _place(self, staged: Staged) -> bool:
        """Put the object in place. True if an orphan object (from a killed ingest) was adopted."""
        if self.objects.commit(staged):
            return False
        final = self.objects.path_for(staged.sha256)
        if sha256_file(final) == staged.sha256:
            return True
        log.warning("%s: orphan object is damaged; replacing it with a good copy", final)
        self.objects.replace(staged)
        return True

    def _restore_if_missing(self, staged: Staged) -> bool:
        """Put back a missing original from identical bytes (never overwrite one)."""
        if self.objects.path_for(staged.sha256).exists():
            return False
        log.warning("original %s was missing; restored from identical input", staged.sha256)
        return self.objects.commit(staged)

    def _run_hooks(self, item: ItemRecord) -> None:
        for hook in self.hooks:
            try:
                hook(self, item, self.original_path(item))
            except Exception as exc:
                log.warning("ingest hook %s failed on %s: %s", hook.name, item.id, exc)
                self.audit(
                    "hook_failed",
                    item_id=item.id,
                    details={"hook": hook.name, "error": f"{type(exc).__name__}: {exc}"},
                )

    # -- the chain head file --------------------------------------------------------------

    @property
    def head_path(self) -> Path:
        return self.root / "audit.head"

    def read_head_file(self) -> Head | None:
        try:
            raw = json.loads(self.head_path.read_text(encoding="utf-8"))
            return Head(seq=int(raw["seq"]), hash=str(raw["hash"]))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise StoreError(f"{self.head_path}: unreadable ({exc})") from exc

    def _write_head(self) -> None:
        """Record the chain head in audit.head, under a lock so it only moves forward. If the
        file disagrees with the log (entries removed), leave it: verify will report it."""
        with open(self.root / "audit.lock", "a+b") as lock:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            head = self.catalog.head()
            if head is None:
                return
            try:
                old = self.read_head_file()
            except StoreError:
                old = None
            if old is not None and not self._head_consistent(old, head):
                log.error("%s disagrees with the audit log; not updating it", self.head_path)
                return
            write_atomic(self.head_path, canonical_json({"seq": head[0], "hash": head[1]}))

    def _head_consistent(self, old: Head, head: tuple[int, str]) -> bool:
        if old.seq > head[0]:
            return False
        at = self.catalog.entry_at(old.seq)
        return at is not None and at.hash == old.hash

    # -- queries --------------------------------------------------------------------------

    def get(self, id_or_sha_prefix: str) -> ItemRecord:
        """An item by id or by a unique sha256 prefix of at least 8 hex digits."""
        key = id_or_sha_prefix.strip().lower()
        if not _HEXPREFIX.match(key):
            raise NotFoundError(
                f"{id_or_sha_prefix!r}: not an item id (give the id or at least 8 hex digits "
                "of the SHA-256)"
            )
        found = self.catalog.find(key)
        if not found:
            raise NotFoundError(f"{id_or_sha_prefix}: no such item in {self.root}")
        if len(found) > 1:
            raise NotFoundError(
                f"{id_or_sha_prefix}: ambiguous, matches {len(found)} items "
                f"({', '.join(i.id for i in found[:5])}); give more digits"
            )
        return found[0]

    def items(self) -> list[ItemRecord]:
        return self.catalog.items()

    def original_path(self, item: ItemRecord) -> Path:
        """The stored original (read-only; never write to it)."""
        return self.objects.path_for(item.sha256)

    def audit(self, action: str, *, item_id: str | None, details: Mapping[str, Any]) -> AuditEntry:
        """Append an entry (e.g. ``index_remove``) to the audit log."""
        entry = self.catalog.append_audit(self._draft(action, item_id, details))
        self._write_head()
        return entry

    def audit_head(self) -> AuditEntry | None:
        """The last entry of the log (cheap, without reading the whole log)."""
        head = self.catalog.head()
        return self.catalog.entry_at(head[0]) if head is not None else None

    def audit_entries(self, item_id: str | None = None) -> list[AuditEntry]:
        return list(self.catalog.audit_entries(item_id))

    def data_dir(self, name: str) -> Path:
        """``root/data/<name>``, created on demand, for a subsystem's own files."""
        if not _NAME.match(name):
            raise ValueError(f"data_dir name {name!r} must be a simple name like 'index'")
        d = self.root / "data" / name
        d.mkdir(parents=True, exist_ok=True)
        return d

    # -- reports --------------------------------------------------------------------------

    def save_report(
        self, item_id: str, report: Mapping[str, Any], files: Mapping[str, bytes]
    ) -> Path:
        """Keep ``files`` in ``reports/<item_id>/<UTC time>/`` and log an ``analysis`` entry
        with the report's SHA-256 (of ``report.json`` if given, else of its canonical JSON)."""
        item = self.get(item_id)
        for name in files:
            parts = Path(name).parts
            if not parts or Path(name).is_absolute() or ".." in parts or name.startswith("."):
                raise StoreError(f"report file name {name!r} is not a plain relative name")
        base = self.root / "reports" / item.id
        base.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
        final = base / stamp
        n = 1
        while final.exists():
            final = base / f"{stamp}-{n}"
            n += 1
        tmp = base / f".{final.name}.{os.getpid()}.tmp"
        tmp.mkdir()
        hashes: dict[str, str] = {}
        for name, data in sorted(files.items()):
            target = tmp / name
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(target, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            hashes[name] = hashlib.sha256(data).hexdigest()
        os.rename(tmp, final)
        fsync_dir(base)
        report_sha = (
            hashes.get("report.json")
            or hashlib.sha256(
                canonical_json(json.loads(json.dumps(report, default=str)))
            ).hexdigest()
        )
        self.audit(
            "analysis",
            item_id=item.id,
            details={
                "report_sha256": report_sha,
                "report_dir": str(final.relative_to(self.root)),
                "files": hashes,
            },
        )
        return final

    def latest_report(self, item_id: str) -> Path | None:
        """The newest ``reports/<id>/<time>/`` directory, or None."""
        base = self.root / "reports" / self.get(item_id).id
        if not base.is_dir():
            return None
        dirs = sorted(d for d in base.iterdir() if d.is_dir() and not d.name.startswith("."))
        return dirs[-1] if dirs else None

    def report_dirs(self, item_id: str) -> list[Path]:
        base = self.root / "reports" / self.get(item_id).id
        if not base.is_dir():
            return []
        return sorted(d for d in base.iterdir() if d.is_dir() and not d.name.startswith("."))

    # -- verify and export ----------------------------------------------------------------

    def verify(self) -> VerifyReport:
        """Re-hash every original and check the audit chain (see :mod:`custody.verify`)."""
        from earwitness.custody.verify import verify_store

        return verify_store(self)

    def export(self, item_id: str, out_dir: str | Path) -> Path:
        """Write an evidence bundle for one item into ``out_dir`` (see :mod:`custody.export`)."""
        from earwitness.custody.export import export_bundle

        return export_bundle(self, item_id, Path(out_dir))


def _check_iso(p: Path, value: str) -> str:
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InputError(p, f"collected-at {value!r} is not an ISO 8601 date/time") from exc
    return value


from earwitness.custody.verify import VerifyReport  # noqa: E402  (re-exported for typing)

__all__ = ["EvidenceStore", "VerifyReport", "utc_now"]
