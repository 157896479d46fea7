"""Why archive matching misses a positive query: a per-query breakdown on development splits.

For every missed query of the chosen conditions (default: the two hardest, white noise 0 dB
and a music bed 5 dB) this prints what the matcher had to work with:

- ``true line``: hits on the known true line (distinct query anchors within the alignment's
  inlier tolerance), and the verification score of that line on the audio (what a perfect
  alignment search would hand to the second stage);
- ``found``: the alignments of the true item that lie on the true line (offset error at their
  start ≤ 0.5 s), with their landmarks, speed, verification score and rank among the query's
  verification candidates (alignments with ≥ ``verify.min_landmarks`` landmarks, most first);
- the cause, one of: ``no line`` (the search fitted no line of the true item on the truth),
  ``weak line`` (fewer landmarks than verification needs), ``not tried`` (enough landmarks,
  outside the best ``verify.max_candidates``), ``low score`` (verified, below the threshold),
  ``short`` / ``other`` (passed the score, rejected by the span or expectation checks).

    nice .venv/bin/python benchmarks/diagnose_match.py --seeds 2 3 4 [--conditions ...]

Development splits only: diagnosing the benchmark split (seed 1) would tune on it.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np
from scipy import signal as sps

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_match as bm
from earwitness.fingerprint import match_audio
from earwitness.fingerprint.align import Alignment
from earwitness.fingerprint.matcher import MatchParams
from earwitness.fingerprint.verify import QuerySpectrum, query_spectrum, verify_span

HARD = ("white noise 0 dB", "music bed 5 dB")


def _true_line(q: bm.PositiveQuery, frame_s: float) -> tuple[float, float, float, float]:
    """(offset, speed, first, last query frame) of the reused span's true line."""
    offset = (q.st - q.a + q.trim * q.s_true) / frame_s
    q0 = max(0.0, q.a / q.s_true - q.trim) / frame_s
    q1 = ((q.a + q.seg_s) / q.s_true - q.trim) / frame_s
    return offset, q.s_true, q0, q1


def _score(
    s: bm.Setup,
    qspec: QuerySpectrum,
    item_id: str,
    speed: float,
    offset: float,
    q0: float,
    q1: float,
) -> float:
    vp = MatchParams().verify
    return verify_span(
        query=qspec,
        references=s.references,
        item_id=item_id,
        speed=speed,
        offset=offset,
        q_start=q0,
        q_end=q1,
        params=s.index.params,
        verify=vp,
    )[0]


def diagnose(s: bm.Setup, params: MatchParams, q: bm.PositiveQuery) -> tuple[str, str] | None:
    """``(cause, detail)`` for a missed query, ``None`` when it is found."""
    res = match_audio(y=q.y, sr=bm.SR, index=s.index, params=params, references=s.references)
    item = f"ref{q.ref_k}"
    good = [m for m in res.matches if m.item_id == item]
    if good and abs(good[0].ref_start_s - q.truth_ref(good[0].query_start_s)) <= 0.5:
        return None
    fps = s.index.params
    fs = fps.frame_s
    vp = params.verify
    y8 = sps.resample_poly(q.y, 1, 2)
    qspec = query_spectrum(y=y8, params=fps, verify=vp)
    off, sp, t0, t1 = _true_line(q, fs)
    # landmarks on the true line: distinct query anchors of the true item's hits on it
    raw = replace(params, min_landmarks=10**9, near_miss_expected=math.inf)
    rr = match_audio(y=q.y, sr=bm.SR, index=s.index, params=raw)
    assert rr.hits is not None
    h = rr.hits
    by_start = sorted(s.index.items(), key=lambda it: it.start)  # lookup's dense numbering
    dense = next(i for i, it in enumerate(by_start) if it.item_id == item)
    on = (
        (h.item == dense)
        & (np.abs(h.ref_t - (off + sp * h.q_t)) <= params.align.inlier_tol)
        & (h.q_t >= t0 - 5)
        & (h.q_t <= t1 + 5)
    )
    n_true = int(np.unique(h.q_t[on]).size)
    v_true = _score(s, qspec, item, sp, off, t0, t1)
    cands = sorted(
        (m for m in rr.near_misses if m.n_landmarks >= vp.min_landmarks),
        key=lambda m: -m.n_landmarks,
    )
    lines = []
    order = ["no line", "weak line", "not tried", "low score", "short/other"]
    cause = order[0]
    for m in rr.near_misses:
        a: Alignment | None = m.alignment
        if m.item_id != item or a is None:
            continue
        if abs(m.ref_start_s - q.truth_ref(m.query_start_s)) > 0.5:
            continue
        rank = next((i for i, c in enumerate(cands) if c.alignment is a), None)
        v = _score(s, qspec, item, a.speed, a.offset, a.q_start, a.q_end)
        lines.append(
            f"{m.n_landmarks} lm @ {a.speed:.3f}, span {m.matched_duration_s:.1f} s, "
            f"score {v:.3f}, rank {rank}"
        )
        if m.n_landmarks < vp.min_landmarks:
            c = "weak line"
        elif rank is None or rank >= vp.max_candidates:
            c = "not tried"
        elif not v >= vp.min_score:
            c = "low score"
        else:
            c = "short/other"
        cause = max(cause, c, key=order.index)
    seg = "10 s excerpt" if q.seg_s == 10.0 else "15 s in 40 s"
    detail = (
        f"{q.condition} #{q.k} ({seg}): true line {n_true} anchors, score {v_true:.3f}; "
        f"{len(cands)} candidates ≥ {vp.min_landmarks} lm; found: "
        + ("; ".join(lines) if lines else "none")
    )
    return cause, detail


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, nargs="+", default=[2, 3, 4])
    ap.add_argument("--conditions", nargs="+", default=list(HARD))
    ap.add_argument("--per-condition", type=int, default=10)
    bm.add_dev_overrides(ap, verify=True)
    args = ap.parse_args()
    if 1 in args.seeds:
        ap.error("seed 1 is the benchmark split: diagnose on development splits only")
    bm.override_align(args.align)
    bm.VERIFY_CHANGES.update(bm.field_changes(MatchParams().verify, args.verify))
    causes: Counter[str] = Counter()
    for seed in args.seeds:
        s = bm.setup(seed)
        params = bm.calibrate(s)[0]
        n = 0
        for q in bm.positive_queries(s, args.per_condition, np.random.default_rng(11)):
            if q.condition not in args.conditions:
                continue
            n += 1
            out = diagnose(s, params, q)
            if out is not None:
                causes[out[0]] += 1
                print(f"seed {seed}: [{out[0]}] {out[1]}", flush=True)
        print(f"seed {seed}: {n} queries diagnosed", flush=True)
    print("causes:", dict(causes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
