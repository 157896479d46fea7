"""The alignment's lag index returns exactly the hits a test over every hit would."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from earwitness.fingerprint.align import AlignParams, Hits, _LagIndex, align_hits


@settings(max_examples=200, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(0, 400),
    speed=st.floats(0.9, 1.1),
    offset=st.floats(-3000, 3000),
    tol=st.floats(0.5, 60),
)
def test_lag_window_equals_brute_force(
    seed: int, n: int, speed: float, offset: float, tol: float
) -> None:
    rng = np.random.default_rng(seed)
    q = rng.uniform(0, 40_000, n).round()
    # half the hits on the line (within tol), half anywhere
    on = rng.random(n) < 0.5
    r = np.where(
        on, offset + speed * q + rng.uniform(-tol, tol, n), rng.uniform(-5000, 50_000, n)
    ).round()
    live = rng.random(n) < 0.8
    ix = _LagIndex(q, r)
    c = ix.window(speed=speed, offset=offset, tol=tol, live=live)
    got = c[np.abs(r[c] - (offset + speed * q[c])) <= tol]
    want = np.flatnonzero(live & (np.abs(r - (offset + speed * q)) <= tol))
    assert np.array_equal(got, want)


def test_planted_lines_are_found_with_their_speed(rng: np.random.Generator) -> None:
    """Two items, two planted lines among chance hits: both found, speed and offset right."""
    parts = []
    for item, speed, offset in ((0, 1.04, 200.0), (1, 0.96, 1500.0)):
        q = np.sort(rng.uniform(0, 2000, 80)).round()
        parts.append((q, (offset + speed * q).round(), np.full(q.size, item)))
    m = 4000
    parts.append((rng.uniform(0, 2000, m), rng.uniform(0, 4000, m), rng.integers(0, 2, m)))
    q = np.concatenate([p[0] for p in parts])
    r = np.concatenate([p[1] for p in parts])
    item = np.concatenate([p[2] for p in parts]).astype(np.int64)
    found = align_hits(hits=Hits(q, q + 10, item, r), params=AlignParams(), frame_s=0.016)
    best = {a.item: a for a in sorted(found, key=lambda a: a.n_landmarks)}
    assert abs(best[0].speed - 1.04) < 0.002 and abs(best[0].offset - 200.0) < 3
    assert abs(best[1].speed - 0.96) < 0.002 and abs(best[1].offset - 1500.0) < 3
    assert best[0].n_landmarks >= 60 and best[1].n_landmarks >= 60


def _hits(parts: list[tuple[np.ndarray, np.ndarray, int]]) -> Hits:
    q = np.concatenate([p[0] for p in parts])
    r = np.concatenate([p[1] for p in parts])
    item = np.concatenate([np.full(p[0].size, p[2]) for p in parts]).astype(np.int64)
    return Hits(q, q + 10, item, r)


def test_wrong_speed_line_crossing_the_true_one_does_not_veto_it() -> None:
    """A line at speed 0.94 with more anchors crosses the true speed-1 line near the hits'
    median time; with ``veto_same_speed`` (archive matching) both are found."""
    true_q = np.array([40.0, 120, 200, 260, 330, 380, 450, 520, 580])
    wrong_q = np.arange(0.0, 600, 40) + 5  # 15 anchors on 0.94 x + 18: crosses at q = 300
    parts = [
        (true_q, 1000.0 + true_q, 0),
        (wrong_q, np.round(1018.0 + 0.94 * wrong_q), 0),
    ]
    hits = _hits(parts)
    p_new = AlignParams(min_hits=3, coarse_bin=16, coarse_speed_step=0.0175, veto_same_speed=True)

    def true_line(params: AlignParams) -> list[int]:
        return [
            a.n_landmarks
            for a in align_hits(hits=hits, params=params, frame_s=0.016)
            if abs(a.speed - 1.0) < 0.005 and abs(a.offset - 1000.0) < 3
        ]

    assert true_line(p_new) and max(true_line(p_new)) >= 7
    found = align_hits(hits=hits, params=p_new, frame_s=0.016)
    assert any(abs(a.speed - 0.94) < 0.005 and a.n_landmarks >= 15 for a in found)


def test_per_item_first_tries_every_items_best_line(rng: np.random.Generator) -> None:
    """Twenty items whose chance clusters each outnumber a weaker true line of item 20:
    the candidate budget is used up before the true line unless each item's best candidate
    is tried first."""
    parts = []
    for item in range(20):
        for off in (500.0, 2500.0):  # two dense chance clusters per item
            q = rng.uniform(0, 2000, 12).round()
            parts.append((q, np.round(off + q + rng.uniform(-12, 12, q.size)), item))
    q = np.sort(rng.choice(np.arange(0, 2000, 7.0), 9, replace=False))
    parts.append((q, 300.0 + q, 20))
    hits = _hits(parts)
    kw = dict(min_hits=3, coarse_bin=16, coarse_speed_step=0.0175, max_candidates=24)
    for first, expect in ((0, False), (40, True)):
        found = align_hits(hits=hits, params=AlignParams(**kw, per_item_first=first), frame_s=0.016)
        got = any(a.item == 20 and abs(a.offset - 300.0) < 3 for a in found)
        assert got is expect


def test_fine_hough_counting_anchors_prefers_more_anchors() -> None:
    """Two anchors with four hits each on a chance line must not outvote four anchors."""
    from earwitness.fingerprint.align import _hough

    true_q = np.array([100.0, 300.0, 500.0, 700.0])  # on r = q
    wrong_q = np.repeat([20.0, 620.0], 4)  # two anchors, four hits each, on r = 30 + 1.03 q
    q = np.concatenate([true_q, wrong_q])
    r = np.concatenate([true_q, 30.0 + 1.03 * wrong_q + np.tile([0.0, 0.4, 0.8, 1.2], 2)])
    speeds = np.arange(0.98, 1.04, 0.002)
    s_hits, _, c_hits = _hough(q, r, speeds, 2.0)
    s_anch, off, c_anch = _hough(q, r, speeds, 2.0, anchors=True)
    assert abs(s_anch - 1.0) < 0.008 and abs(off) < 4 and c_anch >= 4
    assert c_hits >= 8 and abs(s_hits - 1.03) < 0.006
