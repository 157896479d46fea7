"""DSP detector of impulsive events: gunfire (single shots, bursts, automatic fire) and
explosions or artillery.

Method. An impulsive event is a sharp, broadband rise of energy followed by a decay
(Maher 2006, "Modeling and signal processing of acoustic gunshot recordings", IEEE DSP
Workshop; Maher 2007, "Acoustical characterization of gunshots", IEEE SAFE). Per 10 ms frame
we measure, in each of 24 mel bands, the rise of log energy over the level 20-50 ms before; an
onset candidate is a local peak of the *broadband rise* (the mean rise over bands, counting
only positive rises) whose fraction of rising bands is large. For each candidate we measure
the peak level above the local background, the decay time (time for the energy to fall
``decay_drop_db`` below the peak, or back to the background) and the low-frequency share of
the energy. Short decays are shots; long, low-frequency decays are explosions. Shots within
``burst_gap_s`` of each other form one burst. Thresholds are calibrated by
``benchmarks/validate_events.py`` and stored in ``calibration/acoustic_events_dsp.json``.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

import numpy as np
from scipy import signal as sps

from earwitness.events.base import DetectedEvent
from earwitness.events.features import FrameFeatures, rolling_min


@dataclass(frozen=True)
class ImpulsiveParams:
    """Thresholds of the impulsive detector (calibrated; see module docstring)."""

    min_rise_db: float = 12.0  # mean positive per-band rise at the onset frame
    min_band_fraction: float = 0.85  # fraction of bands rising by >= 3 dB
    min_peak_over_bg_db: float = 10.0  # peak frame energy over the local background
    min_sharpness_db: float = 10.0  # 1 ms high-band envelope rise within 4-10 ms
    refractory_s: float = 0.05
    decay_drop_db: float = 20.0
    explosion_min_sustain: float = 0.84  # level left at +200 ms (share of the rise, dB/dB)
    explosion_min_vlf_share: float = 0.6  # energy share below 120 Hz in the first 300 ms
    burst_gap_s: float = 1.0
    burst_relax: float = 0.5  # follow-up shots need this share of min_rise_db
    burst_max_drop_db: float = 6.0  # ... and a peak at most this far below the shot before
    max_event_s: float = 8.0


@dataclass(frozen=True)
class Impulse:
    """One onset candidate with its measurements (times in seconds)."""

    onset_s: float
    peak_s: float
    end_s: float
    rise_db: float
    band_fraction: float
    peak_over_bg_db: float
    decay_s: float
    lf_share: float
    sustain_200ms: float
    vlf_share: float
    sharpness_db: float


def broadband_rise(
    *, band_db: np.ndarray, lag_min: int = 2, lag_max: int = 5
) -> tuple[np.ndarray, np.ndarray]:
    """Per frame: mean positive rise (dB) of band energy over the maximum of the frames
    ``lag_min..lag_max`` before, and the fraction of bands rising by at least 3 dB.

    Using the *maximum* of the reference frames makes slow rises (speech syllables, engines)
    score low and only abrupt ones (impulses; Maher 2007) score high."""
    n, _ = band_db.shape
    ref = np.full_like(band_db, -np.inf)
    for lag in range(lag_min, lag_max + 1):
        shifted = np.empty_like(band_db)
        shifted[:lag] = band_db[:1]
        shifted[lag:] = band_db[:-lag]
        ref = np.maximum(ref, shifted)
    rise = band_db - ref
    mean_rise = np.clip(rise, 0.0, None).mean(axis=1)
    frac = (rise >= 3.0).mean(axis=1)
    if n:
        mean_rise[:lag_max] = 0.0
        frac[:lag_max] = 0.0
    return mean_rise, frac


def onset_sharpness(*, y: np.ndarray, sr: int, centre_s: float, search_s: float = 0.04) -> float:
    """Largest rise (dB) of the 1 ms envelope above 1.5 kHz over its maximum 4-10 ms earlier,
    within ``search_s`` of ``centre_s``. Muzzle blasts and explosions rise by tens of dB in
    1-3 ms (Maher 2007); speech onsets take 10-30 ms. Computed on a local excerpt only."""
    step = max(1, sr // 1000)
    a = max(0, int((centre_s - search_s - 0.012) * sr))
    b = min(y.size, int((centre_s + search_s) * sr))
    if b - a < 16 * step:
        return 0.0
    sos = sps.butter(2, 1500.0, "highpass", fs=sr, output="sos")
    hp = sps.sosfilt(sos, np.asarray(y[a:b], dtype=np.float64))
    m = hp.size // step
    env = 10.0 * np.log10((hp[: m * step].reshape(m, step) ** 2).mean(axis=1) + 1e-10)
    idx = np.arange(10, m)
    ref = np.max(np.stack([env[idx - k] for k in range(4, 11)]), axis=0)
    return float(np.max(env[idx] - ref))


def find_impulses(*, feats: FrameFeatures, params: ImpulsiveParams) -> list[Impulse]:
    """Onset candidates and their measurements (see module docstring)."""
    rise, frac = broadband_rise(band_db=feats.band_db)
    fr = feats.frame_rate
    n = feats.n_frames
    e = feats.frame_db
    bg = rolling_min(x=e, width=int(0.5 * fr))
    # loose candidates; the strict thresholds apply except to follow-up shots of a burst,
    # whose rise is measured over the previous shot's tail
    loose_rise = params.min_rise_db * params.burst_relax
    loose_frac = params.min_band_fraction - 0.25
    cand = np.nonzero((rise >= loose_rise) & (frac >= loose_frac))[0]
    out: list[Impulse] = []
    last = -(10**9)
    refr = max(1, int(params.refractory_s * fr))
    lf_bins = feats.freqs < 300.0
    vlf_bins = feats.freqs < 120.0
    i = 0
    while i < cand.size:
        f0 = int(cand[i])
        # take the strongest rise within the refractory window as the onset frame
        j = i
        while j + 1 < cand.size and cand[j + 1] - f0 <= refr:
            j += 1
        grp = cand[i : j + 1]
        f = int(grp[np.argmax(rise[grp])])
        i = j + 1
        if f - last < refr:
            continue
        in_burst = bool(out) and feats.t(f) - out[-1].onset_s <= params.burst_gap_s
        if in_burst:  # a follow-up shot is about as loud as the shot before it
            prev_peak = float(e[round(out[-1].peak_s * fr)])
            pk = float(e[f : min(n, f + max(2, int(0.05 * fr)))].max())
            in_burst = pk >= prev_peak - params.burst_max_drop_db
        if not in_burst and (rise[f] < params.min_rise_db or frac[f] < params.min_band_fraction):
            continue
        pk_end = min(n, f + max(2, int(0.05 * fr)))
        p = f + int(np.argmax(e[f:pk_end]))
        before = max(0, f - int(0.05 * fr))
        base = float(np.median(e[max(0, before - int(0.25 * fr)) : before + 1]))
        base = min(base, float(bg[max(0, f - 3)]))
        peak_over = float(e[p] - base)
        if peak_over < params.min_peak_over_bg_db:
            continue
        sharp_ = onset_sharpness(y=feats.y, sr=feats.sr, centre_s=feats.t(f))
        if sharp_ < params.min_sharpness_db:
            continue
        stop = min(n, p + int(params.max_event_s * fr))
        target = max(e[p] - params.decay_drop_db, base + 3.0)
        below = np.nonzero(e[p:stop] < target)[0]
        end = p + int(below[0]) if below.size else stop
        seg = feats.power[f : max(end, f + 1)]
        tot = float(seg.sum()) + 1e-20
        lf = float(seg[:, lf_bins].sum()) / tot
        early = feats.power[f : min(n, f + int(0.3 * fr))]
        vlf = float(early[:, vlf_bins].sum()) / (float(early.sum()) + 1e-20)
        bg_bands = feats.band_db[max(0, f - int(0.25 * fr)) : max(1, f - 2)].mean(axis=0)
        dom = np.argsort(feats.band_db[p] - bg_bands)[-8:]
        k = min(n - 1, p + int(0.2 * fr))
        rise_dom = float(feats.band_db[p, dom].mean() - bg_bands[dom].mean())
        d200 = float(feats.band_db[k, dom].mean() - bg_bands[dom].mean()) / max(rise_dom, 1.0)
        out.append(
            Impulse(
                onset_s=feats.t(f) - 0.5 * feats.hop / feats.sr,
                peak_s=feats.t(p),
                end_s=feats.t(end),
                rise_db=float(rise[f]),
                band_fraction=float(frac[f]),
                peak_over_bg_db=peak_over,
                decay_s=(end - p) / fr,
                lf_share=lf,
                sustain_200ms=d200,
                vlf_share=vlf,
                sharpness_db=sharp_,
            )
        )
        last = f
    return out


def _score(imp: Impulse, params: ImpulsiveParams) -> float:
    """A monotone confidence in [0, 1] from how far the onset exceeds the thresholds."""
    over = (imp.rise_db - params.min_rise_db) / 10.0 + (
        imp.peak_over_bg_db - params.min_peak_over_bg_db
    ) / 20.0
    return float(1.0 / (1.0 + np.exp(-2.0 * over)))


class ImpulsiveDetector:
    """Gunfire and explosions from onset sharpness, broadband energy and decay shape."""

    name: ClassVar[str] = "dsp_impulsive"
    layer: ClassVar[str] = "dsp"
    labels: ClassVar[tuple[str, ...]] = ("gunfire", "explosion")

    def __init__(self, params: ImpulsiveParams | None = None) -> None:
        self.p = params or ImpulsiveParams()

    def params(self) -> Mapping[str, Any]:
        return asdict(self.p)

    def classify(self, imp: Impulse) -> str:
        if imp.sustain_200ms >= self.p.explosion_min_sustain:
            return "explosion"
        if imp.vlf_share >= self.p.explosion_min_vlf_share:
            return "explosion"
        return "gunfire"

    def detect(self, *, feats: FrameFeatures) -> list[DetectedEvent]:
        imps = find_impulses(feats=feats, params=self.p)
        events: list[DetectedEvent] = []
        shots: list[Impulse] = []

        def flush() -> None:
            if not shots:
                return
            times = [s.onset_s for s in shots]
            events.append(
                DetectedEvent(
                    label="gunfire",
                    start_s=max(0.0, times[0]),
                    end_s=max(max(s.end_s for s in shots), times[-1]),
                    score=max(_score(s, self.p) for s in shots),
                    detector=self.name,
                    layer=self.layer,
                    details={
                        "shot_times_s": [round(t, 4) for t in times],
                        "shot_count": len(times),
                        "intervals_s": [round(b - a, 4) for a, b in itertools.pairwise(times)],
                        "decay_s": [round(s.decay_s, 3) for s in shots],
                        "peak_over_background_db": [round(s.peak_over_bg_db, 1) for s in shots],
                    },
                )
            )
            shots.clear()

        # a run of three or more onsets closer than ``burst_gap_s`` is a burst of fire: the
        # following shots would otherwise look like a sustained (explosion-like) decay
        runs: list[list[Impulse]] = []
        for imp in imps:
            if runs and imp.onset_s - runs[-1][-1].onset_s <= self.p.burst_gap_s:
                runs[-1].append(imp)
            else:
                runs.append([imp])
        labelled = [
            (imp, "gunfire" if len(run) >= 3 else self.classify(imp)) for run in runs for imp in run
        ]
        for imp, label in labelled:
            if label == "gunfire":
                if shots and imp.onset_s - shots[-1].onset_s > self.p.burst_gap_s:
                    flush()
                shots.append(imp)
                continue
            flush()
            events.append(
                DetectedEvent(
                    label="explosion",
                    start_s=max(0.0, imp.onset_s),
                    end_s=imp.end_s,
                    score=_score(imp, self.p),
                    detector=self.name,
                    layer=self.layer,
                    details={
                        "decay_s": round(imp.decay_s, 3),
                        "lf_share": round(imp.lf_share, 3),
                        "vlf_share": round(imp.vlf_share, 3),
                        "sustain_200ms": round(imp.sustain_200ms, 3),
                        "peak_over_background_db": round(imp.peak_over_bg_db, 1),
                    },
                )
            )
        flush()
        events.sort(key=lambda ev: ev.start_s)
        return events
