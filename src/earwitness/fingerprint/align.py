"""Verification of hash hits by a robust time-alignment fit (offset and speed factor).

Hits are pairs (query anchor time, reference anchor time) of equal triplet hashes. A true
match puts its hits on a line ``ref_t = offset + speed * query_t``; chance hits scatter. The
line is found by a Hough transform over a grid of speeds (coarse, then fine), as in the
offset histogram of A. Wang, "An industrial-strength audio search algorithm", ISMIR 2003,
extended to a speed axis as Panako does (J. Six and M. Leman, ISMIR 2014), and refined by
least squares on its inliers. The matched span is the extent of the inliers, split where the
inliers leave a gap longer than ``max_gap_s``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class AlignParams:
    """Parameters of the alignment search (times in frames unless named ``_s``)."""

    min_speed: float = 0.93
    max_speed: float = 1.07
    coarse_speed_step: float = 0.035
    coarse_bin: int = 32
    fine_speed_step: float = 0.002
    fine_bin: float = 2.0
    inlier_tol: float = 2.5
    min_hits: int = 5
    max_candidates: int = 24
    max_gap_s: float = 6.0
    time_block: int = 0  # > 0: also bin the query time (frames), for long self-joins
    # Archive matching (off by default, so self-matching is unchanged):
    # fine Hough counts distinct query anchors, not hits (an anchor with many triplets on a
    # chance line must not outvote several anchors on the true one) ...
    fine_count_anchors: bool = False
    # ... and the best coarse candidate of each of up to this many items (by their best
    # count) is tried before the global order, so chance lines of other items cannot use up
    # the candidate budget before an item's own best line is tried
    per_item_first: int = 0
    # ... and a found line vetoes a candidate only when it also has about the candidate's
    # speed (a wrong-speed line crossing the true one near the hits' median time vetoed it)
    veto_same_speed: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Hits:
    """Hash hits: query triplet anchor/end times, reference item (dense id) and anchor time."""

    q_t: np.ndarray  # float64 frames (query anchor)
    q_end: np.ndarray  # float64 frames (query anchor + triplet span)
    item: np.ndarray  # int64 dense item number
    ref_t: np.ndarray  # float64 frames (reference anchor, local to the item)
    weight: np.ndarray | None = None  # per hit: 1 / triplets sharing its query anchor

    @staticmethod
    def empty() -> Hits:
        z = np.zeros(0)
        return Hits(z, z, np.zeros(0, np.int64), z)

    def take(self, sel: np.ndarray) -> Hits:
        w = self.weight[sel] if self.weight is not None else None
        return Hits(self.q_t[sel], self.q_end[sel], self.item[sel], self.ref_t[sel], w)

    @property
    def size(self) -> int:
        return int(self.q_t.size)


@dataclass(frozen=True)
class Alignment:
    """One verified alignment of a query span onto a reference span (frames)."""

    item: int
    speed: float
    offset: float
    n_landmarks: int
    n_hits: int
    q_start: float
    q_end: float
    inlier_q: np.ndarray
    inlier_ref: np.ndarray

    @property
    def ref_start(self) -> float:
        return self.offset + self.speed * self.q_start

    @property
    def ref_end(self) -> float:
        return self.offset + self.speed * self.q_end


def _hough(
    q_t: np.ndarray, ref_t: np.ndarray, speeds: np.ndarray, width: float, anchors: bool = False
) -> tuple[float, float, int]:
    """Best (speed, offset, count) over ``speeds`` with offset bins of ``width`` frames;
    ``anchors``: count distinct query times per bin instead of hits."""
    best = (1.0, 0.0, -1)
    for s in speeds:
        off = ref_t - s * q_t
        lo = off.min()
        b = np.floor((off - lo) / width).astype(np.int64)
        if anchors:
            _, first = np.unique(b * 4_194_304 + q_t.astype(np.int64), return_index=True)
            counts = np.bincount(b[first], minlength=int(b.max()) + 1)
        else:
            counts = np.bincount(b)
        c2 = counts.copy()
        c2[:-1] += counts[1:]
        k = int(np.argmax(c2))
        if c2[k] > best[2]:
            inb = (b == k) | (b == k + 1)
            best = (float(s), float(np.median(off[inb])), int(c2[k]))
    return best


class _LagIndex:
    """One item's hits sorted by lag (``ref_t - q_t``), to gather those near a line quickly.

    A hit within ``tol`` of the line ``ref = offset + speed * q`` has a lag within
    ``offset + (speed - 1) * q +- tol`` for its ``q`` in ``[q_lo, q_hi]``: that lag window is
    cut from the sorted lags, and the caller's exact test runs on it alone. Positions come back
    ascending (the hits' original order), so every result equals testing all hits.
    """

    def __init__(self, q: np.ndarray, r: np.ndarray) -> None:
        self.q, self.r = q, r
        lag = r - q
        self.perm = np.argsort(lag)  # windows are sorted by position: tie order is moot
        self.lag = lag[self.perm]
        self.q_lo, self.q_hi = (float(q.min()), float(q.max())) if q.size else (0.0, 0.0)

    def window(self, *, speed: float, offset: float, tol: float, live: np.ndarray) -> np.ndarray:
        a, b = (speed - 1.0) * self.q_lo, (speed - 1.0) * self.q_hi
        lo = offset + min(a, b) - tol - 1e-3  # the margin covers rounding of the lag
        hi = offset + max(a, b) + tol + 1e-3
        i0 = int(np.searchsorted(self.lag, lo, side="left"))
        i1 = int(np.searchsorted(self.lag, hi, side="right"))
        idx = np.sort(self.perm[i0:i1])
        out: np.ndarray = idx[live[idx]]
        return out


class _LiveMedian:
    """Median of an item's live hits' query times, kept up to date as hits are used.

    The times are sorted once; used hits are marked dead in that order, with a count of the
    live ones per block of about ``sqrt(n)`` sorted positions (square-root decomposition), so
    the k-th live time is found in ``O(sqrt(n))`` instead of a partition of all hits. The value
    is exactly ``np.median`` of the live times (the mean of the two middle ones for an even
    count, computed as ``(a + b) / 2`` like numpy's mean of two).
    """

    def __init__(self, q: np.ndarray, live: np.ndarray) -> None:
        order = np.argsort(q)  # any order of equal times gives the same median
        self.sorted = q[order]
        self.rank = np.empty(q.size, dtype=np.int64)
        self.rank[order] = np.arange(q.size)
        self.alive = live[order].copy()
        self.block = max(1, int(np.sqrt(q.size)))
        n_blocks = q.size // self.block + 1
        self.count = np.bincount(
            np.flatnonzero(self.alive) // self.block, minlength=n_blocks
        ).astype(np.int64)

    def remove(self, pos: np.ndarray) -> None:
        """Mark the hits at positions ``pos`` (all live) as used."""
        r = self.rank[pos]
        self.alive[r] = False
        self.count -= np.bincount(r // self.block, minlength=self.count.size)

    def _kth(self, k: int, cum: np.ndarray) -> float:
        b = int(np.searchsorted(cum, k, side="right"))
        before = int(cum[b - 1]) if b else 0
        i0 = b * self.block
        j = int(np.flatnonzero(self.alive[i0 : i0 + self.block])[k - before])
        return float(self.sorted[i0 + j])

    def median(self, n_live: int) -> float:
        if n_live <= 0:
            return 0.0
        cum = np.cumsum(self.count)
        lo = self._kth((n_live - 1) // 2, cum)
        return lo if n_live % 2 else (lo + self._kth(n_live // 2, cum)) / 2


def _fit_lag(
    ix: _LagIndex, live: np.ndarray, speed: float, offset: float, p: AlignParams
) -> tuple[float, float, np.ndarray]:
    """Least-squares refinement of the line on its inliers (two rounds), over an item's live
    hits through its lag index; returns speed, offset and the inliers' positions."""

    def inliers(speed: float, offset: float) -> np.ndarray:
        c = ix.window(speed=speed, offset=offset, tol=p.inlier_tol, live=live)
        out: np.ndarray = c[np.abs(ix.r[c] - (offset + speed * ix.q[c])) <= p.inlier_tol]
        return out

    inl = inliers(speed, offset)
    for _ in range(2):
        if inl.size >= 4 and np.ptp(ix.q[inl]) > 20:
            s, a = np.polyfit(ix.q[inl], ix.r[inl], 1)
            if p.min_speed - 0.01 <= s <= p.max_speed + 0.01:
                speed, offset = float(s), float(a)
        inl = inliers(speed, offset)
    if speed != 1.0 and inl.size:
        # Model selection: a free slope always fits the inliers' jitter a little better, and
        # over a long span a slope of 0.997 moves the extrapolated offset by more than a frame.
        # The simpler model (unchanged speed) wins when it explains at least as many hits.
        # Least squares with the slope fixed at 1: the offset is the inliers' mean lag.
        off1 = float(np.mean(ix.r[inl] - ix.q[inl]))
        inl1 = inliers(1.0, off1)
        if inl1.size >= inl.size:
            return 1.0, float(np.mean(ix.r[inl1] - ix.q[inl1])), inl1
    return speed, offset, inl


def align_hits(*, hits: Hits, params: AlignParams, frame_s: float) -> list[Alignment]:
    """Find the lines (alignments) supported by at least ``min_hits`` distinct anchors."""
    p = params
    if hits.size < p.min_hits:
        return []
    coarse = np.arange(p.min_speed, p.max_speed + 1e-9, p.coarse_speed_step)
    cands: list[tuple[float, int, float, float]] = []  # (count, item, speed, offset)
    table = 1 << max(16, int(np.ceil(np.log2(4 * hits.size + 1))))
    q_int = hits.q_t.astype(np.int64)
    for s in coarse:
        # Offset histogram per (item, coarse offset bin), hashed into a fixed table; a
        # collision can only add a candidate, which the fine fit then rejects.
        off_bin = np.floor((hits.ref_t - s * hits.q_t) / p.coarse_bin).astype(np.int64)
        key = hits.item * 1_000_003 + off_bin
        key_next = key + 1  # the neighbouring offset bin
        if p.time_block > 0:
            block = (hits.q_t // p.time_block).astype(np.int64)
            key, key_next = key * 7_919 + block, key_next * 7_919 + block
        b0 = (key * 2654435761) & (table - 1)
        b1 = (key_next * 2654435761) & (table - 1)
        # Each (query anchor, bin) pair counts once in total: several triplets sharing both
        # anchors are one piece of evidence.
        g = ((key * 8191 + q_int) * 2654435761) & (table - 1)
        occ = np.bincount(g, minlength=table)
        cnt = np.bincount(b0, weights=1.0 / occ[g], minlength=table)
        c2 = cnt[b0] + cnt[b1]
        strong = np.flatnonzero(c2 >= p.min_hits)
        if strong.size == 0:
            continue
        _, first = np.unique(key[strong], return_index=True)
        for f in first.tolist():
            h = strong[f]
            center = (int(off_bin[h]) + 1) * p.coarse_bin
            cands.append((float(c2[h]), int(hits.item[h]), float(s), float(center)))
    cands.sort(key=lambda c: -c[0])
    if p.per_item_first > 0:
        firsts: dict[int, int] = {}  # item -> rank of its best candidate
        for rank, cand in enumerate(cands):
            if cand[1] not in firsts and len(firsts) < p.per_item_first:
                firsts[cand[1]] = rank
        head = set(firsts.values())
        rest = [cand for rank, cand in enumerate(cands) if rank not in head]
        cands = [cands[rank] for rank in sorted(head)] + rest
    found: list[Alignment] = []
    tried = 0
    by_item: dict[int, np.ndarray] = {}
    # An item's live hits (not yet explained by a stronger line of that item) and their
    # median change only when a line is found; a self-join tries hundreds of candidates of
    # one item, so they are kept per item and updated when a line uses hits (the median
    # through a structure that follows the removals), and lines are tested through the
    # item's lag index instead of every hit.
    lag_ix: dict[int, _LagIndex] = {}
    live_of: dict[int, np.ndarray] = {}
    n_live_of: dict[int, int] = {}
    median_of: dict[int, _LiveMedian] = {}
    max_gap = p.max_gap_s / frame_s
    near_w = 1.5 * p.coarse_bin
    for _count, item, s_c, center_f in cands:
        if tried >= p.max_candidates:
            break
        if item not in by_item:
            r = np.flatnonzero(hits.item == item)
            # one hit per (query anchor, reference anchor) pair
            _, first = np.unique(hits.q_t[r] * 4_194_304.0 + hits.ref_t[r], return_index=True)
            by_item[item] = r[np.sort(first)]
            lag_ix[item] = _LagIndex(hits.q_t[by_item[item]], hits.ref_t[by_item[item]])
            live_of[item] = np.ones(by_item[item].size, dtype=bool)  # lines use own hits only
            n_live_of[item] = by_item[item].size
            median_of[item] = _LiveMedian(lag_ix[item].q, live_of[item])
        rows, ix, live, n_live = by_item[item], lag_ix[item], live_of[item], n_live_of[item]
        if n_live < p.min_hits:
            continue
        if any(a.item == item for a in found):
            mid = median_of[item].median(n_live)
            if any(
                a.item == item
                and abs(a.offset + a.speed * mid - (center_f + s_c * mid)) < near_w
                and (not p.veto_same_speed or abs(a.speed - s_c) <= p.coarse_speed_step)
                for a in found
            ):
                continue
        tried += 1
        c = ix.window(speed=s_c, offset=center_f, tol=near_w, live=live)
        near = c[np.abs(ix.r[c] - s_c * ix.q[c] - center_f) <= near_w]
        if near.size < p.min_hits:
            continue
        fine = np.arange(
            max(p.min_speed, s_c - p.coarse_speed_step),
            min(p.max_speed, s_c + p.coarse_speed_step) + 1e-9,
            p.fine_speed_step,
        )
        speed, offset, _ = _hough(
            ix.q[near], ix.r[near], fine, p.fine_bin, anchors=p.fine_count_anchors
        )
        speed, offset, inl = _fit_lag(ix, live, speed, offset, p)
        if inl.size < p.min_hits:
            continue
        inl = inl[np.argsort(ix.q[inl], kind="stable")]
        qt = ix.q[inl]
        breaks = np.flatnonzero(np.diff(qt) > max_gap) + 1
        for pos in np.split(inl, breaks):
            if pos.size < p.min_hits:  # fewer hits than anchors needed
                continue
            run = rows[pos]
            rq = hits.q_t[run]
            n_anchor = int(np.unique(rq).size)
            if n_anchor < p.min_hits:
                continue
            live[pos] = False
            n_live_of[item] -= pos.size
            median_of[item].remove(pos)
            found.append(
                Alignment(
                    item=item,
                    speed=speed,
                    offset=offset,
                    n_landmarks=n_anchor,
                    n_hits=int(run.size),
                    q_start=float(rq.min()),
                    q_end=float(hits.q_end[run].max()),
                    inlier_q=rq,
                    inlier_ref=hits.ref_t[run],
                )
            )
    found.sort(key=lambda a: -a.n_landmarks)
    return found
