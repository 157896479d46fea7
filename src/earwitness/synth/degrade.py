"""Degradations with known parameters, for the archive-matching benchmark and tests.

Speed change by resampling (pitch and tempo together), tempo change with pitch kept (WSOLA:
W. Verhelst and M. Roelands, "An overlap-add technique based on waveform similarity (WSOLA)
for high quality time-scale modification of speech", ICASSP 1993), pitch shift (WSOLA time
stretch followed by resampling), additive noise at a given SNR, a music-like bed, gain, and a
lossy-codec round trip through :func:`earwitness.synth.encode_file`. Test material only.
"""

from __future__ import annotations

import tempfile
from fractions import Fraction
from pathlib import Path

import numpy as np
from scipy import signal as sps

from earwitness.synth.encode import encode_file


def resample_speed(*, y: np.ndarray, factor: float) -> np.ndarray:
    """Play ``y`` ``factor`` times faster by resampling: shorter and higher when factor > 1."""
    frac = Fraction(1.0 / factor).limit_denominator(2000)
    res: np.ndarray = sps.resample_poly(y, frac.numerator, frac.denominator)
    return res.astype(np.float32)


def wsola(
    *, y: np.ndarray, sr: int, rate: float, frame_s: float = 0.04, tol_s: float = 0.012
) -> np.ndarray:
    """Time-scale ``y`` by ``rate`` (> 1 faster/shorter) keeping its pitch (Verhelst 1993)."""
    x = np.asarray(y, dtype=np.float64)
    n = round(frame_s * sr) // 2 * 2
    hs = n // 2
    tol = round(tol_s * sr)
    win = np.hanning(n)
    n_out = round(x.size / rate)
    xp = np.pad(x, (tol + n, tol + 2 * n))
    out = np.zeros(n_out + 2 * n)
    norm = np.zeros_like(out)
    nat: np.ndarray | None = None
    k = 0
    while k * hs < n_out:
        center = round(k * hs * rate) + tol + n
        if nat is None:
            pos = center
        else:
            region = xp[center - tol : center + tol + n]
            cc = np.correlate(region, nat, mode="valid")
            pos = center - tol + int(np.argmax(cc))
        seg = xp[pos : pos + n]
        out[k * hs : k * hs + n] += win * seg
        norm[k * hs : k * hs + n] += win
        nat = xp[pos + hs : pos + hs + n]
        k += 1
    out = out[:n_out] / np.maximum(norm[:n_out], 1e-3)
    return out.astype(np.float32)


def pitch_shift(*, y: np.ndarray, sr: int, cents: float) -> np.ndarray:
    """Shift pitch by ``cents`` keeping duration: WSOLA stretch then resampling."""
    f = 2.0 ** (cents / 1200.0)
    stretched = wsola(y=y, sr=sr, rate=1.0 / f)
    out = resample_speed(y=stretched, factor=f)
    n = np.asarray(y).size
    return np.pad(out, (0, max(0, n - out.size)))[:n].astype(np.float32)


def add_noise(
    *, y: np.ndarray, snr_db: float, rng: np.random.Generator, noise: np.ndarray | None = None
) -> np.ndarray:
    """Add ``noise`` (default white) scaled to ``snr_db`` relative to ``y``'s power."""
    x = np.asarray(y, dtype=np.float64)
    if noise is None:
        nz = rng.standard_normal(x.size)
    else:
        reps = int(np.ceil(x.size / max(1, noise.size)))
        nz = np.tile(np.asarray(noise, dtype=np.float64), reps)[: x.size]
    ps = np.mean(x**2) + 1e-12
    pn = np.mean(nz**2) + 1e-12
    out = x + nz * np.sqrt(ps / pn / 10 ** (snr_db / 10))
    peak = np.max(np.abs(out))
    if peak > 0.99:
        out *= 0.99 / peak
    res: np.ndarray = out.astype(np.float32)
    return res


def music_bed(*, duration_s: float, sr: int, rng: np.random.Generator) -> np.ndarray:
    """A music-like bed: chords of harmonic tones (changing every 0.5-1 s) and soft drums."""
    n = round(duration_s * sr)
    out = np.zeros(n)
    t = np.arange(n) / sr
    pos = 0
    while pos < n:
        length = int(rng.uniform(0.5, 1.0) * sr)
        end = min(n, pos + length)
        root = 110.0 * 2 ** (rng.integers(0, 12) / 12)
        tt = t[pos:end]
        env = np.minimum(1.0, np.minimum(tt - tt[0], tt[-1] - tt + 1e-3) * 20)
        for step in (0, 4, 7, 12):
            f0 = root * 2 ** (step / 12)
            for h in range(1, 6):
                if f0 * h < sr / 2 - 100:
                    out[pos:end] += env * np.sin(2 * np.pi * f0 * h * tt) / h**1.5
        pos = end
    beat = int(0.25 * sr)
    for b in range(0, n, beat):
        m = min(n - b, int(0.05 * sr))
        out[b : b + m] += 0.5 * rng.standard_normal(m) * np.exp(-np.arange(m) / (0.01 * sr))
    res: np.ndarray = (0.3 * out / (np.max(np.abs(out)) + 1e-12)).astype(np.float32)
    return res


def codec_roundtrip(
    *, y: np.ndarray, sr: int, codec: str, bitrate: int | None = None, out_sr: int | None = None
) -> tuple[np.ndarray, int]:
    """Encode with a lossy codec and decode again; returns (samples, rate)."""
    from earwitness.decode import load_audio

    suffix = {
        "ogg": ".ogg",
        "opus": ".ogg",
        "m4a": ".m4a",
        "aac": ".aac",
        "amr": ".amr",
        "mp3": ".mp3",
    }.get(codec, f".{codec}")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"x{suffix}"
        encode_file(path, np.clip(y, -1, 1), sr=sr, codec=codec, bitrate=bitrate, out_sr=out_sr)
        audio = load_audio(path)
    return audio.samples, audio.sr
