"""Elementary test signals. All take a ``numpy.random.Generator`` where randomness is used."""

from __future__ import annotations

import numpy as np
from scipy import signal as sps


def tone(*, freq: float, duration_s: float, sr: int, amp: float = 0.5) -> np.ndarray:
    t = np.arange(round(duration_s * sr)) / sr
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def chirp(*, f0: float, f1: float, duration_s: float, sr: int, amp: float = 0.5) -> np.ndarray:
    t = np.arange(round(duration_s * sr)) / sr
    y: np.ndarray = amp * sps.chirp(t, f0=f0, f1=f1, t1=max(duration_s, 1e-9))
    return y.astype(np.float32)


def noise(
    *, duration_s: float, sr: int, rng: np.random.Generator, amp: float = 0.1, color: str = "white"
) -> np.ndarray:
    n = round(duration_s * sr)
    x = rng.standard_normal(n)
    if color == "pink":
        spec = np.fft.rfft(x)
        f = np.arange(spec.size)
        f[0] = 1
        x = np.fft.irfft(spec / np.sqrt(f), n)
    elif color == "brown":
        x = np.cumsum(x)
        x -= np.linspace(x[0], x[-1], n)
    x = x / (np.std(x) + 1e-12)
    return (amp * x).astype(np.float32)


def babble(
    *, duration_s: float, sr: int, rng: np.random.Generator, amp: float = 0.3, f0: float = 120.0
) -> np.ndarray:
    """Speech-like signal: voiced syllables (glottal pulse train through moving formants)
    separated by short pauses. Deterministic given ``rng``; never repeats itself."""
    n = round(duration_s * sr)
    out = np.zeros(n, dtype=np.float64)
    pos = int(rng.uniform(0.05, 0.2) * sr)
    while pos < n:
        syl = int(rng.uniform(0.12, 0.35) * sr)
        end = min(n, pos + syl)
        m = end - pos
        t = np.arange(m) / sr
        pitch = f0 * (1 + 0.15 * rng.standard_normal()) * (1 + 0.1 * np.sin(2 * np.pi * t * 3))
        phase = 2 * np.pi * np.cumsum(pitch) / sr
        src = np.zeros(m)
        for h in range(1, 30):
            fh = pitch * h
            src += np.where(fh < sr / 2 - 200, np.sin(h * phase) / h, 0.0)
        y = np.zeros(m)
        for fc, bw in (
            (rng.uniform(300, 900), 90),
            (rng.uniform(900, 2400), 120),
            (rng.uniform(2400, 3400), 180),
        ):
            if fc < sr / 2 - 300:
                b, a = sps.iirpeak(fc, fc / bw, fs=sr)
                y += sps.lfilter(b, a, src)
        env = np.sin(np.pi * np.arange(m) / max(m, 1)) ** 0.7
        out[pos:end] += y * env
        pos = end + int(rng.uniform(0.03, 0.25) * sr)
    peak = float(np.max(np.abs(out))) + 1e-12
    scaled: np.ndarray = amp * out / peak
    return scaled.astype(np.float32)
