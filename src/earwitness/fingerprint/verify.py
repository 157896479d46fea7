"""Second-stage verification of near-miss alignments on the audio of both recordings.

Landmark alignment (``align.py``) is the candidate generator: under broadband noise or a
music bed many of the reference's spectral peaks are no longer peaks in the query, so a true
alignment can carry too few landmarks to pass the landmark-only threshold. When the reference
audio is at hand, such a near-miss is checked on the spectrograms instead: each query frame is
compared with the reference frame that the fitted line ``ref_t = offset + speed * query_t``
maps it to, by the correlation of their log-band vectors (after the fingerprint's per-band
running-mean removal), at the one band shift in ``+-max_shift`` that fits the span best
(resampling and pitch shifts move the log-frequency axis). The score is the mean correlation
over the frames where the query has energy above its own floor, on the landmark span extended
by ``extend_s`` on each side. This is the frame-similarity measure of J. Haitsma and T.
Kalker, "A highly robust audio fingerprinting system", ISMIR 2002 (there on sub-fingerprint
bits, here on the band vectors, as in ``refine.py``), used to verify a candidate found by a
landmark search, the two-stage design of A. Wang, ISMIR 2003 (hash hits propose, a
time-consistent comparison decides).

Null model: the scores of alignments found between *unrelated* recordings (measured by
``benchmarks/bench_match.py``) have an exponential upper tail,
``P(score >= v) = tail_fraction * exp(-(v - tail_start) / tail_scale)`` above their
``1 - tail_fraction`` quantile ``tail_start``. A verified match's expected number of false
matches is the landmark null model's expectation times this exceedance (the two are treated
as independent: the score measured no dependence on the landmark count among chance
alignments of 4 to 7 landmarks on the development split).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from scipy import ndimage

from earwitness.fingerprint.features import FingerprintParams, log_spectrogram


class ReferenceAudio(Protocol):
    """Mono samples at ``sr`` of an indexed item from ``start_s`` to ``end_s`` (clipped to the
    item), or ``None`` when its audio is not available (fingerprints imported without it)."""

    def __call__(self, item_id: str, start_s: float, end_s: float, sr: int) -> np.ndarray | None:
        """The item's samples from sample ``round(start_s * sr)`` to ``end_s`` (clipped)."""


@dataclass(frozen=True)
class VerifyNull:
    """Exponential upper tail of verification scores of chance alignments."""

    tail_start: float = 0.2
    tail_scale: float = 0.05
    tail_fraction: float = 0.1
    source: str = "default (uncalibrated)"

    def exceedance(self, score: float) -> float:
        """Probability that a chance alignment scores at least ``score`` (capped at 1)."""
        z = (score - self.tail_start) / max(self.tail_scale, 1e-6)
        return float(min(1.0, self.tail_fraction * math.exp(-z)))


@dataclass(frozen=True)
class VerifyParams:
    """Which near-misses are verified and how.

    ``min_landmarks``: fewest landmarks a candidate needs to be verified at all;
    ``max_candidates``: best near-misses (by landmarks) verified per query; ``min_score``:
    the verification score a match needs (tuned on the development split above every chance
    alignment seen there, wrong-item candidates of positive queries included);
    ``extend_s``: the landmark span is extended by this much on each side for the score;
    ``max_shift``: band shifts tried; ``active_db``: a query frame counts when its energy is
    this far above the query's ``floor_percentile`` frame energy; ``min_frames``: fewest
    counted frames for a score.
    """

    min_landmarks: int = 4
    max_candidates: int = 3
    min_score: float = 0.45
    extend_s: float = 3.0
    max_shift: int = 3
    active_db: float = 6.0
    floor_percentile: float = 20.0
    min_frames: int = 25
    null: VerifyNull = VerifyNull()


@dataclass(frozen=True)
class QuerySpectrum:
    """The query's normalised log-band spectrogram and the frames that carry energy."""

    spec: np.ndarray  # (frames, bands), running mean removed
    active: np.ndarray  # bool (frames,)


def normalise_bands(spec: np.ndarray, params: FingerprintParams) -> np.ndarray:
    """The fingerprint's per-band running-mean removal (``features.fingerprint``)."""
    if params.norm_s <= 0 or spec.shape[0] == 0:
        return spec
    size = max(3, round(params.norm_s / params.frame_s) | 1)
    out: np.ndarray = spec - 0.8 * ndimage.uniform_filter1d(spec, size=size, axis=0, mode="nearest")
    return out


def frame_energy_db(spec: np.ndarray) -> np.ndarray:
    """Each frame's mean band power of a log-band spectrogram (dB), in dB."""
    out: np.ndarray = 10.0 * np.log10(
        np.mean(10.0 ** (spec.astype(np.float64) / 10.0), axis=1) + 1e-12
    )
    return out


