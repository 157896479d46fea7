"""Archive matching: landmark-triplet fingerprints, an archive index and a matcher.

Public API::

    fingerprint(*, y, sr, params=None, query=False) -> Triplets
    self_match(*, y, sr, min_duration_s=0.3, ...) -> list[SelfMatch]
    open_index(directory, backend="embedded") -> ArchiveIndex; register_backend(name, factory)
    store_index(store) -> ArchiveIndex; rebuild(store); remove_item(store, item_id)
    match_audio(*, y, sr, index, params=None, exclude=frozenset()) -> MatchResult
    export_fingerprints(index, item_ids, path); import_fingerprints(index, path)
"""

from earwitness.fingerprint.features import FingerprintParams, Triplets, fingerprint
from earwitness.fingerprint.index import (
    ArchiveIndex,
    EmbeddedIndex,
    IndexedItem,
    backend_names,
    open_index,
    register_backend,
)
from earwitness.fingerprint.matcher import (
    ArchiveMatch,
    MatchParams,
    MatchResult,
    load_match_params,
    match_audio,
    match_fingerprint,
)
from earwitness.fingerprint.selfmatch import SelfMatch, self_match

__all__ = [
    "ArchiveIndex",
    "ArchiveMatch",
    "EmbeddedIndex",
    "FingerprintParams",
    "IndexedItem",
    "MatchParams",
    "MatchResult",
    "SelfMatch",
    "Triplets",
    "backend_names",
    "fingerprint",
    "load_match_params",
    "match_audio",
    "match_fingerprint",
    "open_index",
    "register_backend",
    "self_match",
]
