"""Sorted posting arrays and their vectorised look-up (shared by index backends and tests)."""

from __future__ import annotations

import numpy as np


def sort_postings(hashes: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sort postings by hash (stable, so equal hashes keep their value order)."""
    order = np.argsort(hashes, kind="stable")
    return np.ascontiguousarray(hashes[order]), np.ascontiguousarray(values[order])


HASH_BITS = 26
DIR_MIN_POSTINGS = 1 << 26  # from here a hash directory (2**26 entries) is smaller


def build_directory(sorted_hashes: np.ndarray) -> np.ndarray:
    """Offsets of each hash value in ``sorted_hashes`` (length 2**HASH_BITS + 1, uint32)."""
    counts = np.bincount(sorted_hashes, minlength=1 << HASH_BITS)
    out: np.ndarray = np.r_[0, np.cumsum(counts)].astype(np.uint32)
    return out


def ranges(
    *, query: np.ndarray, sorted_hashes: np.ndarray | None, directory: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """(start, count) of each query hash's postings, from a directory or a binary search."""
    if directory is not None:
        q = query.astype(np.int64)
        lo = np.asarray(directory[q]).astype(np.int64)
        return lo, np.asarray(directory[q + 1]).astype(np.int64) - lo
    assert sorted_hashes is not None
    if sorted_hashes.size == 0:
        z = np.zeros(query.size, np.int64)
        return z, z
    order = np.argsort(query)  # sorted keys: better memory locality
    lo = np.empty(query.size, np.int64)
    hi = np.empty(query.size, np.int64)
    lo[order] = np.searchsorted(sorted_hashes, query[order], side="left")
    hi[order] = np.searchsorted(sorted_hashes, query[order], side="right")
    return lo, hi - lo


def gather(*, values: np.ndarray, lo: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows and values of the postings in the ranges ``[lo, lo + n)``."""
    total = int(n.sum())
    if total == 0:
        return np.zeros(0, np.int64), np.zeros(0, values.dtype)
    rows = np.repeat(np.arange(n.size), n)
    starts = np.repeat(lo - np.r_[0, np.cumsum(n)[:-1]], n)
    return rows, np.asarray(values[starts + np.arange(total)])


def budget_mask(
    counts: np.ndarray,
    *,
    max_postings: int,
    max_hits: int,
    priority: np.ndarray | None = None,
    priority_scale: float = 6.0,
) -> np.ndarray:
    """Which query hashes to look up, skipping stop-listed (too frequent) hashes, until
    ``max_hits`` postings would be gathered. Cheapest evidence first: hashes are ranked by
    ``log(count) - priority / priority_scale`` (IDF-like: rare hashes carry the most evidence
    and cost the least; ``priority`` = the strength of the query triplet in dB, since strong
    peaks are the ones that survived noise)."""
    ok = (counts > 0) & (counts <= max_postings)
    if int(counts[ok].sum()) <= max_hits:
        return ok
    cost = np.log(np.maximum(counts, 1)).astype(np.float64)
    if priority is not None:
        cost -= np.asarray(priority, dtype=np.float64) / priority_scale
    order = np.argsort(np.where(ok, cost, np.inf), kind="stable")
    csum = np.cumsum(np.where(ok, counts, 0)[order])
    keep = np.zeros(counts.size, dtype=bool)
    keep[order[csum <= max_hits]] = True
    return keep & ok


def lookup_sorted(
    *,
    sorted_hashes: np.ndarray,
    values: np.ndarray,
    query: np.ndarray,
    max_postings: int,
) -> tuple[np.ndarray, np.ndarray]:
    """All postings whose hash equals one of ``query``.

    Returns ``(query_row, value)``: ``query_row[k]`` is the position in ``query`` that the
    ``k``-th posting answered. Hashes with more than ``max_postings`` postings are skipped
    (a stop list: such hashes carry almost no information and dominate the cost).
    """
    if sorted_hashes.size == 0 or query.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, values.dtype)
    lo, n = ranges(query=query, sorted_hashes=sorted_hashes, directory=None)
    n = np.where(n > max_postings, 0, n)
    return gather(values=values, lo=lo, n=n)
