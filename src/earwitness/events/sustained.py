"""DSP detector of sustained background sounds: aircraft (jets, propeller planes, helicopters),
vehicles and crowds.

Method. Speech is intermittent in every frequency band (syllables, formant movement, pauses),
whereas an engine, a fly-by or applause keeps a band busy for seconds. Per mel band we track
the running minimum of the log energy over ``window_s`` (minimum statistics; Martin 2001,
"Noise power spectral density estimation based on optimal smoothing and minimum
statistics", IEEE Trans. Speech Audio Proc. 9(5)). Where this stationary level rises
``min_excess_db`` above the recording's floor in the ``top_bands`` most raised bands for at
least ``min_duration_s``, a sustained event is reported. The event is then described by:
the centroid of the raised spectrum, its tonality (harmonic lines of engines and rotors), the
glide of its strongest tonal line (a Doppler glide marks a moving source: f' = f c / (c - v
cos θ)), and the fast modulation typical of applause and crowds. A calibrated rule maps these
to ``aircraft``, ``vehicle`` or ``crowd``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

import numpy as np
from scipy.ndimage import uniform_filter1d

from earwitness.events.base import DetectedEvent
from earwitness.events.features import FrameFeatures, rolling_max, rolling_min, segments


@dataclass(frozen=True)
class SustainedParams:
    """Thresholds of the sustained detector (calibrated by ``benchmarks/validate_events.py``)."""

    window_s: float = 1.0
    floor_percentile: float = 10.0
    top_bands: int = 8
    min_excess_db: float = 13.0
    min_duration_s: float = 1.0
    max_gap_s: float = 0.3
    max_fluctuation_db: float = 9.0  # speech and bursts fluctuate more within 250 ms
    crowd_min_modulation_db: float = 3.0
    crowd_min_centroid_hz: float = 900.0
    aircraft_min_glide: float = 0.03
    aircraft_min_centroid_hz: float = 700.0
    aircraft_max_centroid_hz: float = 3000.0
    #: onset rule: the first frame from which the dominant bands stay within
    #: ``onset_within_db`` of the segment's level for ``onset_hold_s`` (where a fading-in
    #: sound rises out of the speech and stays); 0 = the steepest 100 ms rise (older rule)
    onset_hold_s: float = 0.5
    onset_within_db: float = 9.0


@dataclass(frozen=True)
class SustainedSegment:
    """Measurements of one sustained segment (times in seconds)."""

    start_s: float
    end_s: float
    excess_db: float
    centroid_hz: float
    tonality_db: float
    glide: float
    modulation_db: float
    bands_raised: int
    fluctuation_db: float


def line_glide(
    *, power: np.ndarray, freqs: np.ndarray, fmin: float = 60.0, fmax: float = 1500.0
) -> tuple[float, float]:
    """Tonality and relative glide of the strongest spectral line in ``power`` (frames, bins).

    Tonality: peak-to-median ratio (dB) of the segment's average spectrum in [fmin, fmax].
    Glide: (f_end - f_start) / f_mid of a straight line fitted to the frame-wise peak
    frequency near that line (±15 %), which is how a Doppler shift shows on a spectrogram."""
    sel = (freqs >= fmin) & (freqs <= fmax)
    if power.shape[0] < 4 or sel.sum() < 4:
        return 0.0, 0.0
    avg = power[:, sel].mean(axis=0)
    k = int(np.argmax(avg))
    tonality = float(10 * np.log10((avg[k] + 1e-20) / (np.median(avg) + 1e-20)))
    # track the strongest line high enough for +-15 % to span several FFT bins
    sel = (freqs >= max(fmin, 250.0)) & (freqs <= fmax)
    avg = power[:, sel].mean(axis=0)
    f_sel = freqs[sel]
    k = int(np.argmax(avg))
    f_line = f_sel[k]
    band = (f_sel >= f_line * 0.85) & (f_sel <= f_line * 1.15)
    sub = power[:, sel][:, band]
    fb = f_sel[band]
    w = sub.sum(axis=1)
    good = w > np.percentile(w, 30)
    if good.sum() < 4 or fb.size < 2:
        return tonality, 0.0
    # frame-wise power-weighted centroid inside the ±15 % band tracks the line
    track = (sub[good] * fb).sum(axis=1) / (sub[good].sum(axis=1) + 1e-20)
    t = np.nonzero(good)[0].astype(float)
    slope, _ = np.polyfit(t, track, 1)
    glide = float(slope * (power.shape[0] - 1) / max(f_line, 1.0))
    return tonality, glide


class SustainedDetector:
    """Aircraft, vehicles and crowds from stationary band levels over speech."""

    name: ClassVar[str] = "dsp_sustained"
    layer: ClassVar[str] = "dsp"
    labels: ClassVar[tuple[str, ...]] = ("aircraft", "vehicle", "crowd")

    def __init__(self, params: SustainedParams | None = None) -> None:
        self.p = params or SustainedParams()

    def params(self) -> Mapping[str, Any]:
        return asdict(self.p)

    def segments(self, *, feats: FrameFeatures) -> list[SustainedSegment]:
        fr = feats.frame_rate
        w = max(3, int(self.p.window_s * fr))
        stat = rolling_min(x=feats.band_db, width=w)
        live = feats.frame_db > -90.0  # digital silence (padding, muted starts) is no floor
        ref = stat[live] if live.sum() >= w else stat
        floor = np.percentile(ref, self.p.floor_percentile, axis=0)
        excess = stat - floor
        # energy-weighted: bands with almost no energy (band-limited sources) cannot dominate
        p_stat = 10.0 ** (stat / 10.0)
        p_floor = 10.0 ** (floor / 10.0)
        order = np.argsort(p_stat - p_floor, axis=1)[:, -self.p.top_bands :]
        num = np.take_along_axis(p_stat, order, axis=1).sum(axis=1)
        den = p_floor[order].sum(axis=1)
        top = 10.0 * np.log10(num / den)
        mask = top >= self.p.min_excess_db
        half = w // 2
        out: list[SustainedSegment] = []
        for s, e in segments(mask=mask, min_len=1, max_gap=int(self.p.max_gap_s * fr)):
            s0, e0 = max(0, s - half), min(feats.n_frames, e + half)
            if (e0 - s0) / fr < self.p.min_duration_s:
                continue
            ex = excess[s:e].mean(axis=0)
            raised = ex >= self.p.min_excess_db * 0.5
            centres = 0.5 * (feats.band_edges[:-1] + feats.band_edges[1:])
            lin = np.clip(p_stat[s:e].mean(axis=0) - p_floor, 0, None)
            centroid = float((lin * centres).sum() / (lin.sum() + 1e-12))
            tonality, glide = line_glide(power=feats.power[s0:e0], freqs=feats.freqs)
            dom = np.argsort(ex)[-self.p.top_bands :]
            # 50 ms power smoothing first: a band of one or two FFT bins fluctuates a lot
            # even for stationary noise (periodogram variance)
            lin_b = 10.0 ** (feats.band_db[s:e][:, dom] / 10.0)
            lin_b = uniform_filter1d(lin_b, size=5, axis=0, mode="nearest")
            seg_db = 10.0 * np.log10(lin_b + 1e-10)
            lw = max(3, int(0.25 * fr))
            local = rolling_max(x=seg_db, width=lw) - rolling_min(x=seg_db, width=lw)
            fluct = float(np.median(local))
            # onset between s - half and s (speech before the event can lift the running
            # minimum early): see _onset
            a = max(0, s - half - 20)
            b = min(feats.n_frames, s + 20)
            hold = round(self.p.onset_hold_s * fr)
            c = max(b, min(e, s + 2 * w))  # a slow fade-in may reach its level later
            lvl = 10.0 * np.log10(
                uniform_filter1d(
                    10.0 ** (feats.band_db[a : min(feats.n_frames, c + hold)][:, dom] / 10.0),
                    size=5,
                    axis=0,
                    mode="nearest",
                ).mean(axis=1)
                + 1e-10
            )
            if b - a > 12:
                s0 = a + self._onset(
                    lvl=lvl,
                    seg_level=self._level(feats, dom, s, e),
                    n_rise=b - a,
                    n=c - a,
                    hold=hold,
                )
            hi = feats.band_db[s0:e0, feats.band_db.shape[1] // 2 :].mean(axis=1)
            modulation = float(np.median(np.abs(np.diff(hi)))) if hi.size > 2 else 0.0
            out.append(
                SustainedSegment(
                    start_s=feats.t(s0),
                    end_s=feats.t(e0),
                    excess_db=float(top[s:e].mean()),
                    centroid_hz=centroid,
                    tonality_db=tonality,
                    glide=glide,
                    modulation_db=modulation,
                    bands_raised=int(raised.sum()),
                    fluctuation_db=fluct,
                )
            )
        return out

    @staticmethod
    def _level(feats: FrameFeatures, dom: np.ndarray, s: int, e: int) -> float:
        """Median smoothed level (dB) of the dominant bands over the segment."""
        seg = 10.0 ** (feats.band_db[s:e][:, dom] / 10.0)
        sm = uniform_filter1d(seg, size=5, axis=0, mode="nearest").mean(axis=1)
        return float(np.median(10.0 * np.log10(sm + 1e-10)))

    def _onset(self, *, lvl: np.ndarray, seg_level: float, n_rise: int, n: int, hold: int) -> int:
        """Onset (frame index into ``lvl``, among its first ``n``) from the smoothed
        dominant-band level ``lvl``: the first frame from which the level stays within
        ``onset_within_db`` of ``seg_level`` for ``hold`` frames (a speech syllable rises and
        falls back; an engine that fades in stays); else, or with ``hold`` 0, the steepest
        100 ms rise among the first ``n_rise`` frames."""
        jump = lvl[10:n_rise] - lvl[: n_rise - 10]
        steepest = 10 + int(np.argmax(jump)) - 5
        if hold <= 0:
            return steepest
        ahead = rolling_min(x=lvl, width=2 * hold + 1)  # centred: index i + hold looks ahead
        look = ahead[hold : hold + n] if ahead.size >= hold + n else ahead[hold:]
        ok = np.nonzero(look >= seg_level - self.p.onset_within_db)[0]
        return int(ok[0]) if ok.size else steepest

    def classify(self, seg: SustainedSegment) -> str | None:
        """The label of a segment, or None when it fluctuates like speech or a burst."""
        p = self.p
        if seg.fluctuation_db > p.max_fluctuation_db:
            return None
        if (
            seg.modulation_db >= p.crowd_min_modulation_db
            and seg.centroid_hz >= p.crowd_min_centroid_hz
        ):
            return "crowd"
        if abs(seg.glide) >= p.aircraft_min_glide:
            return "aircraft"
        if p.aircraft_min_centroid_hz <= seg.centroid_hz <= p.aircraft_max_centroid_hz:
            return "aircraft"
        return "vehicle"

    def detect(self, *, feats: FrameFeatures) -> list[DetectedEvent]:
        events = []
        for seg in self.segments(feats=feats):
            label = self.classify(seg)
            if label is None:
                continue
            score = float(1.0 / (1.0 + np.exp(-(seg.excess_db - self.p.min_excess_db) / 3.0)))
            events.append(
                DetectedEvent(
                    label=label,
                    start_s=seg.start_s,
                    end_s=seg.end_s,
                    score=score,
                    detector=self.name,
                    layer=self.layer,
                    details={
                        "excess_db": round(seg.excess_db, 1),
                        "centroid_hz": round(seg.centroid_hz, 1),
                        "tonality_db": round(seg.tonality_db, 1),
                        "doppler_glide": round(seg.glide, 4),
                        "modulation_db": round(seg.modulation_db, 2),
                        "bands_raised": seg.bands_raised,
                        "fluctuation_db": round(seg.fluctuation_db, 1),
                    },
                )
            )
        return events
