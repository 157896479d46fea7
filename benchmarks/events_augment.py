"""Augmentation of the event classifier's training placements (``train_events.py``):
channel colouring, gain and codec re-encoding (release degradations), and source variation
(playback rate and a synthetic room: another sound design of the same clip).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy import signal as sps

from earwitness.decode import load_audio
from earwitness.synth import encode_file
from events_data import SR


def equalise(rng: np.random.Generator, y: np.ndarray) -> np.ndarray:
    """Random channel colouring: for 30 % of items a low-pass at 3-7 kHz (phones, codecs),
    for 20 % a high-pass at 100-300 Hz (small loudspeakers, wind filters), else none."""
    r = rng.random()
    if r < 0.3:
        sos = sps.butter(2, float(rng.uniform(3000, 7000)), "lowpass", fs=SR, output="sos")
    elif r < 0.5:
        sos = sps.butter(2, float(rng.uniform(100, 300)), "highpass", fs=SR, output="sos")
    else:
        return y
    return np.asarray(sps.sosfilt(sos, y), dtype=np.float32)


def reencode(rng: np.random.Generator, y: np.ndarray, tmp: Path) -> np.ndarray:
    """Channel EQ, gain change and, for 60 % of items, MP3 or Ogg re-encoding (release
    degradations)."""
    y = equalise(rng, y)
    y = np.clip(y * np.float32(10 ** (rng.uniform(-20.0, 3.0) / 20)), -1.0, 1.0)
    r = rng.random()
    if r < 0.4:
        return y.astype(np.float32)
    codec, ext = ("mp3", "mp3") if r < 0.75 else ("ogg", "ogg")
    path = tmp / f"aug.{ext}"
    encode_file(path, y, sr=SR, codec=codec, bitrate=int(rng.choice([32000, 64000, 128000])))
    out = load_audio(path, sr=SR).samples
    z = np.zeros(y.size, np.float32)
    z[: min(y.size, out.size)] = out[: y.size]
    return z


def vary_source(rng: np.random.Generator, clip: np.ndarray) -> np.ndarray:
    """Another "sound design" of a real clip: for 70 % of placements a playback-rate change
    by 0.8-1.25 (pitch and duration together, as a different weapon, charge or engine), for
    50 % a synthetic room (exponentially decaying noise, RT60 0.2-0.8 s, direct-to-reverberant
    ratio -3..10 dB; Schroeder 1962, "Frequency-correlation functions of frequency responses
    in rooms")."""
    y = clip.astype(np.float64)
    if rng.random() < 0.7:
        down = round(20 * float(rng.uniform(0.8, 1.25)))
        y = sps.resample_poly(y, 20, down)
    if rng.random() < 0.5:
        rt60 = float(rng.uniform(0.2, 0.8))
        t = np.arange(int(rt60 * SR)) / SR
        ir = rng.standard_normal(t.size) * np.exp(-6.9 * t / rt60)
        wet = sps.fftconvolve(y, ir)[: y.size]
        drr = float(rng.uniform(-3.0, 10.0))
        gain = np.sqrt(np.mean(y**2) / (np.mean(wet**2) + 1e-20)) * 10 ** (-drr / 20)
        y = y + gain * wet
    return np.asarray(y, dtype=np.float32)
