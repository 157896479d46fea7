"""The archive index of an evidence store: open, add at ingest, remove, rebuild."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from earwitness.custody.records import ItemRecord
from earwitness.decode import iter_audio, load_audio
from earwitness.errors import InputError, NotFoundError
from earwitness.fingerprint.features import FingerprintParams, fingerprint
from earwitness.fingerprint.index import ArchiveIndex, IncompatibleIndexError, open_index
from earwitness.fingerprint.matcher import ArchiveMatch
from earwitness.fingerprint.refine import refine_match

if TYPE_CHECKING:
    from earwitness.custody.store import EvidenceStore

log = logging.getLogger(__name__)

DEFAULT_BACKEND = "embedded"


def store_index(store: EvidenceStore, *, backend: str = DEFAULT_BACKEND) -> ArchiveIndex:
    """The archive index kept under ``store.data_dir("index")``."""
    return open_index(Path(store.data_dir("index")) / backend, backend=backend)


def index_file(index: ArchiveIndex, *, item_id: str, sha256: str, path: Path) -> bool:
    """Decode ``path`` and add its fingerprint to ``index`` (False if already present)."""
    if item_id in index:
        return False
    params: FingerprintParams = index.params
    audio = load_audio(path, sr=params.sr, mono=True)
    fp = fingerprint(y=audio.samples, sr=audio.sr, params=params)
    return index.add(item_id=item_id, sha256=sha256, duration_s=audio.duration_s, fp=fp)


def remove_item(store: EvidenceStore, item_id: str, *, reason: str | None = None) -> bool:
    """Remove an item's fingerprints from the index, with an ``index_remove`` audit entry."""
    index = store_index(store)
    removed = index.remove(item_id)
    store.audit(
        "index_remove", item_id=item_id, details={"removed": removed, "reason": reason or ""}
    )
    return removed


def rebuild(store: EvidenceStore, *, progress: Callable[[ItemRecord], None] | None = None) -> int:
    """Rebuild the index from every stored original. Returns the number of items indexed.

    An index of another fingerprint or storage version (which refuses to open) is derived
    data: it is discarded and rebuilt, and the audit entry records that it was.
    """
    discarded = ""
    try:
        index = store_index(store)
    except IncompatibleIndexError as exc:
        shutil.rmtree(Path(store.data_dir("index")) / DEFAULT_BACKEND)
        discarded = str(exc)
        index = store_index(store)
    index.clear()
    n = 0
    for item in store.items():
        try:
            if index_file(
                index, item_id=item.id, sha256=item.sha256, path=Path(store.original_path(item))
            ):
                n += 1
        except Exception as exc:  # one undecodable item must not stop the rebuild
            log.warning("cannot index %s: %s", item.id, exc)
            store.audit("index_failed", item_id=item.id, details={"error": str(exc)})
        if progress:
            progress(item)
    details: dict[str, object] = {"items": n}
    if discarded:
        details["discarded_incompatible_index"] = discarded
    store.audit("index_rebuild", item_id=None, details=details)
    return n


class ArchiveIndexHook:
    """Ingest hook: fingerprint every newly added item into the store's archive index."""

    name = "archive_index"

    def __call__(self, store: EvidenceStore, item: ItemRecord, path: Path) -> None:
        index_file(store_index(store), item_id=item.id, sha256=item.sha256, path=path)


def refine_with_store(
    store: EvidenceStore,
    matches: tuple[ArchiveMatch, ...],
    *,
    q_y: np.ndarray,
    params: FingerprintParams,
    limit: int = 10,
    problems: list[str] | None = None,
) -> tuple[ArchiveMatch, ...]:
    """Refine the span edges of the best ``limit`` matches whose original is in the store
    (imported fingerprints have no audio: their spans stay landmark extents).

    A stored original that can no longer be decoded is a custody problem, not a missing
    item: it is named in ``problems`` (when given) and that match stays unrefined.
    """
    out: list[ArchiveMatch] = []
    for k, m in enumerate(matches):
        if k < limit and not m.refined:  # a match verified on the audio is refined already
            r_y = None
            try:
                item = store.get(m.item_id)
            except NotFoundError:
                item = None  # fingerprints imported without their audio
            if item is not None:
                try:
                    r_y = load_audio(Path(store.original_path(item)), sr=params.sr).samples
                except InputError as exc:
                    if problems is not None:
                        problems.append(
                            f"the stored original of archive item {m.item_id} could not be "
                            f"decoded, so its matched span was not refined ({exc})"
                        )
            if r_y is not None:
                m = refine_match(m, q_y=q_y, r_y=r_y, params=params)
        out.append(m)
    return tuple(out)


class StoreReferences:
    """The store's originals as :class:`~earwitness.fingerprint.verify.ReferenceAudio` for
    verifying near-misses on the audio.

    An item is decoded from its start only as far as the requested span reaches (no seeking,
    so the samples are exactly those of a full decode); the decoded prefix of the last item
    is kept for the next span of the same item. Fingerprints imported without their audio
    give ``None``; a stored original that cannot be decoded is named in ``problems`` (when
    given) and gives ``None``.
    """

    def __init__(
        self, store: EvidenceStore, *, problems: list[str] | None = None, chunk_s: float = 5.0
    ) -> None:
        self.store, self.problems, self.chunk_s = store, problems, chunk_s
        self._item = ""
        self._y = np.zeros(0, dtype=np.float32)
        self._complete = False

    def __call__(self, item_id: str, start_s: float, end_s: float, sr: int) -> np.ndarray | None:
        stop = max(0, round(end_s * sr))
        if item_id != self._item or (self._y.size < stop and not self._complete):
            try:
                item = self.store.get(item_id)
            except NotFoundError:
                return None  # fingerprints imported without their audio
            parts: list[np.ndarray] = []
            n = 0
            complete = True
            try:
                for chunk in iter_audio(
                    Path(self.store.original_path(item)), sr=sr, mono=True, chunk_s=self.chunk_s
                ):
                    parts.append(chunk)
                    n += chunk.size
                    if n >= stop:
                        complete = False
                        break
            except InputError as exc:
                if self.problems is not None:
                    self.problems.append(
                        f"the stored original of archive item {item_id} could not be decoded, "
                        f"so its near-miss was not verified on the audio ({exc})"
                    )
                return None
            self._item, self._complete = item_id, complete
            self._y = np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)
        out: np.ndarray = self._y[round(start_s * sr) : stop]
        return out
