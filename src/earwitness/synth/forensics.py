"""Labelled manipulations for the forensic detectors: pasted copies, splices, hum, reverb.

Every generator returns the audio and its ground truth. Used by tests and by the validation
scripts in ``benchmarks/``; never on evidence.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import signal as sps

from earwitness.synth.signals import noise


@dataclass(frozen=True)
class PastedCopy:
    """Ground truth of one pasted copy: ``copy`` span repeats ``source`` span (seconds)."""

    source_start_s: float
    source_end_s: float
    start_s: float
    end_s: float


@dataclass(frozen=True)
class EditTruth:
    """Ground truth of one edit point: the instant (s) and what was done there."""

    t_s: float
    kind: str
    info: dict[str, float] = field(default_factory=dict)


def gunshot(*, sr: int, rng: np.random.Generator, duration_s: float = 0.5) -> np.ndarray:
    """A synthetic gunshot: a broadband noise burst with fast attack and exponential decay."""
    n = int(duration_s * sr)
    t = np.arange(n) / sr
    burst = rng.standard_normal(n) * np.exp(-t / rng.uniform(0.04, 0.1))
    thump = np.sin(2 * np.pi * rng.uniform(50, 90) * t) * np.exp(-t / 0.08)
    y = burst + 0.8 * thump
    y[: int(0.002 * sr)] *= np.linspace(0, 1, int(0.002 * sr))
    out: np.ndarray = (0.9 * y / (np.max(np.abs(y)) + 1e-12)).astype(np.float32)
    return out


def word(
    *,
    sr: int,
    rng: np.random.Generator,
    f0: float = 120.0,
    formants: tuple[float, ...] = (700.0, 1200.0, 2600.0),
    duration_s: float = 0.45,
) -> np.ndarray:
    """One realisation of a voiced 'word' by a fixed synthetic speaker.

    Speaker identity (``f0``, ``formants``) is fixed; every call draws a new realisation: length,
    pitch contour, jitter, aspiration noise and the glottal phase all differ, as when a person
    says the same word twice.
    """
    dur = duration_s * rng.uniform(0.9, 1.1)
    n = int(dur * sr)
    t = np.arange(n) / sr
    contour = (
        f0
        * (1 + 0.08 * rng.standard_normal())
        * (1 + 0.1 * np.sin(2 * np.pi * t / dur + rng.uniform(0, np.pi)))
        * (1 + 0.01 * np.cumsum(rng.standard_normal(n)) / np.sqrt(sr))
    )
    phase = 2 * np.pi * np.cumsum(contour) / sr + rng.uniform(0, 2 * np.pi)
    src = sps.sawtooth(phase) + 0.05 * rng.standard_normal(n)
    out = np.zeros(n)
    for fc in formants:
        f = fc * (1 + 0.03 * rng.standard_normal())
        if f < sr / 2 - 200:
            b, a = sps.iirpeak(f, f / 100.0, fs=sr)
            out += sps.lfilter(b, a, src)
    env = np.sin(np.pi * np.arange(n) / n) ** 0.6
    y = out * env
    res: np.ndarray = (0.3 * y / (np.max(np.abs(y)) + 1e-12)).astype(np.float32)
    return res


def rhythmic_noise(
    *, sr: int, rng: np.random.Generator, duration_s: float, period_s: float = 0.5, amp: float = 0.3
) -> np.ndarray:
    """Machine-like rhythmic noise: a fresh filtered noise burst every ``period_s`` seconds."""
    n = int(duration_s * sr)
    y = np.zeros(n)
    p = int(period_s * sr)
    b, a = sps.butter(2, [300 / (sr / 2), min(0.95, 3000 / (sr / 2))], "bandpass")
    env = np.exp(-np.arange(p) / (0.12 * sr))
    for s in range(0, n - p, p):
        y[s : s + p] += sps.lfilter(b, a, rng.standard_normal(p)) * env
    out: np.ndarray = (amp * y / (np.max(np.abs(y)) + 1e-12)).astype(np.float32)
    return out


def hum(
    *,
    sr: int,
    duration_s: float,
    rng: np.random.Generator,
    freq: float = 50.0,
    amp: float = 0.01,
    harmonics: int = 3,
    wander_hz: float = 0.02,
) -> np.ndarray:
    """Mains hum with a slowly wandering electric network frequency (ENF)."""
    n = int(duration_s * sr)
    steps = rng.standard_normal(n // sr + 2)
    f = freq + wander_hz * np.interp(
        np.arange(n) / sr, np.arange(steps.size), np.cumsum(steps) / np.sqrt(steps.size)
    )
    phase = 2 * np.pi * np.cumsum(f) / sr + rng.uniform(0, 2 * np.pi)
    y = np.zeros(n)
    for k in range(1, harmonics + 1):
        y += np.sin(k * phase) / k
    return (amp * y).astype(np.float32)


def reverberate(
    *, y: np.ndarray, sr: int, rt60_s: float, rng: np.random.Generator, wet: float = 0.5
) -> np.ndarray:
    """Convolve with an exponentially decaying noise impulse response of the given RT60."""
    n = int(rt60_s * sr)
    t = np.arange(n) / sr
    ir = rng.standard_normal(n) * 10 ** (-3 * t / rt60_s)
    ir /= np.sqrt(np.sum(ir**2)) + 1e-12
    w = sps.fftconvolve(y, ir)[: y.size]
    out: np.ndarray = ((1 - wet) * y + wet * w).astype(np.float32)
    return out


def paste(
    *,
    background: np.ndarray,
    sound: np.ndarray,
    sr: int,
    at_s: list[float],
    gains_db: list[float] | None = None,
) -> tuple[np.ndarray, list[PastedCopy]]:
    """Mix the same ``sound`` into ``background`` at each time in ``at_s``.

    The first position is the source; every later one is a copy. Ground-truth spans cover the
    sound's audible part (down to -40 dB of its peak envelope).
    """
    out = np.array(background, dtype=np.float32, copy=True)
    env = np.abs(sps.hilbert(sound))
    env = np.convolve(env, np.ones(int(0.01 * sr)) / int(0.01 * sr), "same")
    audible = np.nonzero(env > env.max() * 0.01)[0]
    a0, a1 = int(audible[0]), int(audible[-1])
    gains = gains_db or [0.0] * len(at_s)
    for t, g in zip(at_s, gains, strict=True):
        s = int(t * sr)
        m = min(sound.size, out.size - s)
        out[s : s + m] += sound[:m] * 10 ** (g / 20)
    src = int(at_s[0] * sr)
    truth = [
        PastedCopy(
            source_start_s=(src + a0) / sr,
            source_end_s=(src + a1) / sr,
            start_s=(int(t * sr) + a0) / sr,
            end_s=(int(t * sr) + a1) / sr,
        )
        for t in at_s[1:]
    ]
    return out, truth


def speech_bed(
    *,
    sr: int,
    rng: np.random.Generator,
    duration_s: float,
    noise_amp: float = 0.01,
    color: str = "pink",
) -> np.ndarray:
    """A continuous recording: a steady noise floor with many distinct words on top."""
    y = noise(duration_s=duration_s, sr=sr, rng=rng, amp=noise_amp, color=color)
    f0 = rng.uniform(90, 220)
    t = rng.uniform(0.1, 0.4)
    while t < duration_s - 0.6:
        w = word(
            sr=sr,
            rng=rng,
            f0=f0 * rng.uniform(0.9, 1.1),
            formants=tuple(rng.uniform([300, 900, 2200], [900, 2200, 3200])),
            duration_s=rng.uniform(0.2, 0.5),
        )
        s = int(t * sr)
        m = min(w.size, y.size - s)
        y[s : s + m] += w[:m]
        t += w.size / sr + rng.uniform(0.05, 0.4)
    # a recording chain high-passes at ~20 Hz (microphone and ADC coupling)
    sos = sps.butter(2, 20.0, "highpass", fs=sr, output="sos")
    out: np.ndarray = sps.sosfilt(sos, y).astype(np.float32)
    return out


def splice(
    *, a: np.ndarray, b: np.ndarray, at_a_s: float, from_b_s: float, sr: int
) -> tuple[np.ndarray, EditTruth]:
    """Hard cut: ``a`` up to ``at_a_s`` followed by ``b`` from ``from_b_s``."""
    ia, ib = int(at_a_s * sr), int(from_b_s * sr)
    y = np.concatenate([a[:ia], b[ib:]]).astype(np.float32)
    return y, EditTruth(t_s=ia / sr, kind="splice")


def delete(
    *, y: np.ndarray, sr: int, start_s: float, length_s: float
) -> tuple[np.ndarray, EditTruth]:
    """Cut ``length_s`` seconds out at ``start_s`` (one recording, joined to itself)."""
    i, j = int(start_s * sr), int((start_s + length_s) * sr)
    return np.concatenate([y[:i], y[j:]]).astype(np.float32), EditTruth(t_s=i / sr, kind="deletion")


def insert_silence(
    *, y: np.ndarray, sr: int, at_s: float, length_s: float
) -> tuple[np.ndarray, list[EditTruth]]:
    """Insert exact digital silence; both of its boundaries are edit points."""
    i, k = int(at_s * sr), int(length_s * sr)
    out = np.concatenate([y[:i], np.zeros(k, np.float32), y[i:]]).astype(np.float32)
    return out, [
        EditTruth(t_s=i / sr, kind="silence_start"),
        EditTruth(t_s=(i + k) / sr, kind="silence_end"),
    ]


def dc_jump(*, y: np.ndarray, sr: int, at_s: float, offset: float) -> tuple[np.ndarray, EditTruth]:
    """Add a constant ``offset`` from ``at_s`` on (material from a source with another DC)."""
    out = np.array(y, dtype=np.float32, copy=True)
    out[int(at_s * sr) :] += offset
    return out, EditTruth(t_s=int(at_s * sr) / sr, kind="dc_jump", info={"offset": offset})
