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
