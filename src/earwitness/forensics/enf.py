"""Electric network frequency (ENF): mains-hum presence and phase discontinuities.

Method after Rodríguez, Apolinário & Biscainho (2010), "Audio authenticity: detecting ENF
discontinuity with high precision phase analysis", IEEE Trans. Inf. Forensics Security 5(3),
and Grigoras (2005, 2007) on ENF as an authenticity criterion: the hum component is isolated
with a narrow zero-phase band-pass around the nominal frequency (50/60 Hz or a harmonic), its
instantaneous phase is taken from the analytic signal, and a cut shows as a step in the phase
residual (and often in the hum amplitude). Here the step is measured by fitting straight lines to
the phase residual on both sides of each instant (outside a guard interval covering the filter's
transient) and comparing their values at the instant; the instant itself is where the phase
crosses the midpoint between the two fits (the zero-phase filter smears a step symmetrically).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import signal as sps

ENF_SR = 1000


@dataclass(frozen=True)
class HumInfo:
    """The strongest mains-hum component found: its frequency and SNR over its neighbourhood."""

    nominal_hz: float
    freq_hz: float
    snr_db: float


@dataclass(frozen=True)
class EnfTrack:
    """Phase residual (radians, unwrapped) and amplitude of the hum component at ``ENF_SR``."""

    hum: HumInfo
    phase: np.ndarray
    amplitude_db: np.ndarray


def to_enf_rate(*, y: np.ndarray, sr: int) -> np.ndarray:
    """Low-pass and decimate to :data:`ENF_SR` (polyphase)."""
    from math import gcd

    g = gcd(int(sr), ENF_SR)
    out: np.ndarray = sps.resample_poly(np.asarray(y, dtype=np.float64), ENF_SR // g, sr // g)
    return out


def detect_hum(
    *, x: np.ndarray, min_snr_db: float = 25.0, max_dev_hz: float = 0.15, min_presence: float = 0.8
) -> HumInfo | None:
    """Find mains hum (50 or 60 Hz, or its 2nd/3rd harmonic) in ``x`` sampled at ENF_SR.

    SNR compares the peak bin (8 s Welch, 0.125 Hz bins) within ``max_dev_hz`` per harmonic
    of the nominal frequency with the median level 1-4 Hz away. Hum must also be stationary:
    present (SNR >= 6 dB) in at least ``min_presence`` of the 4 s blocks, which rejects the
    harmonics of a voice or a passing engine.
    """
    if x.size < ENF_SR * 4:
        return None
    nper = min(x.size, ENF_SR * 8)
    f, pxx = sps.welch(x, fs=ENF_SR, nperseg=nper)
    best: HumInfo | None = None
    best_score = -np.inf
    for nominal in (50.0, 60.0):
        for k in (1, 2, 3):
            fc = nominal * k
            band = np.abs(f - fc) <= max_dev_hz * k
            ring = (np.abs(f - fc) > 1.0) & (np.abs(f - fc) < 4.0)
            if not band.any() or not ring.any():
                continue
            i = int(np.argmax(np.where(band, pxx, 0)))
            snr = 10 * np.log10(pxx[i] / (np.median(pxx[ring]) + 1e-30) + 1e-30)
            score = snr - (k - 1) * 3.0  # prefer the fundamental unless a harmonic is cleaner
            if snr >= min_snr_db and score > best_score:
                best_score = score
                best = HumInfo(nominal_hz=fc, freq_hz=float(f[i]), snr_db=float(snr))
    if best is None:
        return None
    blk = ENF_SR * 4
    fb = np.fft.rfftfreq(blk, 1 / ENF_SR)
    near = np.abs(fb - best.freq_hz) <= 0.5
    ring = (np.abs(fb - best.freq_hz) > 1.0) & (np.abs(fb - best.freq_hz) < 4.0)
    blocks = x[: x.size // blk * blk].reshape(-1, blk) * np.hanning(blk)
    pw = np.abs(np.fft.rfft(blocks, axis=1)) ** 2
    snr_b = 10 * np.log10(pw[:, near].max(axis=1) / (np.median(pw[:, ring], axis=1) + 1e-30))
    if float(np.mean(snr_b >= 6.0)) < min_presence:
        return None
    return best


def track(*, x: np.ndarray, hum: HumInfo, bandwidth_hz: float = 2.0) -> EnfTrack:
    """Phase residual and amplitude of the hum component around ``hum.freq_hz``."""
    lo = max(1.0, hum.freq_hz - bandwidth_hz / 2)
    sos = sps.butter(2, [lo, hum.freq_hz + bandwidth_hz / 2], "bandpass", fs=ENF_SR, output="sos")
    b = sps.sosfiltfilt(sos, x)
    a = sps.hilbert(b)
    t = np.arange(x.size) / ENF_SR
    phase = np.unwrap(np.angle(a)) - 2 * np.pi * hum.freq_hz * t
    amp = 20 * np.log10(np.abs(a) + 1e-12)
    return EnfTrack(hum=hum, phase=phase, amplitude_db=amp)


def _window_fit(
    t: np.ndarray, v: np.ndarray, w: np.ndarray, starts: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """Weighted least-squares line (slope, intercept) of ``v`` over windows ``[s, s + n)``."""
    c = [np.concatenate([[0.0], np.cumsum(q)]) for q in (w, w * t, w * v, w * t * t, w * t * v)]
    sw, st, sv, stt, stv = (q[starts + n] - q[starts] for q in c)
    sw = np.maximum(sw, 1e-9)
    den = sw * stt - st * st
    slope = (sw * stv - st * sv) / np.where(np.abs(den) < 1e-12, 1e-12, den)
    icpt = (sv - slope * st) / sw
    return slope, icpt


def reliable(tr: EnfTrack, *, tol_db: float = 3.0) -> np.ndarray:
    """Weights (0/1): samples where the hum amplitude is within ``tol_db`` of its 4 s median.

    Speech plosives, thumps and wind reaching into the hum band disturb its phase; those
    samples are left out of the phase fits instead of being read as discontinuities.
    """
    step = ENF_SR // 20
    coarse = tr.amplitude_db[::step]
    from scipy import ndimage

    med = ndimage.median_filter(coarse, size=81, mode="nearest")
    med = np.repeat(med, step)[: tr.amplitude_db.size]
    out: np.ndarray = (np.abs(tr.amplitude_db - med) <= tol_db).astype(np.float64)
    return out


def phase_steps(
    *, tr: EnfTrack, grid_s: np.ndarray, guard_s: float = 0.35, fit_s: float = 1.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Phase jump (rad, wrapped to ±pi) and amplitude change (dB) at each instant of ``grid_s``.

    Returns ``(jump, amp_before_db, amp_after_db)``. Instants too near the ends get 0 jump.
    """
    n = int(fit_s * ENF_SR)
    g = int(guard_s * ENF_SR)
    m = tr.phase.size
    t = np.arange(m) / ENF_SR
    idx = np.round(grid_s * ENF_SR).astype(int)
    ok = (idx - g - n >= 0) & (idx + g + n <= m)
    jump = np.zeros(grid_s.size)
    ab = np.zeros(grid_s.size)
    aa = np.zeros(grid_s.size)
    if ok.any():
        ii = idx[ok]
        w = reliable(tr)
        sl, il = _window_fit(t, tr.phase, w, ii - g - n, n)
        sr_, ir = _window_fit(t, tr.phase, w, ii + g, n)
        # a side needs most of its samples usable
        cw = np.concatenate([[0.0], np.cumsum(w)])
        usable = ((cw[ii - g] - cw[ii - g - n]) > 0.6 * n) & (
            (cw[ii + g + n] - cw[ii + g]) > 0.6 * n
        )
        tt = ii / ENF_SR
        d = (sr_ * tt + ir) - (sl * tt + il)
        jump[ok] = np.where(usable, (d + np.pi) % (2 * np.pi) - np.pi, 0.0)
        ca = np.concatenate([[0.0], np.cumsum(tr.amplitude_db)])
        ab[ok] = (ca[ii - g] - ca[ii - g - n]) / n
        aa[ok] = (ca[ii + g + n] - ca[ii + g]) / n
    return jump, ab, aa


def locate_step(*, tr: EnfTrack, t_s: float, guard_s: float = 0.35, fit_s: float = 1.0) -> float:
    """Refine a phase step near ``t_s``: where the phase crosses the midpoint of the two fits."""
    n = int(fit_s * ENF_SR)
    g = int(guard_s * ENF_SR)
    i = round(t_s * ENF_SR)
    if i - g - n < 0 or i + g + n > tr.phase.size:
        return t_s
    t = np.arange(tr.phase.size) / ENF_SR
    pl = np.polyfit(t[i - g - n : i - g], tr.phase[i - g - n : i - g], 1)
    pr = np.polyfit(t[i + g : i + g + n], tr.phase[i + g : i + g + n], 1)
    seg = slice(i - g, i + g)
    ts = t[seg]
    left, right = np.polyval(pl, ts), np.polyval(pr, ts)
    d = right - left
    dw = (d + np.pi) % (2 * np.pi) - np.pi
    r = (tr.phase[seg] - left + np.pi) % (2 * np.pi) - np.pi
    frac = r / np.where(np.abs(dw) < 1e-6, 1e-6, dw)
    k = int(np.argmin(np.abs(frac - 0.5)))
    return float(ts[k])
