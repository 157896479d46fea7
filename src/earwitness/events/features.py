"""Frame features shared by all DSP event detectors, computed once per recording.

The recording is analysed at 16 kHz mono with its mean removed and spectral bins below 40 Hz
dropped (real effect libraries often carry DC offsets). Features: a short-time power
spectrum (32 ms Hann window, 10 ms hop), its log energies in ``N_BANDS`` mel-spaced bands,
and the frame energy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import fft as sfft
from scipy import signal as sps

SR = 16000
HOP = 160  # 10 ms
N_FFT = 512  # 32 ms
N_BANDS = 24
FMIN = 50.0
FMAX = 7600.0
EPS = 1e-10


@dataclass(frozen=True)
class FrameFeatures:
    """Features of one recording. ``band_db`` has shape (frames, bands); ``frame_db`` the
    total energy per frame in dB; ``power`` the linear power spectrum (frames, bins);
     ``y`` the filtered 16 kHz samples."""

    y: np.ndarray
    sr: int
    hop: int
    power: np.ndarray
    freqs: np.ndarray
    band_db: np.ndarray
    band_edges: np.ndarray
    frame_db: np.ndarray

    @property
    def frame_rate(self) -> float:
        return self.sr / self.hop

    @property
    def n_frames(self) -> int:
        return int(self.frame_db.size)

    @property
    def duration_s(self) -> float:
        return float(self.y.size) / self.sr

    def t(self, frame: int | float) -> float:
        """Time in seconds of the centre of ``frame``."""
        return float(frame) * self.hop / self.sr


def _mel(f: np.ndarray) -> np.ndarray:
    return 2595.0 * np.log10(1.0 + f / 700.0)


def _imel(m: np.ndarray) -> np.ndarray:
    return 700.0 * (10.0 ** (m / 2595.0) - 1.0)


def band_matrix(*, freqs: np.ndarray, n_bands: int, fmin: float, fmax: float) -> np.ndarray:
    """Rectangular mel-spaced band pooling matrix (bins, bands); each bin goes to one band.

    Mel scale after Stevens, Volkmann & Newman (1937), in the O'Shaughnessy (1987) form."""
    edges = _imel(np.linspace(_mel(np.array(fmin)), _mel(np.array(fmax)), n_bands + 1))
    m = np.zeros((freqs.size, n_bands), dtype=np.float32)
    idx = np.searchsorted(edges, freqs, side="right") - 1
    ok = (idx >= 0) & (idx < n_bands)
    m[np.nonzero(ok)[0], idx[ok]] = 1.0
    empty = m.sum(axis=0) == 0
    for b in np.nonzero(empty)[0]:  # narrow low bands: take the nearest bin
        centre = 0.5 * (edges[b] + edges[b + 1])
        m[int(np.argmin(np.abs(freqs - centre))), b] = 1.0
    return m


def compute_features(*, y: np.ndarray, sr: int) -> FrameFeatures:
    """Compute :class:`FrameFeatures` of mono samples ``y`` at rate ``sr`` (resampled to
    16 kHz). Short-time Fourier analysis after Allen & Rabiner (1977)."""
    x = np.asarray(y, dtype=np.float32)
    if x.ndim != 1:
        raise ValueError("compute_features expects mono samples")
    if sr != SR:
        g = np.gcd(int(sr), SR)
        x = sps.resample_poly(x, SR // g, int(sr) // g).astype(np.float32)
    x = x - np.float32(np.mean(x)) if x.size else x  # DC offsets; bins < 40 Hz are dropped
    n = x.size
    n_frames = max(1, int(np.ceil(n / HOP)))
    pad = np.concatenate(
        [
            np.zeros(N_FFT // 2, np.float32),
            x,
            np.zeros(N_FFT // 2 + HOP * n_frames - n + 1, np.float32),
        ]
    )
    win = np.hanning(N_FFT).astype(np.float32)
    frames = np.lib.stride_tricks.sliding_window_view(pad, N_FFT)[::HOP][:n_frames]
    power = np.empty((n_frames, N_FFT // 2 + 1), dtype=np.float32)
    scale = np.float32(1.0 / float(np.sum(win**2)))
    for a in range(0, n_frames, 4096):  # chunks stay in cache; float32 FFT
        spec = sfft.rfft(frames[a : a + 4096] * win, axis=1)
        power[a : a + 4096] = (spec.real**2 + spec.imag**2) * scale
    freqs = np.fft.rfftfreq(N_FFT, 1.0 / SR)
    power[:, freqs < 40.0] = 0.0
    bm = band_matrix(freqs=freqs, n_bands=N_BANDS, fmin=FMIN, fmax=FMAX)
    band = power @ bm / np.maximum(bm.sum(axis=0), 1.0)
    band_db = 10.0 * np.log10(band + EPS)
    frame_db = 10.0 * np.log10(power.mean(axis=1) + EPS)
    edges = _imel(np.linspace(_mel(np.array(FMIN)), _mel(np.array(FMAX)), N_BANDS + 1))
    return FrameFeatures(
        y=x,
        sr=SR,
        hop=HOP,
        power=power,
        freqs=freqs,
        band_db=band_db.astype(np.float32),
        band_edges=edges,
        frame_db=frame_db.astype(np.float32),
    )


def rolling_min(*, x: np.ndarray, width: int) -> np.ndarray:
    """Running minimum over a centred window of ``width`` frames along axis 0 (minimum
    statistics, Martin 2001, "Noise power spectral density estimation based on optimal
    smoothing and minimum statistics")."""
    from scipy.ndimage import minimum_filter1d

    return np.asarray(minimum_filter1d(x, size=max(1, width), axis=0, mode="nearest"))


def rolling_max(*, x: np.ndarray, width: int) -> np.ndarray:
    """Running maximum over a centred window of ``width`` frames along axis 0."""
    from scipy.ndimage import maximum_filter1d

    return np.asarray(maximum_filter1d(x, size=max(1, width), axis=0, mode="nearest"))


def segments(*, mask: np.ndarray, min_len: int = 1, max_gap: int = 0) -> list[tuple[int, int]]:
    """Runs of True in ``mask`` as (start, end_exclusive) frame pairs, joining runs separated
    by at most ``max_gap`` False frames and dropping runs shorter than ``min_len``."""
    m = np.asarray(mask, dtype=bool)
    if not m.any():
        return []
    d = np.diff(np.concatenate([[0], m.astype(np.int8), [0]]))
    starts = np.nonzero(d == 1)[0]
    ends = np.nonzero(d == -1)[0]
    runs: list[tuple[int, int]] = []
    for s, e in zip(starts.tolist(), ends.tolist(), strict=True):
        if runs and s - runs[-1][1] <= max_gap:
            runs[-1] = (runs[-1][0], e)
        else:
            runs.append((s, e))
    return [(s, e) for s, e in runs if e - s >= min_len]
