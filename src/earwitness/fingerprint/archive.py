"""The archive index of an evidence store: open, add at ingest, remove, rebuild."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from earwitness.custody.records import ItemRecord
from earwitness.decode import load_audio
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
        if k < limit:
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
