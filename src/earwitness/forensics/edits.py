"""Edit points: instants where a recording was cut, joined or inserted into.

Signals, each measured on both sides of every candidate instant and compared with its threshold:

- ``noise_floor_db`` / ``noise_spectrum_db``: the background level and spectral shape, as a low
  percentile of band energies over a window on each side (minimum statistics, Martin 2001,
  "Noise power spectral density estimation based on optimal smoothing and minimum statistics",
  IEEE Trans. Speech Audio Process. 9(5)); a join of two recordings moves them.
- ``dc_offset``: mean sample value on each side (a join of material with different DC).
- ``digital_silence``: runs of exact zeros inside a recording that otherwise never reaches
  digital zero (inserted silence); both ends are edit points.
- ``enf_phase_rad`` / ``hum_level_db``: mains-hum phase and level (see :mod:`.enf`).
- ``reverb_decay``: the room's blind decay time (RT60-like, seconds) on each side of an instant
  (see :mod:`.reverb`, after Ratnam et al. 2003 and Löllmann et al. 2010). Evidence only: it
  is measured at instants the other signals found and never proposes one itself.

Localisation: the noise-floor instant is refined with a robust (L1) one-step fit on the band
that moved most, DC by a one-step least-squares fit, ENF by the phase midpoint crossing, silence
to the sample.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import ndimage

from earwitness.forensics import enf, reverb
from earwitness.forensics.dsp import frame_view, stft

_BANDS_HZ = (100, 250, 500, 1000, 2000, 3000, 4500, 6000, 7900)


@dataclass(frozen=True)
class EditParams:
    """Tunable parameters of the edit-point detector (thresholds are calibrated)."""

    sr: int = 16000
    hop_s: float = 0.01
    n_fft: int = 512
    floor_window_s: float = 1.5
    floor_percentile: float = 10.0
    floor_threshold_db: float = 6.0
    spectrum_threshold_db: float = 5.0
    dc_window_s: float = 1.0
    dc_threshold: float = 0.004
    min_silence_s: float = 0.01
    silence_context_db: float = -80.0
    enf_min_snr_db: float = 25.0
    enf_threshold_rad: float = 0.6
    hum_level_threshold_db: float = 8.0
    merge_s: float = 1.0
    edge_guard_s: float = 0.5
    enf_edge_s: float = 2.5
    hum_presence_db: float = 6.0
    reverb_window_s: float = 4.0
    reverb_ratio_threshold: float = 1.7


@dataclass(frozen=True)
class EditPoint:
    """One detected instant with the evidence for it."""

    t_s: float
    score: float
    triggered_by: tuple[str, ...]
    evidence: dict[str, dict[str, Any]] = field(default_factory=dict)


def _band_db(*, y: np.ndarray, sr: int, p: EditParams) -> np.ndarray:
    hop = int(p.hop_s * sr)
    x = stft(y=y, n_fft=p.n_fft, hop=hop)
    pw = np.abs(x) ** 2
    f = np.fft.rfftfreq(p.n_fft, 1 / sr)
    cols = []
    for lo, hi in itertools.pairwise(_BANDS_HZ):
        sel = (f >= lo) & (f < min(hi, sr / 2))
        if sel.any():
            cols.append(pw[:, sel].mean(axis=1))
    return (10 * np.log10(np.stack(cols, axis=1) + 1e-14)).astype(np.float32)


def _sides(a: np.ndarray, w: int, pct: float | None) -> tuple[np.ndarray, np.ndarray]:
    """Left ``[i-w, i)`` and right ``[i, i+w)`` statistic of ``a`` (frames x k) at every i."""
    if pct is None:
        m = ndimage.uniform_filter1d(a, size=w, axis=0, mode="nearest")
    elif a.shape[1] == 0:
        m = a.copy()
    else:
        # column by column: scipy's 1-D rank filter keeps a running order statistic, the N-D
        # one sorts every window again (same values, ~30x slower on a (frames, 1) footprint)
        m = np.stack(
            [
                ndimage.percentile_filter(a[:, j], pct, size=w, mode="nearest")
                for j in range(a.shape[1])
            ],
            axis=1,
        )
    left = np.roll(m, (w + 1) // 2, axis=0)
    right = np.roll(m, -(w // 2), axis=0)
    return left, right


def _floor_power_db(b: np.ndarray) -> np.ndarray:
    out: np.ndarray = 10 * np.log10(np.sum(10 ** (b / 10), axis=-1) + 1e-14)
    return out


def _peaks(score: np.ndarray, thr: float, dist: int) -> list[int]:
    """Local maxima of ``score`` above ``thr`` separated by at least ``dist`` frames."""
    cand = np.nonzero(score >= thr)[0]
    out: list[int] = []
    for i in cand[np.argsort(-score[cand])]:
        if all(abs(int(i) - j) >= dist for j in out):
            out.append(int(i))
    return sorted(out)


def _step_l1(v: np.ndarray) -> int:
    """Split index minimising the L1 cost of a one-step fit to ``v``."""
    best, k_best = np.inf, v.size // 2
    for k in range(2, v.size - 2):
        a, b = v[:k], v[k:]
        c = np.abs(a - np.median(a)).sum() + np.abs(b - np.median(b)).sum()
        if c < best:
            best, k_best = c, k
    return k_best


def _step_l2(v: np.ndarray) -> int:
    """Split index of the least-squares one-step fit to ``v`` (CUSUM estimate)."""
    n = v.size
    c = np.cumsum(v - v.mean())
    k = np.arange(1, n)
    stat = np.abs(c[:-1]) / np.sqrt(k * (n - k) / n)
    return int(np.argmax(stat)) + 1


def digital_silences(*, y: np.ndarray, sr: int, min_s: float) -> list[tuple[int, int]]:
    """Runs of exact zeros (|x| below half a 16-bit step) at least ``min_s`` long."""
    z = np.abs(y) < 0.5 / 32768
    if not z.any():
        return []
    edges = np.flatnonzero(z[1:] != z[:-1]) + 1  # first sample of each new run
    starts, ends = edges[z[edges]], edges[~z[edges]]
    if z[0]:
        starts = np.concatenate([[0], starts])
    if z[-1]:
        ends = np.concatenate([ends, [z.size]])
    keep = (ends - starts) >= int(min_s * sr)
    return list(zip(starts[keep].tolist(), ends[keep].tolist(), strict=True))


def _ev(
    before: float, after: float, unit: str, thr: float, *, absolute: bool = True
) -> dict[str, Any]:
    change = after - before
    return {
        "before": round(float(before), 5),
        "after": round(float(after), 5),
        "change": round(float(change), 5),
        "unit": unit,
        "threshold": thr,
        "moved": bool(abs(change) >= thr) if absolute else bool(change >= thr),
    }


def reverb_evidence(*, y: np.ndarray, sr: int, t_s: float, p: EditParams) -> dict[str, Any]:
    """The ``reverb_decay`` evidence at ``t_s``: blind RT60 before/after and their ratio.

    ``moved`` when the longer decay time is at least ``reverb_ratio_threshold`` times the
    shorter; ``before``/``after`` are None where too few free decays were found.
    """
    b, a = reverb.decay_change(y=y, sr=sr, t_s=t_s, window_s=p.reverb_window_s)
    ok = b.rt60_s is not None and a.rt60_s is not None
    ratio = (a.rt60_s or 0.0) / (b.rt60_s or 1.0) if ok else None
    return {
        "before": None if b.rt60_s is None else round(b.rt60_s, 3),
        "after": None if a.rt60_s is None else round(a.rt60_s, 3),
        "change": round((a.rt60_s or 0.0) - (b.rt60_s or 0.0), 3) if ok else None,
        "unit": "s (RT60)",
        "ratio": None if ratio is None else round(ratio, 3),
        "threshold": p.reverb_ratio_threshold,
        "threshold_on": "ratio",
        "moved": bool(ratio is not None and max(ratio, 1 / ratio) >= p.reverb_ratio_threshold),
        "n_decays": [b.n_decays, a.n_decays],
    }


def find_edit_points(
    *,
    y: np.ndarray,
    sr: int,
    y_native: np.ndarray | None = None,
    native_sr: int | None = None,
    params: EditParams | None = None,
) -> tuple[list[EditPoint], dict[str, Any]]:
    """Edit points in mono ``y`` at ``params.sr`` (``y_native`` for sample-exact silence).

    Returns the points and a summary (hum found, signals used).
    """
    p = params or EditParams()
    y = np.asarray(y, dtype=np.float32)
    hop = int(p.hop_s * sr)
    bands = _band_db(y=y, sr=sr, p=p)
    nfr = bands.shape[0]
    # digitally silent frames must not pull the noise-floor percentiles down: they are
    # reported by their own signal
    fvs = frame_view(y=y, frame=p.n_fft, hop=int(p.hop_s * sr))[:nfr]
    if fvs.shape[0] == nfr:
        bands[np.max(np.abs(fvs), axis=1) < 0.5 / 32768] = 0.0
    summary: dict[str, Any] = {
        "signals": ["noise_floor_db", "noise_spectrum_db", "dc_offset", "digital_silence"]
    }
    if nfr < 4:
        return [], summary
    t_frames = (np.arange(nfr) * hop + p.n_fft / 2) / sr
    w = max(3, int(p.floor_window_s / p.hop_s))
    fl, fr = _sides(bands, w, p.floor_percentile)
    lvl_l, lvl_r = _floor_power_db(fl), _floor_power_db(fr)
    d = fr - fl
    shape = np.mean(np.abs(d - d.mean(axis=1, keepdims=True)), axis=1)
    level = lvl_r - lvl_l
    wd = max(3, int(p.dc_window_s / p.hop_s))
    fv = frame_view(y=y, frame=p.n_fft, hop=hop)[:nfr]
    dcl, dcr = _sides(fv.mean(axis=1)[:, None], wd, None)
    dc_l, dc_r = dcl[:, 0], dcr[:, 0]
    guard = int(max(p.edge_guard_s, p.floor_window_s, p.dc_window_s) / p.hop_s) + 1
    valid = np.zeros(nfr, dtype=bool)
    valid[guard : max(guard, nfr - guard)] = True

    # ENF track (if hum present)
    x1k = enf.to_enf_rate(y=y, sr=sr)
    hum = enf.detect_hum(x=x1k, min_snr_db=p.enf_min_snr_db)
    tr = enf.track(x=x1k, hum=hum) if hum is not None else None
    if tr is not None:
        summary["hum"] = {
            "nominal_hz": tr.hum.nominal_hz,
            "freq_hz": round(tr.hum.freq_hz, 3),
            "snr_db": round(tr.hum.snr_db, 1),
        }
        summary["signals"] += ["enf_phase_rad", "hum_level_db"]
        jump, amp_b, amp_a = enf.phase_steps(tr=tr, grid_s=t_frames)
        # the band-pass transient and the fit windows need the first/last seconds
        edge = (t_frames < p.enf_edge_s) | (t_frames > y.size / sr - p.enf_edge_s)
        jump[edge] = 0.0
        amp_b[edge] = amp_a[edge] = 0.0
    else:
        jump = amp_b = amp_a = np.zeros(nfr)
    # ENF phase is only read where the hum is there on both sides (not after a splice into
    # material without hum, where the hum-level signal speaks instead)
    if tr is not None:
        ref = float(np.median(tr.amplitude_db))
        hum_here = (amp_b > ref - p.hum_presence_db) & (amp_a > ref - p.hum_presence_db)
        hum_side = np.maximum(amp_b, amp_a) > ref - p.hum_presence_db
    else:
        hum_here = hum_side = np.zeros(nfr, dtype=bool)
    ratios = {
        "noise_floor_db": np.abs(level) / p.floor_threshold_db,
        "noise_spectrum_db": shape / p.spectrum_threshold_db,
        "dc_offset": np.abs(dc_r - dc_l) / p.dc_threshold,
        "enf_phase_rad": np.where(hum_here, np.abs(jump), 0.0) / p.enf_threshold_rad,
        "hum_level_db": np.where(hum_side, np.abs(amp_a - amp_b), 0.0) / p.hum_level_threshold_db,
    }
    # a change must be the largest of its signal within one analysis window either side
    dists = {
        "noise_floor_db": w,
        "noise_spectrum_db": w,
        "dc_offset": wd,
        "enf_phase_rad": int(1.35 / p.hop_s),
        "hum_level_db": int(1.35 / p.hop_s),
    }
    cands: list[tuple[float, str, float]] = []
    for name, r in ratios.items():
        r = np.where(valid, r, 0.0)
        for i in _peaks(r, 1.0, dists[name]):
            t_ref = _refine(
                name, i, y=y, sr=sr, p=p, bands=bands, fl=fl, fr=fr, tr=tr, t_frames=t_frames
            )
            cands.append((t_ref, name, float(r[i])))
    # digital silence, sample-exact on the native signal when available
    yn, srn = (y_native, native_sr) if y_native is not None and native_sr else (y, sr)
    ctx_floor = float(np.percentile(_floor_power_db(bands), 5))
    sil_kind: dict[float, str] = {}
    if ctx_floor > p.silence_context_db:
        for s0, s1 in digital_silences(y=yn, sr=srn, min_s=p.min_silence_s):
            if s0 > 0:
                cands.append((s0 / srn, "digital_silence", np.inf))
                sil_kind[s0 / srn] = "start"
            if s1 < yn.size:
                cands.append((s1 / srn, "digital_silence", np.inf))
                sil_kind[s1 / srn] = "end"
    # digital silence disturbs every windowed statistic around it: other signals' changes
    # within one floor window of a silence boundary join that boundary
    sil = sorted(sil_kind)
    snapped = []
    for t, n, r in cands:
        near = [x for x in sil if abs(x - t) <= p.floor_window_s]
        if n != "digital_silence" and near:
            t = min(near, key=lambda x: abs(x - t))
        snapped.append((t, n, r))
    cands = sorted(snapped)
    groups: list[list[tuple[float, str, float]]] = []
    for c in cands:
        if (
            groups
            and c[0] - groups[-1][-1][0] <= p.merge_s
            and not (
                c[1] == "digital_silence"
                and any(n == "digital_silence" and t != c[0] for t, n, _ in groups[-1])
            )
        ):
            groups[-1].append(c)
        else:
            groups.append([c])
    prec = [
        "digital_silence",
        "dc_offset",
        "noise_floor_db",
        "noise_spectrum_db",
        "enf_phase_rad",
        "hum_level_db",
    ]
    points: list[EditPoint] = []
    for g in groups:
        names = tuple(sorted({n for _, n, _ in g}, key=prec.index))
        # the instant: a sample-exact silence boundary if present, else the strongest change
        t0 = max(g, key=lambda c: (c[1] == "digital_silence", c[2]))[0]
        i = int(np.clip(np.searchsorted(t_frames, t0), 0, nfr - 1))
        ev: dict[str, dict[str, Any]] = {
            "noise_floor_db": _ev(lvl_l[i], lvl_r[i], "dB", p.floor_threshold_db),
            "noise_spectrum_db": {
                **_ev(0.0, float(shape[i]), "dB", p.spectrum_threshold_db),
                "before": None,
                "after": None,
            },
            "dc_offset": _ev(dc_l[i], dc_r[i], "full scale", p.dc_threshold),
        }
        if tr is not None:
            ev["enf_phase_rad"] = {
                **_ev(0.0, float(jump[i]), "rad", p.enf_threshold_rad),
                "before": None,
                "after": None,
            }
            ev["hum_level_db"] = _ev(amp_b[i], amp_a[i], "dB", p.hum_level_threshold_db)
        ev["reverb_decay"] = reverb_evidence(y=y, sr=sr, t_s=float(t0), p=p)
        if "digital_silence" in names:
            lvl_out = round(float(lvl_l[i] if sil_kind.get(t0) == "start" else lvl_r[i]), 2)
            inside = -150.0
            start = sil_kind.get(t0) == "start"
            ev["digital_silence"] = {
                "before": lvl_out if start else inside,
                "after": inside if start else lvl_out,
                "change": None,
                "unit": "dBFS floor",
                "threshold": p.silence_context_db,
                "moved": True,
            }
        score = (
            max(float(ratios[n][i]) for n in names if n in ratios)
            if any(n in ratios for n in names)
            else 1.0
        )
        points.append(
            EditPoint(t_s=float(t0), score=max(score, 1.0), triggered_by=names, evidence=ev)
        )
    points = _drop_window_echoes(points, bands=bands, t_frames=t_frames, p=p)
    return points, summary


_WINDOWED = frozenset({"noise_floor_db", "noise_spectrum_db"})


def _rank(a: np.ndarray, pct: float) -> np.ndarray:
    """Per column, the order statistic ``percentile_filter`` takes for ``pct`` over ``a``."""
    k = min(a.shape[0] - 1, int(a.shape[0] * pct / 100.0))
    out: np.ndarray = np.partition(a, k, axis=0)[k]
    return out


def _drop_window_echoes(
    points: list[EditPoint], *, bands: np.ndarray, t_frames: np.ndarray, p: EditParams
) -> list[EditPoint]:
    """Drop noise-floor/spectrum points that only echo a stronger point near them.

    The floor statistics compare a window of ``floor_window_s`` on each side of an instant.
    Between ``merge_s`` and one window away from a real edit, one side still straddles that
    edit, so its change can show up again there. Such a point (found by these two signals
    alone) is measured again with the window cut at the stronger point; it is kept only if a
    change at or above threshold remains.
    """
    w = p.floor_window_s
    kept: list[EditPoint] = []
    for pt in sorted(points, key=lambda q: -q.score):
        near = [q for q in kept if abs(q.t_s - pt.t_s) < w]
        if near and set(pt.triggered_by) <= _WINDOWED:
            lo, hi = pt.t_s - w, pt.t_s + w
            for q in near:
                if q.t_s < pt.t_s:
                    lo = max(lo, q.t_s)
                else:
                    hi = min(hi, q.t_s)
            a, i, b = np.searchsorted(t_frames, [lo, pt.t_s, hi])
            if i - a < 2 or b - i < 2:
                continue
            left, right = (
                _rank(bands[a:i], p.floor_percentile),
                _rank(bands[i:b], p.floor_percentile),
            )
            d = right - left
            level = abs(float(_floor_power_db(right) - _floor_power_db(left)))
            shape = float(np.mean(np.abs(d - d.mean())))
            if level < p.floor_threshold_db and shape < p.spectrum_threshold_db:
                continue
        kept.append(pt)
    return sorted(kept, key=lambda q: q.t_s)


def _refine(
    name: str,
    i: int,
    *,
    y: np.ndarray,
    sr: int,
    p: EditParams,
    bands: np.ndarray,
    fl: np.ndarray,
    fr: np.ndarray,
    tr: enf.EnfTrack | None,
    t_frames: np.ndarray,
) -> float:
    """Refine the coarse instant (frame ``i``) of a change found by signal ``name``."""
    hop = int(p.hop_s * sr)
    if name in ("enf_phase_rad", "hum_level_db") and tr is not None:
        return enf.locate_step(tr=tr, t_s=float(t_frames[i]))
    if name == "dc_offset":
        a = max(0, int((t_frames[i] - 0.4) * sr))
        b = min(y.size, int((t_frames[i] + 0.4) * sr))
        seg = y[a:b].astype(np.float64)
        k = max(1, sr // 200)
        v = seg[: seg.size // k * k].reshape(-1, k).mean(axis=1)
        # a 40 ms moving average keeps the step and removes most of the voice (> 25 Hz)
        v = ndimage.uniform_filter1d(v, size=8, mode="nearest")
        return (a + _step_l2(v) * k + k // 2) / sr
    # noise floor: robust step on the band that moved most, speech peaks clipped
    lo = max(0, i - int(0.6 / p.hop_s))
    hi = min(bands.shape[0], i + int(0.6 / p.hop_s))
    seg = bands[lo:hi]
    k0 = i - lo
    spread = (
        np.median(np.abs(seg[:k0] - np.median(seg[:k0], axis=0)), axis=0)
        + np.median(np.abs(seg[k0:] - np.median(seg[k0:], axis=0)), axis=0)
        + 0.5
    )
    band = int(np.argmax(np.abs(fr[i] - fl[i]) / spread))
    k = _step_l1(seg[:, band])
    return float(t_frames[lo + k] - (p.n_fft / 2 - hop / 2) / sr)
