"""Speech-oriented landmark fingerprints: log-frequency spectral peaks hashed as triplets.

The method follows Panako (J. Six and M. Leman, "Panako - a scalable acoustic fingerprinting
system handling time-scale and pitch modification", ISMIR 2014; J. Six, "Panako: a scalable
audio search system", JOSS 6(58), 2021), itself an extension of the landmark pairs of
A. Wang, "An industrial-strength audio search algorithm", ISMIR 2003:

1. the audio is resampled to 8 kHz mono and turned into a log-power spectrogram on a
   logarithmic frequency axis (``bands_per_octave`` triangular bands from ``fmin`` to ``fmax``),
   so a change of pitch or playback speed is a *shift* along the frequency axis;
2. local maxima of that spectrogram are picked, and the strongest few per half second kept
   (gain-invariant: only the ranking of log powers matters);
3. each peak (anchor) is combined with later peaks in two successive time zones into
   triplets. A
   triplet is hashed by quantities that a speed change (resampling), a tempo change with pitch
   kept, or a pitch shift leave (nearly) unchanged: the two log-frequency differences, the
   ratio of its time intervals, plus a coarse anchor band and a coarse log-duration. The last
   two vary within a bounded range under the supported modifications; a *query* therefore
   looks up every neighbouring quantisation cell the modification could have moved a value
   into ("query expansion"), so the index stores each triplet once.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import scipy.fft as sfft
from scipy import ndimage, sparse
from scipy import signal as sps

ALGORITHM = "earwitness-triplet"
ALGORITHM_VERSION = 1


@dataclass(frozen=True)
class FingerprintParams:
    """Parameters of the fingerprint; recorded in the index and in exported files.

    Two fingerprints are comparable only when every field is equal.
    """

    sr: int = 8000
    n_fft: int = 512
    hop: int = 128
    fmin: float = 150.0
    fmax: float = 3500.0
    bands_per_octave: int = 24
    peak_time_radius: int = 4
    peak_freq_radius: int = 4
    peaks_per_second: float = 24.0
    query_peaks_per_second: float = 40.0
    zone: int = 12
    min_dt: int = 3
    f1_width: float = 12.0
    df_width: float = 2.0
    df_max: float = 31.0
    ratio_bins: int = 5
    logdt_width: float = 0.35
    norm_s: float = 1.0
    prominence_size: int = 9

    @property
    def frame_s(self) -> float:
        return self.hop / self.sr

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class QueryTolerance:
    """How far a modification may move each hashed quantity (query-side expansion).

    ``f_shift`` (bands) covers pitch +-50 cents plus speed +-5 % (84 cents) and peak jitter;
    ``df_jitter`` (bands) the jitter of interpolated peak positions; ``ratio_jitter`` the
    jitter of the time-interval ratio; ``logdt_shift`` covers a +-5 % time scaling plus the
    jitter of one frame on the anchor-to-last interval.
    """

    f_shift: float = 2.2
    df_jitter: float = 0.4
    ratio_jitter: float = 0.05
    logdt_shift: float = 0.09
    power_jitter: float = 1.5


@dataclass(frozen=True)
class Peaks:
    """Spectral peaks: frame index, interpolated time (frames) and log-band position."""

    frame: np.ndarray  # int32
    t: np.ndarray  # float64, frames
    f: np.ndarray  # float64, bands
    power: np.ndarray  # float32, dB


@dataclass(frozen=True)
class Triplets:
    """Hashed triplets of one recording. ``t1`` is the anchor frame, ``dt`` the t3-t1 span."""

    hashes: np.ndarray  # uint32
    t1: np.ndarray  # uint32 frames
    dt: np.ndarray  # uint16 frames
    feats: np.ndarray  # float64 (n, 8): f1, d12, d23, ratio, logdt, p1-p2, p2-p3, p1-p3
    n_frames: int
    params: FingerprintParams
    strength: np.ndarray | None = None  # float32: weakest peak prominence of the triplet (dB)


def _log_filterbank(params: FingerprintParams) -> np.ndarray:
    """Triangular bands equally spaced in log frequency, shape (n_fft//2+1, n_bands)."""
    n_oct = np.log2(params.fmax / params.fmin)
    n_bands = int(np.floor(n_oct * params.bands_per_octave))
    centers = params.fmin * 2.0 ** (np.arange(-1, n_bands + 1) / params.bands_per_octave)
    freqs = np.arange(params.n_fft // 2 + 1) * params.sr / params.n_fft
    # Bandwidth at least 1.5 FFT bins so low bands interpolate between bins.
    min_bw = 1.5 * params.sr / params.n_fft
    fb = np.zeros((freqs.size, n_bands), dtype=np.float32)
    for b in range(n_bands):
        lo, c, hi = centers[b], centers[b + 1], centers[b + 2]
        lo = min(lo, c - min_bw / 2)
        hi = max(hi, c + min_bw / 2)
        up = (freqs - lo) / (c - lo)
        down = (hi - freqs) / (hi - c)
        fb[:, b] = np.clip(np.minimum(up, down), 0.0, None)
    fb /= fb.sum(axis=0, keepdims=True) + 1e-12
    return fb


_FB_CACHE: dict[FingerprintParams, np.ndarray] = {}


def log_spectrogram(*, y: np.ndarray, params: FingerprintParams) -> np.ndarray:
    """Log-power spectrogram on a log-frequency axis, shape (frames, bands), in dB.

    ``y`` must already be at ``params.sr``. Frame ``k`` is centred at ``k * hop`` samples.
    """
    if params not in _FB_CACHE:
        _FB_CACHE[params] = _log_filterbank(params)
    fb = _FB_CACHE[params]
    fb_t = sparse.csr_matrix(fb.T)
    x = np.asarray(y, dtype=np.float32)
    pad = params.n_fft // 2
    x = np.pad(x, (pad, pad))
    n_frames = max(0, 1 + (x.size - params.n_fft) // params.hop)
    if n_frames == 0:
        return np.zeros((0, fb.shape[1]), dtype=np.float32)
    frames = np.lib.stride_tricks.as_strided(
        x, shape=(n_frames, params.n_fft), strides=(x.strides[0] * params.hop, x.strides[0])
    )
    win = sps.get_window("hann", params.n_fft).astype(np.float32)
    spec = sfft.rfft(frames * win, axis=1)  # complex64 for float32 input
    power = spec.real**2 + spec.imag**2
    bands = np.asarray((fb_t @ power.T).T)  # sparse bands x bins product
    out: np.ndarray = (10.0 * np.log10(bands + 1e-10)).astype(np.float32)
    return out


def pick_peaks(
    *, spec: np.ndarray, params: FingerprintParams, peaks_per_second: float | None = None
) -> Peaks:
    """Local maxima of ``spec``, about ``params.peaks_per_second`` of the strongest.

    Peak positions are refined by parabolic interpolation in time and frequency (Wang 2003
    uses the raw maxima; interpolation reduces quantisation jitter of the hashed ratios).
    """
    n_t, n_f = spec.shape
    empty = Peaks(np.zeros(0, np.int32), np.zeros(0), np.zeros(0), np.zeros(0, np.float32))
    if n_t < 3 or n_f < 3:
        return empty
    size = (2 * params.peak_time_radius + 1, 2 * params.peak_freq_radius + 1)
    mx = ndimage.maximum_filter(spec, size=size, mode="constant", cval=-1e9)
    floor = max(float(spec.max()) - 60.0, -80.0)
    is_peak = (spec == mx) & (spec > floor)
    is_peak[0, :] = is_peak[-1, :] = False
    is_peak[:, 0] = is_peak[:, -1] = False
    ti, fi = np.nonzero(is_peak)
    # A peak must stand above at least one of its four neighbours: a flat plateau (digital
    # silence, or a constant level after normalisation) has no peaks at all.
    lowest = np.minimum(
        np.minimum(spec[ti - 1, fi], spec[ti + 1, fi]),
        np.minimum(spec[ti, fi - 1], spec[ti, fi + 1]),
    )
    strict = spec[ti, fi] > lowest + 1e-3
    ti, fi = ti[strict], fi[strict]
    if ti.size == 0:
        return empty
    if params.prominence_size > 0:
        # Rank by prominence over the local mean: sharp speech harmonics outrank broad noise.
        local = ndimage.uniform_filter(spec, size=(params.prominence_size, params.prominence_size))
        pw = (spec - local)[ti, fi]
    else:
        pw = spec[ti, fi]
    order = np.argsort(ti, kind="stable")
    ti, fi, pw = ti[order], fi[order], pw[order]
    # Shift-invariant density control: keep a peak when fewer than ``keep_n`` stronger peaks
    # lie within +-0.25 s of it (a block-wise top-k would depend on where the file starts).
    half = max(1, round(0.25 / params.frame_s))
    density = peaks_per_second or params.peaks_per_second
    keep_n = max(1, round(density * 0.5))
    stronger = np.zeros(ti.size, dtype=np.int32)
    lo = np.searchsorted(ti, ti - half, side="left")
    hi = np.searchsorted(ti, ti + half, side="right")
    width = int((hi - lo).max())
    for d in range(1, width + 1):
        for sign in (1, -1):
            j = np.arange(ti.size) + sign * d
            ok = (j >= lo) & (j < hi)
            jj = np.clip(j, 0, ti.size - 1)
            stronger += ok & (pw[jj] > pw)
    sel = stronger < keep_n
    ti, fi, pw = ti[sel], fi[sel], pw[sel]

    def interp(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
        den = a - 2 * b + c
        with np.errstate(divide="ignore", invalid="ignore"):
            d = np.where(np.abs(den) > 1e-9, 0.5 * (a - c) / den, 0.0)
        return np.clip(d, -0.5, 0.5)

    df = interp(spec[ti, fi - 1], spec[ti, fi], spec[ti, fi + 1])
    dt = interp(spec[ti - 1, fi], spec[ti, fi], spec[ti + 1, fi])
    order = np.lexsort((fi, ti))
    return Peaks(
        frame=ti[order].astype(np.int32),
        t=(ti + dt)[order].astype(np.float64),
        f=(fi + df)[order].astype(np.float64),
        power=pw[order].astype(np.float32),
    )


# Band level (dB) at or below which a band is treated as digital silence (log floor is -100).
_SILENCE_DB = -95.0

# Bit layout of a hash (26 bits): f1 (4) | d12 (6) | d23 (6) | ratio (3) | logdt (4) |
# power order p1>p2, p2>p3, p1>p3 (1 each)
_BITS = (4, 6, 6, 3, 4, 1, 1, 1)
N_FEATS = len(_BITS)


def _quantise(feats: np.ndarray, params: FingerprintParams) -> np.ndarray:
    """Continuous triplet features -> integer cells, shape (n, N_FEATS)."""
    q = np.empty(feats.shape, dtype=np.int64)
    q[:, 0] = np.floor(feats[:, 0] / params.f1_width)
    q[:, 1] = np.floor((feats[:, 1] + params.df_max) / params.df_width)
    q[:, 2] = np.floor((feats[:, 2] + params.df_max) / params.df_width)
    q[:, 3] = np.floor(feats[:, 3] * params.ratio_bins)
    q[:, 4] = np.floor(feats[:, 4] / params.logdt_width)
    q[:, 5:] = feats[:, 5:] > 0
    for k, bits in enumerate(_BITS):
        np.clip(q[:, k], 0, (1 << bits) - 1, out=q[:, k])
    return q


def _pack(q: np.ndarray) -> np.ndarray:
    h = np.zeros(q.shape[0], dtype=np.uint64)
    for k, bits in enumerate(_BITS):
        h = (h << np.uint64(bits)) | q[:, k].astype(np.uint64)
    return h.astype(np.uint32)


def triplets_from_peaks(*, peaks: Peaks, n_frames: int, params: FingerprintParams) -> Triplets:
    """Triplets (anchor, second, third) with the second peak in a target zone of ``zone``
    frames after the anchor and the third within ``zone`` frames after the second (Six &
    Leman 2014). Zones are defined by time, not by rank, so a denser set of peaks (a query)
    yields a superset of the triplets of a sparser one (the index)."""
    n = peaks.t.size
    fr = peaks.frame
    nxt = np.searchsorted(fr, fr + 1, side="left")
    end = np.searchsorted(fr, fr + params.zone, side="right")
    anchors: list[np.ndarray] = []
    seconds: list[np.ndarray] = []
    thirds: list[np.ndarray] = []
    idx = np.arange(n)
    width = int((end - nxt).max()) if n else 0
    for a in range(width):
        j = nxt + a
        ok_j = j < end
        i1, j1 = idx[ok_j], j[ok_j]
        for b in range(width):
            m = nxt[j1] + b
            ok = m < end[j1]
            if not ok.any():
                break
            i2, j2, m2 = i1[ok], j1[ok], m[ok]
            ok = (
                (fr[m2] - fr[i2] >= params.min_dt)
                & (np.abs(peaks.f[j2] - peaks.f[i2]) < params.df_max)
                & (np.abs(peaks.f[m2] - peaks.f[j2]) < params.df_max)
            )
            anchors.append(i2[ok])
            seconds.append(j2[ok])
            thirds.append(m2[ok])
    i = np.concatenate(anchors) if anchors else np.zeros(0, np.int64)
    j = np.concatenate(seconds) if seconds else np.zeros(0, np.int64)
    m = np.concatenate(thirds) if thirds else np.zeros(0, np.int64)
    order = np.lexsort((m, j, i))
    i, j, m = i[order], j[order], m[order]
    t, f, pw = peaks.t, peaks.f, peaks.power.astype(np.float64)
    span = np.maximum(t[m] - t[i], 1e-3)
    feats = np.stack(
        [
            f[i],
            f[j] - f[i],
            f[m] - f[j],
            np.clip((t[j] - t[i]) / span, 0.0, 0.999),
            np.log(span),
            pw[i] - pw[j],
            pw[j] - pw[m],
            pw[i] - pw[m],
        ],
        axis=1,
    )
    hashes = _pack(_quantise(feats, params))
    return Triplets(
        hashes=hashes,
        t1=peaks.frame[i].astype(np.uint32),
        dt=(peaks.frame[m] - peaks.frame[i]).astype(np.uint16),
        feats=feats,
        n_frames=n_frames,
        params=params,
        strength=np.minimum(np.minimum(pw[i], pw[j]), pw[m]).astype(np.float32),
    )


def fingerprint(
    *, y: np.ndarray, sr: int, params: FingerprintParams | None = None, query: bool = False
) -> Triplets:
    """Fingerprint mono samples ``y`` at rate ``sr`` (resampled to ``params.sr`` if needed).

    ``query=True`` keeps ``query_peaks_per_second`` peaks instead of ``peaks_per_second``:
    the index stores the strongest peaks only, a (possibly noisy) query looks for them among
    more of its own.
    """
    params = params or FingerprintParams()
    x = np.asarray(y, dtype=np.float32)
    if x.ndim != 1:
        raise ValueError("fingerprint expects mono samples of shape (n,)")
    if sr != params.sr:
        g = np.gcd(int(sr), int(params.sr))
        x = sps.resample_poly(x, params.sr // g, int(sr) // g).astype(np.float32)
    spec = log_spectrogram(y=x, params=params)
    silent = spec <= _SILENCE_DB  # digital silence must not yield peaks after normalisation
    if params.norm_s > 0 and spec.shape[0] > 0:
        # Per-band running-mean removal (a local cepstral-mean subtraction): stationary
        # noise, a steady bed and channel colouring are flattened before peak picking.
        size = max(3, round(params.norm_s / params.frame_s) | 1)
        spec = spec - 0.8 * ndimage.uniform_filter1d(spec, size=size, axis=0, mode="nearest")
    spec = np.where(silent, np.float32(-1e9), spec)
    density = params.query_peaks_per_second if query else params.peaks_per_second
    peaks = pick_peaks(spec=spec, params=params, peaks_per_second=density)
    return triplets_from_peaks(peaks=peaks, n_frames=spec.shape[0], params=params)


def expand_query(
    *, trip: Triplets, tol: QueryTolerance | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Every hash cell a modified copy of each query triplet may fall in.

    Returns ``(hashes, triplet_index)``: each query triplet appears once per cell. A field
    whose value lies within its tolerance of a cell boundary contributes both cells.
    """
    tol = tol or QueryTolerance()
    p = trip.params
    feats = trip.feats
    margins = np.array(
        [tol.f_shift, tol.df_jitter, tol.df_jitter, tol.ratio_jitter, tol.logdt_shift]
        + [tol.power_jitter] * 3
    )
    lo = _quantise(feats - margins, p)
    hi = _quantise(feats + margins, p)
    rows = np.arange(feats.shape[0])
    q = lo
    for k in range(N_FEATS):
        # At these tolerances a field spans at most two cells: duplicate the rows that
        # straddle a boundary with the upper cell.
        two = hi[rows, k] != q[:, k]
        if two.any():
            extra = q[two].copy()
            extra[:, k] = hi[rows[two], k]
            q = np.concatenate([q, extra])
            rows = np.concatenate([rows, rows[two]])
    return _pack(q), rows
