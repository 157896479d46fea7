"""Speed of the acoustic-event detectors (target: 100x real time or faster).

Builds a synthetic 10-minute recording (babble speech with shots, bursts, explosions, fly-bys
and chant; 16 kHz) and times feature extraction plus every DSP detector, best of ``--repeat``
runs (wall clock and process CPU time, with the load average before and after, since the
machine is shared). Prints a JSON line; the figures go to docs/benchmarks/events.md.

Usage::

    python benchmarks/bench_events.py [--minutes 10] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import numpy as np

from earwitness.events.features import compute_features
from earwitness.events.stage import builtin_detectors
from earwitness.synth import babble, noise
from earwitness.synth.events import burst, chant, drone, explosion, gunshot, place

SR = 16000


def recording(minutes: float, rng: np.random.Generator) -> np.ndarray:
    dur = minutes * 60.0
    y = noise(duration_s=dur, sr=SR, rng=rng, amp=0.001, color="pink")
    block = babble(duration_s=60.0, sr=SR, rng=rng, amp=0.1)
    y[: block.size * int(dur // 60)] += np.tile(block, int(dur // 60))[: y.size]
    makers = [
        lambda: gunshot(sr=SR, rng=rng),
        lambda: burst(sr=SR, rng=rng, n_shots=8, interval_s=0.1).samples,
        lambda: explosion(sr=SR, rng=rng),
        lambda: drone(sr=SR, rng=rng, kind="jet", duration_s=6.0),
        lambda: chant(sr=SR, rng=rng, duration_s=6.0),
    ]
    t = 5.0
    k = 0
    while t < dur - 10:
        y = place(background=y, event=makers[k % len(makers)](), at_s=t, sr=SR, snr_db=8)
        t += 20.0
        k += 1
    return y


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    y = recording(args.minutes, np.random.default_rng(1))
    dur = y.size / SR
    reg = builtin_detectors()
    best: dict[str, float] = {}
    cpu_best = 1e9
    load_before = os.getloadavg()
    n_events = 0
    for _ in range(args.repeat):
        c0 = time.process_time()
        t0 = time.perf_counter()
        feats = compute_features(y=y, sr=SR)
        t1 = time.perf_counter()
        best["features"] = min(best.get("features", 1e9), t1 - t0)
        total = t1 - t0
        n_events = 0
        for det in reg:
            t2 = time.perf_counter()
            n_events += len(det.detect(feats=feats))
            el = time.perf_counter() - t2
            best[det.name] = min(best.get(det.name, 1e9), el)
            total += el
        best["total"] = min(best.get("total", 1e9), total)
        cpu_best = min(cpu_best, time.process_time() - c0)
    out = {
        "audio_s": dur,
        "seconds": {k: round(v, 3) for k, v in best.items()},
        "x_real_time": round(dur / best["total"], 1),
        "cpu_seconds_best_run": round(cpu_best, 3),
        "x_real_time_cpu": round(dur / cpu_best, 1),
        "load_average_1_5_15_before": [round(v, 2) for v in load_before],
        "load_average_1_5_15_after": [round(v, 2) for v in os.getloadavg()],
        "events_found": n_events,
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
