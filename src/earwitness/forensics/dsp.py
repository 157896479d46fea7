"""Small DSP helpers shared by the forensic detectors (framing, STFT, resampling)."""

from __future__ import annotations

from functools import lru_cache
from math import gcd

import numpy as np
import scipy.fft as sfft
from scipy import signal as sps

_STFT_BLOCK = 2048  # frames per transform block in stft


def frame_view(*, y: np.ndarray, frame: int, hop: int) -> np.ndarray:
    """Frames of ``y`` as a strided ``(n_frames, frame)`` view (no padding, no copy)."""
    y = np.ascontiguousarray(y)
    if y.size < frame:
        return np.zeros((0, frame), dtype=y.dtype)
    n = 1 + (y.size - frame) // hop
    return np.lib.stride_tricks.as_strided(
        y, shape=(n, frame), strides=(y.strides[0] * hop, y.strides[0]), writeable=False
    )


@lru_cache(maxsize=16)
def _hann32(n: int) -> np.ndarray:
    """``np.hanning(n)`` as float32, read-only (shared between calls)."""
    w = np.hanning(n).astype(np.float32)
    w.flags.writeable = False
    return w


def stft(*, y: np.ndarray, n_fft: int, hop: int) -> np.ndarray:
    """Hann-windowed short-time Fourier transform, ``(n_frames, n_fft // 2 + 1)`` complex64.

    Frame ``i`` covers samples ``[i * hop, i * hop + n_fft)`` (no centring), so its centre is
    at ``(i * hop + n_fft / 2) / sr`` seconds. The windowed frames (float32) are transformed in
    double precision and rounded to complex64, in blocks of ``_STFT_BLOCK`` frames that stay in
    cache: the same numbers as ``numpy.fft.rfft`` (which also computes a float32 input in
    double precision), about three times faster.
    """
    win = _hann32(n_fft)
    frames = frame_view(y=np.asarray(y, dtype=np.float32), frame=n_fft, hop=hop)
    out = np.empty((frames.shape[0], n_fft // 2 + 1), dtype=np.complex64)
    for i in range(0, frames.shape[0], _STFT_BLOCK):
        block = (frames[i : i + _STFT_BLOCK] * win).astype(np.float64)
        out[i : i + _STFT_BLOCK] = sfft.rfft(block, axis=1, overwrite_x=True)
    return out


def power_db(*, spec: np.ndarray, floor_db: float = -140.0) -> np.ndarray:
    """``10 log10 |spec|^2`` with a floor, as float32."""
    p = np.abs(spec).astype(np.float32) ** 2
    out: np.ndarray = np.maximum(10.0 * np.log10(p + 1e-20), floor_db).astype(np.float32)
    return out


def resample(*, y: np.ndarray, sr: int, target_sr: int) -> np.ndarray:
    """Polyphase resampling of ``y`` from ``sr`` to ``target_sr`` (float32)."""
    if sr == target_sr:
        return np.asarray(y, dtype=np.float32)
    g = gcd(int(sr), int(target_sr))
    out: np.ndarray = sps.resample_poly(
        np.asarray(y, dtype=np.float64), target_sr // g, sr // g
    ).astype(np.float32)
    return out


def frame_rms_db(*, y: np.ndarray, frame: int, hop: int) -> np.ndarray:
    """Per-frame RMS level in dBFS."""
    fr = frame_view(y=np.asarray(y, dtype=np.float32), frame=frame, hop=hop)
    ms = np.mean(fr.astype(np.float64) ** 2, axis=1) if fr.shape[0] else np.zeros(0)
    return (10.0 * np.log10(ms + 1e-20)).astype(np.float32)
