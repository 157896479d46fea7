"""Synthetic background events with known ground truth (tests, benchmarks, demo only).

Gunshot: a supersonic bullet's N-wave ("crack") followed by the muzzle blast ("bang"), after
Maher, "Modeling and signal processing of acoustic gunshot recordings", IEEE DSP Workshop
2006, and Maher, "Acoustical characterization of gunshots", IEEE SAFE 2007. Explosion: sharp
onset, low-frequency rumble, long decay. Propeller/jet drone: blade-pass harmonics or shaped
noise plus a turbine whine, with a Doppler glide for a straight fly-by. Chant: sung harmonic
notes with stable pitch (a cappella, nasheed-like).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import signal as sps

SPEED_OF_SOUND = 343.0


@dataclass(frozen=True)
class Burst:
    """A synthetic burst: the samples and the true shot onset times (s)."""

    samples: np.ndarray
    shot_times_s: tuple[float, ...]


def n_wave(*, sr: int, duration_s: float = 0.0003, amp: float = 1.0) -> np.ndarray:
    """An ideal N-wave: a jump to +amp, linear fall to -amp, jump back to 0 (Maher 2007)."""
    n = max(3, round(duration_s * sr))
    return (amp * np.linspace(1.0, -1.0, n)).astype(np.float32)


def muzzle_blast(
    *,
    sr: int,
    rng: np.random.Generator,
    decay_s: float = 0.04,
    amp: float = 1.0,
    length_s: float = 0.4,
) -> np.ndarray:
    """Muzzle blast: a broadband impulse with a fast attack and an exponential decay, low-passed
    a little, plus a weak reverberant tail (Maher 2006)."""
    n = round(length_s * sr)
    t = np.arange(n) / sr
    x = rng.standard_normal(n) * np.exp(-t / decay_s)
    x[: max(1, int(0.0005 * sr))] *= 3.0
    x += 0.15 * rng.standard_normal(n) * np.exp(-t / (decay_s * 4))
    b, a = sps.butter(2, min(0.45 * sr, 6000.0), "lowpass", fs=sr)
    y = sps.lfilter(b, a, x)
    return np.asarray(amp * y / (np.max(np.abs(y)) + 1e-12), dtype=np.float32)


def gunshot(
    *,
    sr: int,
    rng: np.random.Generator,
    crack: bool = True,
    crack_delay_s: float = 0.03,
    amp: float = 0.8,
) -> np.ndarray:
    """One shot. With ``crack`` the N-wave comes ``crack_delay_s`` before the muzzle blast (the
    bullet's shock wave outruns the blast for a listener down-range). The event onset is at
    sample 0."""
    blast = muzzle_blast(sr=sr, rng=rng, amp=amp)
    if not crack:
        return blast
    d = round(crack_delay_s * sr)
    out = np.zeros(d + blast.size, dtype=np.float32)
    nw = n_wave(sr=sr, amp=0.7 * amp)
    out[: nw.size] += nw
    out[d:] += blast
    return out


def burst(
    *,
    sr: int,
    rng: np.random.Generator,
    n_shots: int = 5,
    interval_s: float = 0.1,
    jitter_s: float = 0.0,
    copies: bool = False,
    crack: bool = False,
    amp: float = 0.8,
) -> Burst:
    """Automatic fire (``interval_s`` ~0.06-0.15 s) or spaced single shots. With ``copies`` every
    shot is the same sample (a pasted shot), otherwise each is drawn afresh."""
    if n_shots < 1:
        raise ValueError("n_shots must be >= 1")
    base = gunshot(sr=sr, rng=rng, crack=crack, amp=amp)
    times = [0.0]
    for _ in range(n_shots - 1):
        times.append(times[-1] + max(0.02, interval_s + rng.uniform(-jitter_s, jitter_s)))
    n = round(times[-1] * sr) + base.size
    out = np.zeros(n, dtype=np.float32)
    for t in times:
        shot = base if copies else gunshot(sr=sr, rng=rng, crack=crack, amp=amp)
        i = round(t * sr)
        out[i : i + shot.size] += shot
    return Burst(samples=out, shot_times_s=tuple(times))


def explosion(
    *,
    sr: int,
    rng: np.random.Generator,
    decay_s: float = 1.5,
    length_s: float = 3.0,
    amp: float = 0.9,
) -> np.ndarray:
    """An explosion or artillery impact: a sharp broadband onset and a long low-frequency
    rumble with exponential decay."""
    n = round(length_s * sr)
    t = np.arange(n) / sr
    noise = rng.standard_normal(n)
    b, a = sps.butter(1, 1500.0, "lowpass", fs=sr)
    rumble = sps.lfilter(b, a, noise)
    rumble /= np.std(rumble) + 1e-12
    crack = noise * np.exp(-t / 0.01)
    env = np.exp(-t / decay_s) * (1 - np.exp(-t / 0.003))
    x = rumble * env + 0.5 * crack
    return np.asarray(amp * x / (np.max(np.abs(x)) + 1e-12), dtype=np.float32)


def _doppler_factor(
    *, t: np.ndarray, speed: float, distance: float, t_closest: float
) -> np.ndarray:
    """Frequency ratio heard from a source moving in a straight line at ``speed`` m/s, passing
    at ``distance`` m at ``t_closest`` (classical Doppler, emission-time effects ignored)."""
    x = speed * (t - t_closest)
    cos_theta = -x / np.sqrt(x**2 + distance**2)
    return np.asarray(SPEED_OF_SOUND / (SPEED_OF_SOUND - speed * cos_theta))


def drone(
    *,
    sr: int,
    rng: np.random.Generator,
    kind: str = "propeller",
    duration_s: float = 4.0,
    f0: float = 90.0,
    speed: float = 60.0,
    distance: float = 150.0,
    amp: float = 0.5,
) -> np.ndarray:
    """An aircraft fly-by: ``"propeller"`` (blade-pass harmonics of ``f0``) or ``"jet"``
    (shaped broadband roar plus a turbine whine at ``20*f0``), with a Doppler glide and a
    distance-dependent level."""
    if kind not in ("propeller", "jet"):
        raise ValueError(f"unknown drone kind {kind!r}")
    n = round(duration_s * sr)
    t = np.arange(n) / sr
    ratio = _doppler_factor(t=t, speed=speed, distance=distance, t_closest=duration_s / 2)
    x_pos = speed * (t - duration_s / 2)
    level = distance / np.sqrt(x_pos**2 + distance**2)
    if kind == "propeller":
        phase = 2 * np.pi * np.cumsum(f0 * ratio) / sr
        y = np.zeros(n)
        for h in range(1, 16):
            if f0 * h * 1.3 < sr / 2:
                y += np.sin(h * phase + rng.uniform(0, 2 * np.pi)) / h**0.7
        y += 0.3 * rng.standard_normal(n)
    else:
        b, a = sps.butter(2, [200.0, min(4000.0, 0.45 * sr)], "bandpass", fs=sr)
        y = sps.lfilter(b, a, rng.standard_normal(n)) * 3.0
        phase = 2 * np.pi * np.cumsum(20 * f0 * ratio) / sr
        y += 0.3 * np.sin(phase)
    y = y * level
    fade = np.minimum(1.0, np.minimum(t, duration_s - t) / 0.3)
    y = y * fade
    return np.asarray(amp * y / (np.max(np.abs(y)) + 1e-12), dtype=np.float32)


def chant(
    *,
    sr: int,
    rng: np.random.Generator,
    duration_s: float = 6.0,
    f0: float = 180.0,
    amp: float = 0.5,
) -> np.ndarray:
    """Sung a-cappella notes (nasheed-like): legato notes of 0.3-0.9 s on a scale around
    ``f0``, stable pitch with slight vibrato, vowel formants."""
    n = round(duration_s * sr)
    scale = np.array([0, 2, 3, 5, 7, 8, 10, 12])
    pitches = np.empty(n)
    pos = 0
    while pos < n:
        ln = int(rng.uniform(0.3, 0.9) * sr)
        p = f0 * 2 ** (rng.choice(scale) / 12)
        pitches[pos : pos + ln] = p
        pos += ln
    t = np.arange(n) / sr
    pitches *= 1 + 0.006 * np.sin(2 * np.pi * 5.5 * t)
    phase = 2 * np.pi * np.cumsum(pitches) / sr
    src = np.zeros(n)
    for h in range(1, 25):
        src += np.where(pitches * h < sr / 2 - 200, np.sin(h * phase) / h, 0.0)
    y = np.zeros(n)
    for fc, bw in ((700.0, 110.0), (1200.0, 140.0), (2600.0, 200.0)):
        if fc < sr / 2 - 300:
            b, a = sps.iirpeak(fc, fc / bw, fs=sr)
            y += sps.lfilter(b, a, src)
    fade = np.minimum(1.0, np.minimum(t, duration_s - t) / 0.1)
    y *= fade
    return np.asarray(amp * y / (np.max(np.abs(y)) + 1e-12), dtype=np.float32)


def place(
    *, background: np.ndarray, event: np.ndarray, at_s: float, sr: int, snr_db: float | None = None
) -> np.ndarray:
    """Add ``event`` into ``background`` at ``at_s`` seconds. With ``snr_db`` the event is scaled
    so that its power over its active part (frames within 30 dB of its peak) is ``snr_db``
    above the background's mean power over the same span."""
    out = np.array(background, dtype=np.float32, copy=True)
    i = round(at_s * sr)
    if i >= out.size:
        raise ValueError("event starts after the end of the background")
    ev = np.asarray(event, dtype=np.float32)[: out.size - i]
    if snr_db is not None:
        p_ev = active_power(x=ev, sr=sr)
        seg = out[i : i + ev.size]
        p_bg = float(np.mean(seg.astype(np.float64) ** 2)) + 1e-12
        ev = ev * np.float32(np.sqrt(p_bg * 10 ** (snr_db / 10) / max(p_ev, 1e-20)))
    out[i : i + ev.size] += ev
    return out


def active_power(*, x: np.ndarray, sr: int, floor_db: float = 30.0) -> float:
    """Mean power of ``x`` over its 10 ms frames within ``floor_db`` of the loudest frame."""
    hop = max(1, sr // 100)
    m = max(1, x.size // hop)
    fr = (
        np.asarray(x[: m * hop], dtype=np.float64).reshape(m, -1)
        if x.size >= hop
        else np.asarray(x, dtype=np.float64).reshape(1, -1)
    )
    p = (fr**2).mean(axis=1)
    keep = p >= p.max() * 10 ** (-floor_db / 10)
    return float(p[keep].mean())
