"""Repeated material inside one recording (candidates for duplicated segments).

The recording's own triplets (the dense query set, so short copies keep enough landmarks) are
joined with themselves on equal hashes; pairs closer than ``min_lag_s`` are dropped (a
segment trivially matches itself), and the remaining (source, copy) hits are verified by the
same alignment fit as archive matches (Wang 2003; Six & Leman 2014).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from earwitness.fingerprint.align import AlignParams, Hits, align_hits
from earwitness.fingerprint.features import FingerprintParams, fingerprint

# Denser, finer-hop landmarks than the archive index: copies can be short (0.3 s), and there
# is no index size to keep small. No running-mean normalisation, so a copy's landmarks do not
# depend on the audio around it.
SELF_PARAMS = FingerprintParams(hop=64, zone=24, min_dt=6, norm_s=0.0, query_peaks_per_second=60.0)


@dataclass(frozen=True)
class SelfMatch:
    """A span (``src``) repeated later in the same recording (``copy``), times in seconds.

    ``score`` is the number of distinct landmarks on the alignment; ``speed`` is copy
    duration over source duration.
    """

    src_start_s: float
    src_end_s: float
    copy_start_s: float
    copy_end_s: float
    score: float
    speed: float


def self_match(
    *,
    y: np.ndarray,
    sr: int,
    min_duration_s: float = 0.3,
    min_lag_s: float = 0.5,
    min_landmarks: int = 5,
    max_speed_change: float = 0.0,
    params: FingerprintParams | None = None,
    max_group: int = 256,
) -> list[SelfMatch]:
    """Find spans of mono ``y`` that recur later in ``y`` (best first).

    ``max_speed_change`` = 0 searches exact-rate copies only (fast; the usual copy-paste);
    e.g. 0.05 also finds copies sped up or slowed down by up to 5 %.
    """
    p = params or SELF_PARAMS
    fp = fingerprint(y=y, sr=sr, params=p, query=True)
    if fp.hashes.size == 0:
        return []
    order = np.argsort(fp.hashes, kind="stable")
    h = fp.hashes[order]
    starts = np.flatnonzero(np.r_[True, h[1:] != h[:-1]])
    counts = np.diff(np.r_[starts, h.size])
    ii: list[np.ndarray] = []
    jj: list[np.ndarray] = []
    # All pairs inside each group of equal hashes; groups larger than ``max_group`` are
    # stop-listed (too common to be evidence, and quadratic in cost). Pairs ``d`` apart in
    # the sorted hashes come from the positions with at least ``d`` later members in their
    # group: that set only shrinks with ``d``, so it is filtered down instead of comparing
    # every hash again for each ``d`` (the same pairs, in the same order).
    size = np.repeat(counts, counts)
    later = size - 1 - (np.arange(h.size) - np.repeat(starts, counts))
    max_run = int(min(counts.max(), max_group))
    a = np.flatnonzero((later > 0) & (size <= max_group))
    for d in range(1, max_run):
        a = a[later[a] >= d]
        ii.append(order[a])
        jj.append(order[a + d])
    if not ii:
        return []
    i = np.concatenate(ii)
    j = np.concatenate(jj)
    t_i, t_j = fp.t1[i].astype(np.float64), fp.t1[j].astype(np.float64)
    src = np.where(t_i <= t_j, i, j)
    cpy = np.where(t_i <= t_j, j, i)
    lag = fp.t1[cpy].astype(np.float64) - fp.t1[src]
    ok = lag * p.frame_s >= min_lag_s
    src, cpy = src[ok], cpy[ok]
    hits = Hits(
        q_t=fp.t1[src].astype(np.float64),
        q_end=fp.t1[src].astype(np.float64) + fp.dt[src],
        item=np.zeros(src.size, np.int64),
        ref_t=fp.t1[cpy].astype(np.float64),
    )
    ap = AlignParams(
        min_speed=1.0 - max_speed_change,
        max_speed=1.0 + max_speed_change,
        coarse_speed_step=max(0.02, max_speed_change) if max_speed_change else 1.0,
        min_hits=min_landmarks,
        max_gap_s=1.0,
        max_candidates=256,
        time_block=round(2.0 / p.frame_s),
    )
    out: list[SelfMatch] = []
    for al in align_hits(hits=hits, params=ap, frame_s=p.frame_s):
        s0, s1 = al.q_start * p.frame_s, al.q_end * p.frame_s
        if s1 - s0 < min_duration_s:
            continue
        out.append(
            SelfMatch(
                src_start_s=s0,
                src_end_s=s1,
                copy_start_s=al.ref_start * p.frame_s,
                copy_end_s=al.ref_end * p.frame_s,
                score=float(al.n_landmarks),
                speed=al.speed,
            )
        )
    return out
