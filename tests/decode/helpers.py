"""Helpers for decode tests: signals with a click at a known sample, hand-made WAV headers."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np


def click_signal(
    *, rng: np.random.Generator, sr: int, duration_s: float, click_at: int
) -> np.ndarray:
    """Quiet noise plus a tone bed, with a 1 ms Hann click whose centre is sample ``click_at``."""
    n = int(duration_s * sr)
    t = np.arange(n) / sr
    x = 0.003 * rng.standard_normal(n) + 0.02 * np.sin(2 * np.pi * 300 * t)
    w = max(8, sr // 1000)
    x[click_at - w // 2 : click_at - w // 2 + w] += 0.8 * np.hanning(w)
    return x.astype(np.float32)


def locate_click(y: np.ndarray, *, sr: int, approx_s: float, w: int) -> float:
    """Time (s) of the click in ``y``: peak of the smoothed envelope near ``approx_s``."""
    env = np.convolve(np.abs(y), np.hanning(w), mode="same")
    lo = max(0, int((approx_s - 0.1) * sr))
    hi = min(len(y), int((approx_s + 0.1) * sr))
    return (lo + int(np.argmax(env[lo:hi]))) / sr


def write_wav(
    path: Path, *, sr: int, samples: np.ndarray, declared_bytes: int | None = None
) -> Path:
    """A 16-bit mono PCM WAV written by hand (any rate, any declared data size)."""
    data = (np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes()
    size = len(data) if declared_bytes is None else declared_bytes
    fmt = struct.pack("<HHIIHH", 1, 1, sr, sr * 2, 2, 16)
    head = b"RIFF" + struct.pack("<I", 36 + size) + b"WAVE" + b"fmt " + struct.pack("<I", 16)
    path.write_bytes(head + fmt + b"data" + struct.pack("<I", size) + data)
    return path


def write_pcm_wav(path: Path, *, sr: int, frames: np.ndarray, fmt: str) -> Path:
    """A hand-written WAV of ``frames`` (shape ``(n, channels)``) in ``fmt``: ``"u8"``,
    ``"s16"`` or ``"f32"`` (IEEE float, written as given: NaN and infinities included)."""
    ch = frames.shape[1]
    if fmt == "u8":
        data, tag, bits = np.rint(frames * 128 + 128).clip(0, 255).astype("u1"), 1, 8
    elif fmt == "s16":
        data, tag, bits = np.rint(frames * 32768).clip(-32768, 32767).astype("<i2"), 1, 16
    else:
        data, tag, bits = frames.astype("<f4"), 3, 32
    raw = data.tobytes()  # interleaved: frame by frame
    block = ch * bits // 8
    fmt_chunk = struct.pack("<HHIIHH", tag, ch, sr, sr * block, block, bits)
    head = b"RIFF" + struct.pack("<I", 36 + len(raw)) + b"WAVE" + b"fmt " + struct.pack("<I", 16)
    path.write_bytes(head + fmt_chunk + b"data" + struct.pack("<I", len(raw)) + raw)
    return path
