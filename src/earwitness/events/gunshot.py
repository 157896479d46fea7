"""Gunfire detail: shot-to-shot similarity (are the shots copies of one sample?) and the
crack–bang structure of a supersonic shot.

A real burst is never sample-identical from shot to shot: the weapon, the reflections and the
air change. A normalised cross-correlation near 1.0 between aligned shots means the same
recording was pasted several times. A supersonic bullet produces a short N-wave ("crack",
~0.2–0.5 ms, very steep edges) that arrives *before* the muzzle blast ("bang") for a listener
down-range; Maher, "Modeling and signal processing of acoustic gunshot recordings", IEEE DSP
Workshop 2006, and Maher, "Acoustical characterization of gunshots", IEEE SAFE 2007. Whether a
crack is visible depends on geometry, bandwidth and codec, so that description is advisory.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import signal as sps


@dataclass(frozen=True)
class ShotSimilarity:
    """Pairwise peak normalised cross-correlation of consecutive shots and the copy pairs."""

    ncc: tuple[float, ...]
    copies: tuple[tuple[int, int], ...]
    threshold: float


def shot_similarity(
    *,
    y: np.ndarray,
    sr: int,
    shot_times_s: list[float] | tuple[float, ...],
    window_s: float = 0.05,
    max_lag_s: float = 0.01,
    threshold: float = 0.97,
) -> ShotSimilarity:
    """Peak normalised cross-correlation (within ``±max_lag_s``) between each shot and every
    earlier one, over ``window_s`` from each onset; pairs at or above ``threshold`` are
    reported as copies (i, j) with i < j. ``ncc`` lists consecutive-pair values.

    Normalised cross-correlation: Lewis, "Fast normalized cross-correlation", Vision
    Interface 1995."""
    w = max(8, int(window_s * sr))
    lag = max(1, int(max_lag_s * sr))
    segs: list[np.ndarray] = []
    for t in shot_times_s:
        i = max(0, round(t * sr) - lag)
        seg = np.asarray(y[i : i + w + 2 * lag], dtype=np.float64)
        segs.append(np.pad(seg, (0, max(0, w + 2 * lag - seg.size))))

    def ncc(a: np.ndarray, b: np.ndarray) -> float:
        core = a[lag : lag + w]
        c = sps.correlate(b, core, mode="valid")
        e_core = float(np.sum(core**2))
        e_b = np.convolve(b**2, np.ones(w), mode="valid")
        den = np.sqrt(e_core * e_b) + 1e-20
        return float(np.max(c / den)) if c.size else 0.0

    consec = tuple(round(ncc(segs[k], segs[k - 1]), 4) for k in range(1, len(segs)))
    copies = []
    for j in range(1, len(segs)):
        for i in range(j):
            if ncc(segs[j], segs[i]) >= threshold:
                copies.append((i, j))
    return ShotSimilarity(ncc=consec, copies=tuple(copies), threshold=threshold)


@dataclass(frozen=True)
class CrackBang:
    """The result of the crack–bang analysis of one shot. ``crack_to_bang_s`` is None when no
    crack was found."""

    crack_found: bool
    crack_to_bang_s: float | None
    crack_duration_ms: float | None
    bandwidth_ok: bool
    note: str


def crack_bang(
    *, y: np.ndarray, sr: int, onset_s: float, search_s: float = 0.25, min_sr: int = 32000
) -> CrackBang:
    """Look for an N-wave (crack) followed by a louder, longer muzzle blast (bang) after
    ``onset_s`` (Maher 2006, 2007).

    The crack is a very short (< 1.5 ms) pulse with a steep rise; the blast is the later
    maximum of the smoothed (5 ms) energy. Requires a sample rate of at least ``min_sr``: below
    it the N-wave's edges are smeared and the result says so."""
    if sr < min_sr:
        return CrackBang(
            False,
            None,
            None,
            False,
            f"sample rate {sr} Hz is too low to resolve an N-wave (< {min_sr} Hz)",
        )
    i0 = max(0, int((onset_s - 0.01) * sr))
    seg = np.asarray(y[i0 : i0 + int(search_s * sr)], dtype=np.float64)
    if seg.size < int(0.02 * sr):
        return CrackBang(False, None, None, True, "too short")
    hp = sps.sosfilt(sps.butter(2, 2000.0, "highpass", fs=sr, output="sos"), seg)
    env_short = np.abs(hp)
    k5 = max(1, int(0.005 * sr))
    smooth = np.convolve(seg**2, np.ones(k5) / k5, mode="same")
    bang = int(np.argmax(smooth))
    pre = env_short[: max(1, bang - int(0.003 * sr))]
    if pre.size < int(0.002 * sr):
        return CrackBang(False, None, None, True, "no room for a crack before the blast")
    c = int(np.argmax(pre))
    noise = float(np.median(env_short[: max(8, int(0.008 * sr))])) + 1e-12
    peak = float(pre[c])
    above = env_short > peak * 0.3
    lo, hi = c, c
    while lo > 0 and above[lo - 1]:
        lo -= 1
    while hi + 1 < above.size and above[hi + 1] and hi - c < int(0.003 * sr):
        hi += 1
    dur_ms = (hi - lo + 1) / sr * 1000.0
    gap_s = (bang - c) / sr
    if peak > 8 * noise and dur_ms < 1.5 and gap_s > 0.002:
        return CrackBang(
            True,
            round(gap_s, 4),
            round(dur_ms, 3),
            True,
            "short N-wave-like pulse before the muzzle blast: consistent with a "
            "supersonic projectile heard down-range (advisory)",
        )
    return CrackBang(False, None, None, True, "no distinct crack before the muzzle blast")
