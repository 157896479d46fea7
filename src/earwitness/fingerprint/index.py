"""The archive index: a Protocol, a registry of backends, and the embedded default backend.

The embedded backend keeps postings ``(hash, global frame)`` in sorted, memory-mapped ``.npy``
segments (a small log-structured merge tree: each add writes a small sorted segment; when there
are more than ``max_segments`` the smaller ones are merged). Every item owns a range of the
global frame axis; a posting is one 32-bit word (``postings.pack``: a directory sized to the
segment makes the top hash bits implicit). A JSON manifest lists the segments and items;
writers take an exclusive ``fcntl`` lock and replace the manifest atomically, so two ingest
processes can add at once; readers need no lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from earwitness.errors import StoreError
from earwitness.fingerprint.features import (
    ALGORITHM,
    ALGORITHM_VERSION,
    FingerprintParams,
    Triplets,
)
from earwitness.fingerprint.postings import (
    PackedLayout,
    PackedSegment,
    budget_mask,
    gather,
    pack,
    packed_ranges,
    to_global,
    unpack,
)

FORMAT = "earwitness-archive-index"
FORMAT_VERSION = 2  # 2: one 32-bit word per posting (v1: 8 bytes)
_SEGMENT_FILES = ("w", "d", "b", "h", "p")  # v2 words/directory/blocks; v1 hashes/positions
ITEM_GAP = 64  # frames left free between items on the global axis


@dataclass(frozen=True)
class IndexedItem:
    """One item in the index: its frame range on the global axis."""

    item_id: str
    sha256: str
    duration_s: float
    start: int
    n_frames: int
    n_postings: int


@dataclass(frozen=True)
class IndexHits:
    """Postings found for a query: row in the query hash array, item number, item-local frame."""

    rows: np.ndarray
    item: np.ndarray
    ref_t: np.ndarray
    items: tuple[IndexedItem, ...]


@runtime_checkable
class ArchiveIndex(Protocol):
    """What the matcher needs from an index backend."""

    params: FingerprintParams

    def add(self, *, item_id: str, sha256: str, duration_s: float, fp: Triplets) -> bool: ...

    def remove(self, item_id: str) -> bool: ...

    def clear(self) -> None: ...

    def items(self) -> list[IndexedItem]: ...

    def __contains__(self, item_id: object) -> bool: ...

    def total_duration_s(self) -> float: ...

    def lookup(
        self,
        hashes: np.ndarray,
        *,
        max_postings: int,
        max_hits: int = ...,
        priority: np.ndarray | None = ...,
    ) -> IndexHits: ...

    def postings(self, item_id: str) -> tuple[np.ndarray, np.ndarray]: ...

    def stats(self) -> dict[str, Any]: ...


IndexFactory = Callable[[Path, FingerprintParams], ArchiveIndex]
_BACKENDS: dict[str, IndexFactory] = {}


def register_backend(name: str, factory: IndexFactory, *, replace: bool = False) -> None:
    """Register an index backend by name (built-ins register the same way)."""
    if name in _BACKENDS and not replace:
        raise ValueError(f"an index backend named {name!r} is already registered")
    _BACKENDS[name] = factory


def backend_names() -> list[str]:
    return sorted(_BACKENDS)


def open_index(
    directory: Path, *, backend: str = "embedded", params: FingerprintParams | None = None
) -> ArchiveIndex:
    """Open (creating if needed) the index in ``directory`` with the named backend."""
    if backend not in _BACKENDS:
        raise StoreError(f"unknown index backend {backend!r}; known: {backend_names()}")
    return _BACKENDS[backend](Path(directory), params or FingerprintParams())


class IncompatibleIndexError(StoreError):
    """The index on disk was built by another fingerprint or storage format: rebuild it."""


class EmbeddedIndex:
    """Sorted memory-mapped posting segments plus a JSON manifest, in one directory."""

    def __init__(
        self, directory: Path, params: FingerprintParams, *, max_segments: int = 8
    ) -> None:
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.params = params
        self.max_segments = max_segments
        self._cache: dict[str, PackedSegment] = {}
        with self._locked():
            man = self._read_manifest()
            if man is None:
                self._write_manifest(self._empty_manifest())
            else:
                self._check_params(man)

    # -- manifest -----------------------------------------------------------------------
    def _empty_manifest(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "algorithm": ALGORITHM,
            "algorithm_version": ALGORITHM_VERSION,
            "params": self.params.to_dict(),
            "next_pos": 0,
            "items": {},
            "segments": [],
        }

    def _check_params(self, man: dict[str, Any]) -> None:
        if (
            man.get("format") != FORMAT
            or man.get("algorithm") != ALGORITHM
            or man.get("algorithm_version") != ALGORITHM_VERSION
            or man.get("params") != self.params.to_dict()
        ):
            raise IncompatibleIndexError(
                f"{self.dir}: the archive index was built with a different fingerprint "
                f"({man.get('algorithm')} v{man.get('algorithm_version')}; this earwitness "
                f"uses {ALGORITHM} v{ALGORITHM_VERSION}); run "
                "`earwitness match --rebuild-index` to rebuild it from the store"
            )
        if man.get("version") != FORMAT_VERSION:
            raise IncompatibleIndexError(
                f"{self.dir}: the archive index has storage format version "
                f"{man.get('version')} (this earwitness reads version {FORMAT_VERSION}); run "
                "`earwitness match --rebuild-index` to rebuild it from the store"
            )

    def _read_manifest(self) -> dict[str, Any] | None:
        path = self.dir / "manifest.json"
        if not path.exists():
            return None
        try:
            data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise StoreError(f"{path}: unreadable index manifest ({exc})") from exc
        return data

    def _manifest(self) -> dict[str, Any]:
        man = self._read_manifest()
        return man if man is not None else self._empty_manifest()

    def _write_manifest(self, man: dict[str, Any]) -> None:
        tmp = self.dir / f".manifest.{uuid.uuid4().hex}.tmp"
        tmp.write_text(json.dumps(man, indent=1), encoding="utf-8")
        os.replace(tmp, self.dir / "manifest.json")

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        with open(self.dir / ".lock", "a+b") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

    # -- segments -----------------------------------------------------------------------
    def _write_segment(self, hashes: np.ndarray, pos: np.ndarray) -> dict[str, Any]:
        return write_segment(self.dir, pack(hashes, pos))

    def _load_segment(self, rec: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
        """(hashes, global positions) of a segment, sorted by (hash, position)."""
        return unpack(self._open_segment(rec))

    def _open_segment(self, rec: dict[str, Any]) -> PackedSegment:
        """The memory-mapped segment of manifest record ``rec``."""
        sid = rec["id"]
        if sid not in self._cache:
            w, d, b = (
                np.load(self.dir / f"seg-{sid}-{x}.npy", mmap_mode="r") for x in ("w", "d", "b")
            )
            lay = PackedLayout(dir_bits=int(rec["dir_bits"]), pos_bits=int(rec["pos_bits"]))
            self._cache[sid] = PackedSegment(words=w, directory=d, blocks=b, layout=lay)
        return self._cache[sid]

    def _delete_segment(self, sid: str) -> None:
        self._cache.pop(sid, None)
        for suffix in _SEGMENT_FILES:
            with contextlib.suppress(FileNotFoundError):
                (self.dir / f"seg-{sid}-{suffix}.npy").unlink()

    def _merge(self, man: dict[str, Any], sids: Sequence[str]) -> None:
        parts = [self._load_segment(s) for s in man["segments"] if s["id"] in sids]
        h = np.concatenate([np.asarray(a) for a, _ in parts])
        p = np.concatenate([np.asarray(b) for _, b in parts])
        seg = self._write_segment(h, p)
        man["segments"] = [s for s in man["segments"] if s["id"] not in sids] + [seg]

    # -- public API ---------------------------------------------------------------------
    def add(self, *, item_id: str, sha256: str, duration_s: float, fp: Triplets) -> bool:
        """Add one item's fingerprint. Returns False if it is already indexed."""
        return self.add_many([(item_id, sha256, duration_s, fp)]) == 1

    def add_many(self, entries: Sequence[tuple[str, str, float, Triplets]]) -> int:
        """Add several items as one segment (used by rebuild and import)."""
        if any(fp.params != self.params for *_, fp in entries):
            raise StoreError("fingerprint parameters differ from the index's")
        with self._locked():
            man = self._manifest()
            hs: list[np.ndarray] = []
            ps: list[np.ndarray] = []
            added = 0
            for item_id, sha, dur, fp in entries:
                if item_id in man["items"]:
                    continue
                start = int(man["next_pos"])
                n_frames = int(max(fp.n_frames, int(fp.t1.max()) + 1 if fp.t1.size else 0))
                if start + n_frames + ITEM_GAP >= 2**32:
                    raise StoreError(f"{self.dir}: global frame axis full (uint32)")
                man["next_pos"] = start + n_frames + ITEM_GAP
                man["items"][item_id] = {
                    "sha256": sha,
                    "duration_s": float(dur),
                    "start": start,
                    "n_frames": n_frames,
                    "n_postings": int(fp.hashes.size),
                }
                hs.append(fp.hashes)
                ps.append(fp.t1.astype(np.int64) + start)
                added += 1
            if added:
                seg = self._write_segment(np.concatenate(hs), np.concatenate(ps))
                man["segments"].append(seg)
                if len(man["segments"]) > self.max_segments:
                    segs = sorted(man["segments"], key=lambda s: s["n"])
                    small = [s["id"] for s in segs[:-1]]
                    if sum(s["n"] for s in segs[:-1]) * 2 >= segs[-1]["n"]:
                        small.append(segs[-1]["id"])
                    self._merge(man, small)
                    old = small
                else:
                    old = []
                self._write_manifest(man)
                for sid in old:
                    self._delete_segment(sid)
        return added

    def remove(self, item_id: str) -> bool:
        """Delete an item's postings from every segment. Returns False if it was absent."""
        with self._locked():
            man = self._manifest()
            info = man["items"].pop(item_id, None)
            if info is None:
                return False
            lo, hi = info["start"], info["start"] + info["n_frames"]
            old: list[str] = []
            segs: list[dict[str, Any]] = []
            for seg in man["segments"]:
                h, p = self._load_segment(seg)
                inside = (p >= lo) & (p < hi)
                if inside.any():
                    keep = ~inside
                    segs.append(self._write_segment(np.asarray(h)[keep], np.asarray(p)[keep]))
                    old.append(seg["id"])
                else:
                    segs.append(seg)
            man["segments"] = segs
            self._write_manifest(man)
            for sid in old:
                self._delete_segment(sid)
        return True

    def clear(self) -> None:
        with self._locked():
            man = self._manifest()
            for seg in man["segments"]:
                self._delete_segment(seg["id"])
            self._write_manifest(self._empty_manifest())

    def items(self) -> list[IndexedItem]:
        man = self._manifest()
        return [
            IndexedItem(
                item_id=k,
                sha256=v["sha256"],
                duration_s=v["duration_s"],
                start=v["start"],
                n_frames=v["n_frames"],
                n_postings=v["n_postings"],
            )
            for k, v in sorted(man["items"].items(), key=lambda kv: kv[1]["start"])
        ]

    def __contains__(self, item_id: object) -> bool:
        return item_id in self._manifest()["items"]

    def total_duration_s(self) -> float:
        return float(sum(v["duration_s"] for v in self._manifest()["items"].values()))

    def lookup(
        self,
        hashes: np.ndarray,
        *,
        max_postings: int,
        max_hits: int = 1 << 62,
        priority: np.ndarray | None = None,
    ) -> IndexHits:
        """Postings equal to ``hashes``, mapped to (item number, item-local frame).

        Hashes with more than ``max_postings`` postings are skipped; if more than
        ``max_hits`` postings would be gathered, the rarest hashes are taken first.
        """
        for attempt in range(3):
            man = self._manifest()
            try:
                segs = [self._open_segment(seg) for seg in man["segments"]]
                spans = [packed_ranges(seg, hashes) for seg in segs]
                total = np.zeros(hashes.size, np.int64)
                for _, n in spans:
                    total += n
                keep = budget_mask(
                    total, max_postings=max_postings, max_hits=max_hits, priority=priority
                )
                rows_l: list[np.ndarray] = []
                pos_l: list[np.ndarray] = []
                for seg, (lo, n) in zip(segs, spans, strict=True):
                    r, v = gather(values=seg.words, lo=lo, n=np.where(keep, n, 0))
                    rows_l.append(r)
                    pos_l.append(to_global(seg, v))
                break
            except FileNotFoundError:  # a concurrent merge replaced a segment: re-read
                self._cache.clear()
                if attempt == 2:
                    raise
        items = tuple(
            IndexedItem(
                item_id=k,
                sha256=v["sha256"],
                duration_s=v["duration_s"],
                start=v["start"],
                n_frames=v["n_frames"],
                n_postings=v["n_postings"],
            )
            for k, v in sorted(man["items"].items(), key=lambda kv: kv[1]["start"])
        )
        rows = np.concatenate(rows_l) if rows_l else np.zeros(0, np.int64)
        pos = np.concatenate(pos_l) if pos_l else np.zeros(0, np.int64)
        starts = np.array([it.start for it in items], dtype=np.int64)
        ends = starts + np.array([it.n_frames for it in items], dtype=np.int64)
        k = np.searchsorted(starts, pos, side="right") - 1
        ok = (k >= 0) & (pos < ends[np.clip(k, 0, None)]) if starts.size else pos < 0
        k = k[ok]
        return IndexHits(rows=rows[ok], item=k, ref_t=pos[ok] - starts[k], items=items)

    def postings(self, item_id: str) -> tuple[np.ndarray, np.ndarray]:
        """(hashes, item-local anchor frames) of one item, sorted by frame."""
        man = self._manifest()
        if item_id not in man["items"]:
            raise KeyError(item_id)
        info = man["items"][item_id]
        lo, hi = info["start"], info["start"] + info["n_frames"]
        hs, ts = [], []
        for seg in man["segments"]:
            h, p = self._load_segment(seg)
            inside = (np.asarray(p) >= lo) & (np.asarray(p) < hi)
            hs.append(np.asarray(h)[inside])
            ts.append(np.asarray(p)[inside].astype(np.int64) - lo)
        h_all, t_all = np.concatenate(hs), np.concatenate(ts)
        order = np.lexsort((h_all, t_all))
        return h_all[order].astype(np.uint32), t_all[order].astype(np.uint32)

    def stats(self) -> dict[str, Any]:
        man = self._manifest()
        size = sum(f.stat().st_size for f in self.dir.glob("seg-*.npy"))
        size += (self.dir / "manifest.json").stat().st_size
        return {
            "backend": "embedded",
            "items": len(man["items"]),
            "segments": len(man["segments"]),
            "postings": int(sum(s["n"] for s in man["segments"])),
            "hours": self.total_duration_s() / 3600.0,
            "bytes": int(size),
        }


def write_segment(directory: Path, seg: PackedSegment) -> dict[str, Any]:
    """Write a packed segment's files (atomically each) and return its manifest record."""
    sid = uuid.uuid4().hex[:16]
    for suffix, arr in (("w", seg.words), ("d", seg.directory), ("b", seg.blocks)):
        tmp = directory / f".seg-{sid}-{suffix}.tmp.npy"
        np.save(tmp, arr)
        os.replace(tmp, directory / f"seg-{sid}-{suffix}.npy")
    return {
        "id": sid,
        "n": seg.size,
        "dir_bits": seg.layout.dir_bits,
        "pos_bits": seg.layout.pos_bits,
    }


register_backend("embedded", lambda d, p: EmbeddedIndex(d, p))
