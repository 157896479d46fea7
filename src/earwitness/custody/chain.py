"""The audit log's hash chain: canonical JSON, entry hashes and the chain check.

Each entry's ``hash`` is the SHA-256 (hex) of the canonical JSON of its other fields
(``seq``, ``at``, ``action``, ``item_id``, ``actor``, ``details``, ``prev_hash``): keys sorted,
no whitespace, UTF-8, non-ASCII kept as is. ``prev_hash`` is the previous entry's ``hash``, and
``GENESIS`` (64 zeros) for the first entry. Anyone can re-check a chain with ten lines of
Python (see docs/custody.md).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from earwitness.custody.records import AuditEntry

GENESIS = "0" * 64
HASHED_FIELDS = ("seq", "at", "action", "item_id", "actor", "details", "prev_hash")


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no whitespace, UTF-8: the byte string that is hashed."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def plain_json(value: Any) -> Any:
    """``value`` as plain JSON data: numpy scalars and arrays become numbers and lists, paths
    and other objects their ``str``, non-finite floats the strings "nan"/"inf"/"-inf"."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, Mapping):
        return {str(k): plain_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain_json(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted((plain_json(v) for v in value), key=repr)
    if hasattr(value, "tolist"):  # numpy scalar or array
        return plain_json(value.tolist())
    return str(value)


def entry_fields(entry: AuditEntry) -> dict[str, Any]:
    return {
        "seq": entry.seq,
        "at": entry.at,
        "action": entry.action,
        "item_id": entry.item_id,
        "actor": entry.actor,
        "details": dict(entry.details),
        "prev_hash": entry.prev_hash,
    }


def entry_hash(entry: AuditEntry) -> str:
    """The hash an entry must carry, recomputed from its other fields."""
    return hashlib.sha256(canonical_json(entry_fields(entry))).hexdigest()


def entry_to_dict(entry: AuditEntry) -> dict[str, Any]:
    return {**entry_fields(entry), "hash": entry.hash}


def entry_from_dict(d: Mapping[str, Any]) -> AuditEntry:
    return AuditEntry(
        seq=int(d["seq"]),
        at=str(d["at"]),
        action=str(d["action"]),
        item_id=d.get("item_id"),
        actor=str(d["actor"]),
        details=dict(d.get("details") or {}),
        prev_hash=str(d["prev_hash"]),
        hash=str(d["hash"]),
    )


def seal(
    *,
    seq: int,
    at: str,
    action: str,
    item_id: str | None,
    actor: str,
    details: Mapping[str, Any],
    prev_hash: str,
) -> AuditEntry:
    """Build the entry that follows ``prev_hash``, with its hash filled in."""
    # Round-trip the details through JSON so what is hashed is exactly what is stored.
    plain = json.loads(canonical_json(plain_json(dict(details))))
    draft = AuditEntry(
        seq=seq,
        at=at,
        action=action,
        item_id=item_id,
        actor=actor,
        details=plain,
        prev_hash=prev_hash,
    )
    return AuditEntry(**{**entry_fields(draft), "hash": entry_hash(draft)})


@dataclass(frozen=True)
class ChainProblem:
    """The first thing wrong with a chain: which entry (by seq) and why."""

    seq: int
    reason: str


def check_chain(entries: Iterable[AuditEntry]) -> tuple[int, ChainProblem | None]:
    """Walk a full chain from seq 1. Returns (entries checked, first problem or None).

    Checks that seqs run 1, 2, 3... without gaps, that each hash matches its fields and that
    each ``prev_hash`` is the previous entry's hash.
    """
    expected_seq = 1
    prev = GENESIS
    n = 0
    for e in entries:
        n += 1
        if e.seq != expected_seq:
            what = "missing" if e.seq > expected_seq else "repeated or out of order"
            return n, ChainProblem(
                expected_seq, f"entry {expected_seq} is {what} (found seq {e.seq} next)"
            )
        if entry_hash(e) != e.hash:
            return n, ChainProblem(e.seq, "hash does not match its contents (entry edited)")
        if e.prev_hash != prev:
            return n, ChainProblem(
                e.seq, "prev_hash does not match the previous entry's hash (chain broken)"
            )
        prev = e.hash
        expected_seq += 1
    return n, None
