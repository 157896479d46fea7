"""Room reverberation on each side of an instant: blind decay-rate (RT60-like) estimation.

In a room, sound cannot die away faster than the room lets it: after every offset of the source
the sub-band energy envelope decays at most at the room's rate, 60 dB per RT60 seconds. The
distribution of the slopes of *free decays* (stretches where the envelope falls steadily well
above the noise floor) therefore has its fast end at the room's decay rate. This follows the
blind estimation of Ratnam et al. 2003, "Blind estimation of reverberation time", JASA 114(5),
and the free-decay selection of Löllmann et al. 2010, "An improved algorithm for blind
reverberation time estimation", IWAENC: decays are located, each is fitted by least squares in
dB, and the room value is read from the fast end of their distribution (here the median of the
faster half, which is robust to a few spuriously steep fits). The envelopes are smoothed over
90 ms in energy, which keeps an exponential decay's slope but bridges the fluctuations of a
noise-like reverberant tail that would otherwise break it into runs too short to fit.

A splice of material recorded in two rooms (or a dry insert into a reverberant recording)
changes this value across the join; :func:`decay_change` measures it on windows of a few
seconds before and after an instant.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from earwitness.forensics.dsp import stft

_BANDS_HZ = (250, 500, 1000, 2000, 4000)


@dataclass(frozen=True)
class ReverbParams:
    """Parameters of the blind decay estimate (frozen, recorded with the result)."""

    hop_s: float = 0.01
    n_fft: int = 512
    min_decay_s: float = 0.06
    min_drop_db: float = 8.0
    above_floor_db: float = 6.0
    floor_percentile: float = 3.0
    fast_fraction: float = 0.5
    min_decays: int = 6
    smooth_frames: int = 9


@dataclass(frozen=True)
class DecayEstimate:
    """Blind room decay over one stretch of audio."""

    rt60_s: float | None
    decay_db_per_s: float | None
    n_decays: int


def _envelopes_db(*, y: np.ndarray, sr: int, p: ReverbParams) -> np.ndarray:
    """Sub-band energy envelopes in dB (frames x bands), smoothed in energy.

    Smoothing energy (not dB) keeps an exponential decay's slope.
    """
    hop = max(1, int(p.hop_s * sr))
    x = stft(y=np.asarray(y, dtype=np.float32), n_fft=p.n_fft, hop=hop)
    pw = np.abs(x) ** 2
    f = np.fft.rfftfreq(p.n_fft, 1 / sr)
    cols = []
    for lo, hi in itertools.pairwise(_BANDS_HZ):
        sel = (f >= lo) & (f < min(hi, sr / 2))
        if sel.any():
            cols.append(pw[:, sel].sum(axis=1))
    if not cols:
        return np.zeros((0, 0))
    e = ndimage.uniform_filter1d(
        np.stack(cols, axis=1), size=p.smooth_frames, axis=0, mode="nearest"
    )
    out: np.ndarray = 10 * np.log10(e + 1e-14)
    return out


def decay_slopes(*, y: np.ndarray, sr: int, params: ReverbParams | None = None) -> np.ndarray:
    """Decay rates (dB/s, positive) of every free decay in ``y`` over all sub-bands.

    A free decay is a run of strictly falling envelope frames at least ``min_decay_s`` long that
    drops at least ``min_drop_db`` while staying ``above_floor_db`` over the band's noise floor
    (its ``floor_percentile``); its rate is the least-squares slope over the run.
    """
    p = params or ReverbParams()
    env = _envelopes_db(y=y, sr=sr, p=p)
    if env.shape[0] < 4:
        return np.zeros(0)
    min_len = max(3, round(p.min_decay_s / p.hop_s))
    rates: list[float] = []
    for b in range(env.shape[1]):
        e = env[:, b]
        floor = float(np.percentile(e, p.floor_percentile))
        ok = np.concatenate([[False], np.diff(e) < 0]) & (e > floor + p.above_floor_db)
        d = np.diff(np.concatenate([[0], ok.astype(np.int8), [0]]))
        starts, ends = np.nonzero(d == 1)[0], np.nonzero(d == -1)[0]
        for s, t in zip(starts.tolist(), ends.tolist(), strict=True):
            s0 = max(0, int(s) - 1)  # the frame before the first fall starts the decay
            if t - s0 < min_len or e[s0] - e[t - 1] < p.min_drop_db:
                continue
            tt = np.arange(t - s0) * p.hop_s
            slope = float(np.polyfit(tt, e[s0:t], 1)[0])
            if slope < 0:
                rates.append(-slope)
    return np.asarray(rates, dtype=np.float64)


def estimate_decay(*, y: np.ndarray, sr: int, params: ReverbParams | None = None) -> DecayEstimate:
    """Room decay of ``y``: the median of the fastest ``fast_fraction`` of its free decays.

    Returns ``rt60_s = None`` when fewer than ``min_decays`` free decays are found (steady
    sound, silence, or too short a stretch): no estimate rather than a guess.
    """
    p = params or ReverbParams()
    r = decay_slopes(y=y, sr=sr, params=p)
    if r.size < p.min_decays:
        return DecayEstimate(rt60_s=None, decay_db_per_s=None, n_decays=int(r.size))
    k = max(1, int(np.ceil(r.size * p.fast_fraction)))
    rate = float(np.median(np.sort(r)[-k:]))
    return DecayEstimate(rt60_s=60.0 / rate, decay_db_per_s=rate, n_decays=int(r.size))


def decay_change(
    *,
    y: np.ndarray,
    sr: int,
    t_s: float,
    window_s: float,
    params: ReverbParams | None = None,
) -> tuple[DecayEstimate, DecayEstimate]:
    """Room decay on ``window_s`` before and after instant ``t_s`` of ``y``.

    The windows stop ``hop_s * 3`` short of the instant so a decay never straddles it.
    """
    if window_s <= 0 or sr <= 0:
        raise ValueError(f"window_s and sr must be positive, got {window_s} and {sr}")
    p = params or ReverbParams()
    i = int(t_s * sr)
    g = int(3 * p.hop_s * sr)
    w = int(window_s * sr)
    before = estimate_decay(y=y[max(0, i - w) : max(0, i - g)], sr=sr, params=p)
    after = estimate_decay(y=y[i + g : i + w], sr=sr, params=p)
    return before, after
