"""Sorted posting arrays and their vectorised look-up (shared by index backends and tests)."""

from __future__ import annotations

import numpy as np


def sort_postings(hashes: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sort postings by hash (stable, so equal hashes keep their value order)."""
    order = np.argsort(hashes, kind="stable")
    return np.ascontiguousarray(hashes[order]), np.ascontiguousarray(values[order])


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
    lo = np.searchsorted(sorted_hashes, query, side="left")
    hi = np.searchsorted(sorted_hashes, query, side="right")
    n = hi - lo
    n[n > max_postings] = 0
    total = int(n.sum())
    if total == 0:
        return np.zeros(0, np.int64), np.zeros(0, values.dtype)
    rows = np.repeat(np.arange(query.size), n)
    starts = np.repeat(lo - np.r_[0, np.cumsum(n)[:-1]], n)
    pos = starts + np.arange(total)
    return rows, np.asarray(values[pos])
