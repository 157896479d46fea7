"""Refinement of a match's span edges on the spectrograms of both recordings.

Landmark triplets that straddle a splice do not match, and pauses carry no landmarks, so the
extent of the matched landmarks lies inside the truly shared span. When the reference audio is
available, each edge is pushed outwards, frame by frame along the fitted line
``ref_t = offset + speed * query_t``, for as long as the two log-frequency spectra stay
similar (frame-wise correlation of band vectors, maximised over small band shifts so pitch
and speed changes do not break it; the frame-similarity idea of Haitsma & Kalker, "A highly
robust audio fingerprinting system", ISMIR 2002, applied along the verified alignment).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy import ndimage

from earwitness.fingerprint.features import FingerprintParams, log_spectrogram
from earwitness.fingerprint.matcher import ArchiveMatch
from earwitness.fingerprint.verify import frame_energy_db, normalise_bands


@dataclass(frozen=True)
class RefineParams:
    """``max_extend_s``: furthest an edge may move; ``rel_threshold``: a frame is "shared"
    when its similarity is at least this fraction of the median inside the landmark span;
    ``max_shift``: band shifts tried; ``smooth``: frames of smoothing; ``max_gap``: most
    consecutive unshared frames an edge walks over; ``normalise``: compare the spectra after
    the fingerprint's per-band running-mean removal (a stationary bed or channel colour
    cancels); ``quiet_db``: a reference frame whose energy is less than this above the
    reference's ``quiet_percentile`` frame energy is *quiet* (a pause): it carries no
    evidence either way, so it neither moves an edge nor counts towards the gap (``None``:
    quiet frames count as unshared). That applies only when something was laid under the
    reused audio: in the reference's quiet frames inside the landmark span the query's median
    energy is less than ``bed_db`` below its median over the other frames of the span (at
    least ``min_quiet`` quiet frames). Under a music bed the query is not quiet where the
    reused speech pauses, and every pause used to end the walk; without a bed the pauses
    are quiet in both, and crossing them would only let the walk reach chance-similar
    frames beyond the true edge."""

    max_extend_s: float = 3.0
    rel_threshold: float = 0.5
    max_shift: int = 3
    smooth: int = 5
    max_gap: int = 6
    normalise: bool = True
    quiet_db: float | None = 6.0
    quiet_percentile: float = 20.0
    bed_db: float = 15.0
    min_quiet: int = 10


def _znorm(spec: np.ndarray) -> np.ndarray:
    z = spec - spec.mean(axis=1, keepdims=True)
    out: np.ndarray = z / (np.linalg.norm(z, axis=1, keepdims=True) + 1e-6)
    return out


def frame_similarity(
    *,
    q_spec: np.ndarray,
    r_spec: np.ndarray,
    speed: float,
    offset: float,
    max_shift: int,
    smooth: int,
) -> np.ndarray:
    """Similarity of each query frame with the reference frame the alignment maps it to
    (NaN where the mapping leaves the reference)."""
    zq, zr = _znorm(q_spec), _znorm(r_spec)
    t = np.arange(zq.shape[0])
    u = np.rint(offset + speed * t).astype(np.int64)
    ok = (u >= 0) & (u < zr.shape[0])
    best = np.full(t.size, -1.0)
    nb = zq.shape[1]
    for k in range(-max_shift, max_shift + 1):
        a = zq[ok][:, max(0, k) : nb + min(0, k)]
        b = zr[u[ok]][:, max(0, -k) : nb + min(0, -k)]
        sim = np.full(t.size, -1.0)
        sim[ok] = np.sum(a * b, axis=1)
        sim = ndimage.uniform_filter1d(sim, size=smooth, mode="nearest")
        best = np.maximum(best, sim)
    best[~ok] = np.nan
    return best


def refine_edges(
    *,
    q_y: np.ndarray,
    r_y: np.ndarray,
    speed: float,
    offset: float,
    q_start: float,
    q_end: float,
    params: FingerprintParams,
    refine: RefineParams | None = None,
) -> tuple[float, float]:
    """Refined (q_start, q_end) in frames; both signals must be at ``params.sr``."""
    rp = refine or RefineParams()
    q_spec = log_spectrogram(y=q_y, params=params)
    r_spec = log_spectrogram(y=r_y, params=params)
    quiet_r = np.zeros(r_spec.shape[0], dtype=bool)
    if rp.quiet_db is not None and r_spec.shape[0]:
        r_energy = frame_energy_db(r_spec)
        quiet_r = r_energy < float(np.percentile(r_energy, rp.quiet_percentile)) + rp.quiet_db
    q_energy = frame_energy_db(q_spec)
    if rp.normalise:
        q_spec = normalise_bands(q_spec.astype(np.float64), params)
        r_spec = normalise_bands(r_spec.astype(np.float64), params)
    if q_spec.shape[0] < 3 or r_spec.shape[0] < 3:
        return q_start, q_end
    sim = frame_similarity(
        q_spec=q_spec,
        r_spec=r_spec,
        speed=speed,
        offset=offset,
        max_shift=rp.max_shift,
        smooth=rp.smooth,
    )
    n = sim.size
    u = np.rint(offset + speed * np.arange(n)).astype(np.int64)
    quiet = np.zeros(n, dtype=bool)
    inside_r = (u >= 0) & (u < quiet_r.size)
    quiet[inside_r] = quiet_r[u[inside_r]]
    a, b = int(max(0, q_start)), int(min(n - 1, q_end))
    span_q, span_e = quiet[a : b + 1], q_energy[a : b + 1]
    if int(span_q.sum()) < rp.min_quiet or int((~span_q).sum()) < rp.min_quiet:
        quiet[:] = False
    elif np.median(span_e[span_q]) < np.median(span_e[~span_q]) - rp.bed_db:
        quiet[:] = False  # the query pauses with the reference: no bed under it
    inside = sim[a : b + 1][~quiet[a : b + 1]]  # the reference's pauses say nothing
    inside = inside[np.isfinite(inside)]
    if inside.size < 5:
        return q_start, q_end
    level = float(np.median(inside))
    if level < 0.2:
        return q_start, q_end
    thr = rp.rel_threshold * level
    reach = int(rp.max_extend_s / params.frame_s)

    shared = np.isfinite(sim) & (sim >= thr) & ~quiet

    def walk(start: int, step: int) -> int:
        edge, gap, t = start, 0, start + step
        while 0 <= t < n and abs(t - start) <= reach:
            if quiet[t] and np.isfinite(sim[t]):
                pass  # a pause in the reference: no evidence either way
            elif shared[t]:
                edge, gap = t, 0
            else:
                gap += 1
                if gap > rp.max_gap or not np.isfinite(sim[t]):
                    break
            t += step
        return edge

    return float(walk(a, -1)), float(walk(b, +1))


def refine_match(
    match: ArchiveMatch,
    *,
    q_y: np.ndarray,
    r_y: np.ndarray,
    params: FingerprintParams,
    r_first: float = 0.0,
    r_duration_s: float | None = None,
) -> ArchiveMatch:
    """``match`` with its query/reference span edges refined on the audio (at params.sr).

    ``r_y`` is the reference from its frame ``r_first`` on (0: the whole item), and
    ``r_duration_s`` the item's duration (default: ``r_y``'s, for a whole item).
    """
    a = match.alignment
    if a is None:
        return match
    qs, qe = refine_edges(
        q_y=q_y,
        r_y=r_y,
        speed=a.speed,
        offset=a.offset - r_first,
        q_start=a.q_start,
        q_end=a.q_end,
        params=params,
    )
    fs = params.frame_s
    q_dur = q_y.size / params.sr
    r_dur = r_y.size / params.sr if r_duration_s is None else r_duration_s
    q0, q1 = max(0.0, qs * fs), min(q_dur, qe * fs)
    return replace(
        match,
        query_start_s=q0,
        query_end_s=q1,
        ref_start_s=max(0.0, (a.offset + a.speed * qs) * fs),
        ref_end_s=min(r_dur, (a.offset + a.speed * qe) * fs),
        refined=True,
    )
