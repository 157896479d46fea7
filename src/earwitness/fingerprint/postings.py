"""Posting arrays and their vectorised look-up (shared by index backends and tests).

The embedded index stores each posting ``(26-bit hash, frame)`` in one 32-bit word: the
segment's directory is sized to the segment so that the top hash bits are implicit (the
bucket), and positions are renumbered onto the segment's occupied frame blocks so they need
only as many bits as the segment holds audio: an inverted file whose bucket number is an
implicit key prefix (cf. I. H. Witten, A. Moffat and T. C. Bell, "Managing Gigabytes",
2nd ed., 1999, ch. 3, on compact inverted files).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

HASH_BITS = 26
WORD_BITS = 32
BLOCK_BITS = 12  # positions are renumbered per occupied block of 4096 frames (65.5 s)
DIR_SPARSITY_BITS = 4  # the directory has at most one entry per 16 postings


@dataclass(frozen=True)
class PackedLayout:
    """How a 26-bit hash and a segment-local position share one 32-bit posting word.

    The top ``dir_bits`` bits of the hash are implicit: they select a directory bucket. The
    remaining ``low_bits`` are stored above the ``pos_bits`` of the local position.
    """

    dir_bits: int
    pos_bits: int

    @property
    def low_bits(self) -> int:
        return HASH_BITS - self.dir_bits


def packed_layout(*, n_postings: int, n_blocks: int) -> PackedLayout:
    """The smallest directory for which ``low_bits + pos_bits`` fits in a word, but at least
    one directory entry per ``2**DIR_SPARSITY_BITS`` postings (shorter buckets to search)."""
    pos_bits = max(BLOCK_BITS, (max(n_blocks, 1) << BLOCK_BITS) - 1).bit_length()
    pos_bits = max(pos_bits, BLOCK_BITS)
    if pos_bits > WORD_BITS:
        raise ValueError("segment-local position axis exceeds 32 bits")
    need = max(0, pos_bits + HASH_BITS - WORD_BITS)
    want = max(0, max(n_postings, 1).bit_length() - 1 - DIR_SPARSITY_BITS)
    return PackedLayout(dir_bits=min(HASH_BITS, max(need, want)), pos_bits=pos_bits)


@dataclass(frozen=True)
class PackedSegment:
    """Postings of one segment in 4 bytes each (plus a directory sized to the segment).

    ``words`` are sorted by (hash, local position); ``directory[b] .. directory[b + 1]`` is
    the range of hash-prefix bucket ``b``; ``blocks`` lists the occupied 4096-frame blocks of
    the global frame axis (local position = block rank << BLOCK_BITS | frame within block).
    """

    words: np.ndarray  # uint32
    directory: np.ndarray  # uint32 (uint64 beyond 2**32 postings), 2**dir_bits + 1
    blocks: np.ndarray  # uint32, sorted global block numbers
    layout: PackedLayout

    @property
    def size(self) -> int:
        return int(self.words.size)


def pack(hashes: np.ndarray, positions: np.ndarray) -> PackedSegment:
    """Pack postings ``(hash < 2**26, global frame < 2**32)`` into a segment."""
    h = np.asarray(hashes).astype(np.uint64)
    p = np.asarray(positions).astype(np.uint64)
    if h.size and int(h.max()) >> HASH_BITS:
        raise ValueError(f"hashes must be below 2**{HASH_BITS}")
    blk = p >> np.uint64(BLOCK_BITS)
    blocks = np.unique(blk)
    local = (np.searchsorted(blocks, blk).astype(np.uint64) << np.uint64(BLOCK_BITS)) | (
        p & np.uint64((1 << BLOCK_BITS) - 1)
    )
    lay = packed_layout(n_postings=int(h.size), n_blocks=int(blocks.size))
    key = np.sort((h << np.uint64(WORD_BITS)) | local)
    del h, p, blk, local
    hs = key >> np.uint64(WORD_BITS)
    low_mask = np.uint64((1 << lay.low_bits) - 1)
    words = (((hs & low_mask) << np.uint64(lay.pos_bits)) | (key & np.uint64(0xFFFFFFFF))).astype(
        np.uint32
    )
    counts = np.bincount(
        (hs >> np.uint64(lay.low_bits)).astype(np.int64), minlength=1 << lay.dir_bits
    )
    dtype = np.uint32 if key.size < 1 << 32 else np.uint64
    directory = np.r_[0, np.cumsum(counts)].astype(dtype)
    return PackedSegment(words, directory, blocks.astype(np.uint32), lay)


def to_global(seg: PackedSegment, words: np.ndarray) -> np.ndarray:
    """Global frames (int64) of posting words of ``seg``."""
    local = np.asarray(words).astype(np.int64) & ((1 << seg.layout.pos_bits) - 1)
    blocks = np.asarray(seg.blocks).astype(np.int64)
    out: np.ndarray = (blocks[local >> BLOCK_BITS] << BLOCK_BITS) | (
        local & ((1 << BLOCK_BITS) - 1)
    )
    return out


def unpack(seg: PackedSegment) -> tuple[np.ndarray, np.ndarray]:
    """(hashes, global frames) of every posting, sorted by (hash, frame); both uint32."""
    lay = seg.layout
    d = np.asarray(seg.directory).astype(np.int64)
    words = np.asarray(seg.words)
    bucket = np.repeat(np.arange(d.size - 1, dtype=np.uint32), np.diff(d))
    low = (words.astype(np.uint64) >> np.uint64(lay.pos_bits)).astype(np.uint32)
    h = (bucket << np.uint32(lay.low_bits)) | low if lay.low_bits else bucket
    return h.astype(np.uint32), to_global(seg, words).astype(np.uint32)


def _lower_bound(
    words: np.ndarray, lo: np.ndarray, hi: np.ndarray, target: np.ndarray
) -> np.ndarray:
    """Vectorised binary search: first index in ``[lo, hi)`` with ``words >= target``
    (``words`` sorted within each range)."""
    lo, hi = lo.copy(), hi.copy()
    act = np.flatnonzero(lo < hi)
    while act.size:
        mid = (lo[act] + hi[act]) >> 1
        right = np.asarray(words[mid]).astype(np.int64) < target[act]
        lo[act] = np.where(right, mid + 1, lo[act])
        hi[act] = np.where(right, hi[act], mid)
        act = act[lo[act] < hi[act]]
    return lo


def packed_ranges(seg: PackedSegment, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(start, count) of each query hash's postings in ``seg`` (directory + bucket search)."""
    lay = seg.layout
    q = np.asarray(query).astype(np.int64)
    if seg.size == 0:
        z = np.zeros(q.size, np.int64)
        return z, z
    uq, inv = np.unique(q, return_inverse=True)  # expanded queries repeat hashes
    b = uq >> lay.low_bits
    lo = np.asarray(seg.directory[b]).astype(np.int64)
    hi = np.asarray(seg.directory[b + 1]).astype(np.int64)
    if lay.low_bits:
        low = uq & ((1 << lay.low_bits) - 1)
        lo = _lower_bound(seg.words, lo, hi, low << lay.pos_bits)
        hi = _lower_bound(seg.words, lo, hi, (low + 1) << lay.pos_bits)
    return lo[inv], (hi - lo)[inv]


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
