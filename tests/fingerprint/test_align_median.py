"""The alignment's running median of live hits equals numpy's median after every removal."""

from __future__ import annotations

import numpy as np

from earwitness.fingerprint.align import _LiveMedian


def test_live_median_follows_removals() -> None:
    rng = np.random.default_rng(7)
    for trial in range(200):
        n = int(rng.integers(1, 400))
        q = rng.integers(0, 40, n).astype(float) if trial % 2 else rng.standard_normal(n)
        live = rng.random(n) < 0.9
        med = _LiveMedian(q, live)
        while live.any():
            assert med.median(int(live.sum())) == float(np.median(q[live]))
            pos = np.flatnonzero(live)
            gone = rng.choice(pos, size=min(pos.size, int(rng.integers(1, 12))), replace=False)
            live[gone] = False
            med.remove(gone)
        assert med.median(0) == 0.0