def query_spectrum(
    *, y: np.ndarray, params: FingerprintParams, verify: VerifyParams
) -> QuerySpectrum:
    """Spectrum of the query (samples at ``params.sr``) for verification."""
    raw = log_spectrogram(y=y, params=params).astype(np.float64)
    if raw.shape[0] == 0:
        return QuerySpectrum(spec=raw, active=np.zeros(0, dtype=bool))
    energy = frame_energy_db(raw)
    floor = float(np.percentile(energy, verify.floor_percentile))
    active = energy > floor + verify.active_db
    return QuerySpectrum(spec=normalise_bands(raw, params), active=active)


def reference_spectrum(*, y: np.ndarray, params: FingerprintParams) -> np.ndarray:
    """Normalised log-band spectrogram of a reference span (samples at ``params.sr``)."""
    return normalise_bands(log_spectrogram(y=y, params=params).astype(np.float64), params)


def _row_corr(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a - a.mean(axis=1, keepdims=True)
    b = b - b.mean(axis=1, keepdims=True)
    den = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1) + 1e-9
    out: np.ndarray = np.sum(a * b, axis=1) / den
    return out


def verification_score(
    *,
    query: QuerySpectrum,
    ref_spec: np.ndarray,
    ref_first_frame: int,
    speed: float,
    offset: float,
    q_start: float,
    q_end: float,
    params: FingerprintParams,
    verify: VerifyParams,
) -> float:
    """Mean band-vector correlation along the line over the query's active frames.

    ``ref_spec`` holds the reference's frames from ``ref_first_frame`` on; ``offset``,
    ``q_start`` and ``q_end`` are in frames (the alignment's). Returns NaN when fewer than
    ``min_frames`` active frames map into the reference.
    """
    n_q = query.spec.shape[0]
    ext = round(verify.extend_s / params.frame_s)
    t0, t1 = max(0, int(q_start) - ext), min(n_q - 1, int(q_end) + ext)
    if t1 <= t0 or ref_spec.shape[0] == 0:
        return math.nan
    t = np.arange(t0, t1 + 1)
    u = np.rint(offset + speed * t).astype(np.int64) - ref_first_frame
    ok = (u >= 0) & (u < ref_spec.shape[0])
    if int(ok.sum()) < verify.min_frames:
        return math.nan
    t, u = t[ok], u[ok]
    act = query.active[t]
    if int(act.sum()) < verify.min_frames:
        return math.nan
    zq, zr = query.spec[t], ref_spec[u]
    nb = zq.shape[1]
    best_all, best_act = -math.inf, math.nan
    for k in range(-verify.max_shift, verify.max_shift + 1):
        c = _row_corr(zq[:, max(0, k) : nb + min(0, k)], zr[:, max(0, -k) : nb + min(0, -k)])
        m = float(np.mean(c))
        if m > best_all:  # the shift that fits the whole span best
            best_all, best_act = m, float(np.mean(c[act]))
    return best_act


def verify_span(
    *,
    query: QuerySpectrum,
    references: ReferenceAudio,
    item_id: str,
    speed: float,
    offset: float,
    q_start: float,
    q_end: float,
    params: FingerprintParams,
    verify: VerifyParams,
) -> tuple[float, np.ndarray | None, float]:
    """Score one alignment, loading only the reference span it needs.

    Returns ``(score, reference samples, start of those samples in reference frames)``; the
    score is NaN (and the samples ``None``) when the reference audio is not available.
    """
    fs = params.frame_s
    ext = (verify.extend_s + params.norm_s + 0.5) / fs  # frames; margin for the running mean
    a = offset + speed * (q_start - ext)
    b = offset + speed * (q_end + ext)
    first = max(0, math.floor(min(a, b)))
    last = math.ceil(max(a, b))
    if last <= first:
        return math.nan, None, 0.0
    r_y = references(item_id, first * fs, last * fs, params.sr)
    if r_y is None or r_y.size == 0:
        return math.nan, None, 0.0
    score = verification_score(
        query=query,
        ref_spec=reference_spectrum(y=r_y, params=params),
        ref_first_frame=first,
        speed=speed,
        offset=offset,
        q_start=q_start,
        q_end=q_end,
        params=params,
        verify=verify,
    )
    return score, r_y, float(first)


def fit_verify_null(scores: list[float], *, tail_fraction: float = 0.1) -> VerifyNull:
    """Exponential tail (maximum likelihood: the mean excess) above the ``1 - tail_fraction``
    quantile of chance alignments' verification scores."""
    v = np.asarray([s for s in scores if math.isfinite(s)], dtype=float)
    if v.size < 20:
        return VerifyNull(source=f"too few chance alignments to fit ({v.size}); default")
    start = float(np.quantile(v, 1.0 - tail_fraction))
    excess = v[v > start] - start
    scale = float(np.mean(excess)) if excess.size else 0.05
    return VerifyNull(
        tail_start=round(start, 4),
        tail_scale=round(max(scale, 1e-3), 4),
        tail_fraction=tail_fraction,
        source=f"calibrated by benchmarks/bench_match.py on {v.size} chance alignments of "
        "unrelated speech",
    )
