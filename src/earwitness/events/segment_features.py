"""A fixed-length feature vector describing one candidate event segment.

The trained layer (:mod:`earwitness.events.classifier`) classifies the segments proposed by
the DSP detectors from these features. All are computed from the shared
:class:`~earwitness.events.features.FrameFeatures` (32 ms frames, 10 ms hop, 24 mel bands), so
no extra spectral analysis is needed. The names (``FEATURE_NAMES``) are recorded in the model
JSON and checked when it is loaded.

Features (references in brackets):

- *band excess*: mean log-mel band energy over the event window minus the level before the
  event, pooled into 8 band groups, and the spectral tilt of that excess;
- *spectral shape* of the event window: centroid, bandwidth, rolloff (85 %) and flatness
  (Wiener entropy), mean and spread over frames (Peeters 2004, "A large set of audio features
  for sound description", CUIDADO report);
- *onset*: mean band rise at the onset and the share of bands rising ≥ 3 dB, peak over the
  pre-event background (Maher 2006, gunshot onset);
- *decay*: frame level 50, 100, 200, 400 and 800 ms after the peak relative to the peak, and
  the level-weighted decay slope (Maher 2007);
- *duration* (log) and the proposing detector (impulsive / sustained), shot count and the
  regularity of inter-onset intervals (automatic fire, coefficient of variation);
- *low-frequency ratio*: energy share below 120 Hz and below 300 Hz;
- *harmonicity*: peak-to-median ratio of the mean spectrum in 60–1500 Hz (a tonal engine or
  rotor line) and stability of the strongest line over time;
- *modulation spectrum*: energy of the frame-level envelope in 1–4, 4–12, 12–25 and 25–50 Hz
  (rotor blade rates, engine firing, applause; Houtgast & Steeneken 1985 modulation transfer);
- *glide*: slope of the spectral centroid trajectory (Doppler shift of a fly-by) and
  frame-level fluctuation within 250 ms;
- *is this the onset?*: delay from the proposed onset to the loudest frame of the first
  0.6 s, the largest broadband rise (band-wise spectral flux; Bello et al. 2005, "A tutorial
  on onset detection in music signals", IEEE TSAP 13(5)) later in that span relative to the
  rise at the onset, and the level of the onset frame under that peak: a speech onset just
  before a shot has the shot, louder and sharper, a few frames later;
- *crest factor* of the samples over the first 100 ms (peak over RMS; impulses are peaky)
  and the mean positive spectral flux over the window (sustained engines change slowly).
"""

from __future__ import annotations

import numpy as np

from earwitness.events.features import FrameFeatures

GROUPS = 8
FEATURE_NAMES: tuple[str, ...] = (
    *(f"excess_db_g{i}" for i in range(GROUPS)),
    "excess_tilt",
    "centroid_log_mean",
    "centroid_log_std",
    "bandwidth_log_mean",
    "rolloff_log_mean",
    "flatness_mean",
    "flatness_std",
    "onset_rise_db",
    "onset_band_share",
    "peak_over_bg_db",
    "decay_50ms_db",
    "decay_100ms_db",
    "decay_200ms_db",
    "decay_400ms_db",
    "decay_800ms_db",
    "decay_slope_db_s",
    "log_duration_s",
    "proposed_impulsive",
    "proposed_sustained",
    "log_shot_count",
    "interval_cv",
    "vlf_share",
    "lf_share",
    "harmonicity_db",
    "line_stability",
    "mod_1_4",
    "mod_4_12",
    "mod_12_25",
    "mod_25_50",
    "centroid_glide",
    "fluctuation_db",
    "peak_delay_s",
    "later_rise_db",
    "onset_below_peak_db",
    "crest_db",
    "flux_mean_db",
)
N_FEATURES = len(FEATURE_NAMES)
PRE_S = 1.5
MAX_WIN_S = 3.0
MIN_WIN_S = 0.6


def _spectral_shape(power: np.ndarray, freqs: np.ndarray) -> np.ndarray:
    """Per-frame centroid, bandwidth, 85 % rolloff (Hz) and flatness of ``power``."""
    p = power.astype(np.float64) + 1e-12
    tot = p.sum(axis=1)
    cen = (p @ freqs) / tot
    bw = np.sqrt(np.maximum((p @ freqs**2) / tot - cen**2, 0.0))
    cum = np.cumsum(p, axis=1)
    roll = freqs[np.minimum(np.argmax(cum >= 0.85 * tot[:, None], axis=1), freqs.size - 1)]
    flat = np.exp(np.mean(np.log(p), axis=1)) / np.mean(p, axis=1)
    return np.stack([cen, bw, roll, flat], axis=1)


def _flux(band: np.ndarray) -> np.ndarray:
    """Per frame: mean positive rise (dB) of the band levels over the maximum of the frames
    20–50 ms before (band-wise spectral flux; Bello et al. 2005)."""
    n = band.shape[0]
    prev = np.full_like(band, -np.inf)
    for lag in range(2, 6):
        prev[lag:] = np.maximum(prev[lag:], band[:-lag])
    prev[: min(n, 5)] = band[: min(n, 5)]
    return np.asarray(np.mean(np.maximum(band - prev, 0.0), axis=1))


def segment_features(
    *,
    feats: FrameFeatures,
    start_s: float,
    end_s: float,
    source: str,
    shot_times_s: list[float] | None = None,
) -> np.ndarray:
    """The ``N_FEATURES`` features of the event starting at ``start_s`` and ending at
    ``end_s`` (the window analysed is 0.6–3 s from the onset), proposed by ``source``
    (``"impulsive"``, ``"sustained"`` or ``"novelty"``). Always finite."""
    fr = feats.frame_rate
    n = feats.n_frames
    a = int(np.clip(round(start_s * fr), 0, max(n - 1, 0)))
    dur = max(0.0, end_s - start_s)
    b = int(np.clip(a + round(min(max(dur, MIN_WIN_S), MAX_WIN_S) * fr), a + 1, n))
    p0 = max(0, a - int(PRE_S * fr))
    pre_end = max(p0, a - 3)
    # only the frames this proposal reads (pre-event level, window, 1 s of decay), in float64
    w0 = max(0, p0 - 5)
    w1 = min(n, max(b + int(0.25 * fr), a + int(1.0 * fr) + 5) + 1)
    band = feats.band_db[w0:w1].astype(np.float64)
    fdb = feats.frame_db[w0:w1].astype(np.float64)
    a, b, p0, pre_end, n = a - w0, b - w0, p0 - w0, pre_end - w0, w1 - w0
    pre = band[p0:pre_end] if pre_end - p0 >= 5 else band[max(0, a - 5) : a + 1]
    if pre.size == 0:
        pre = band[a : a + 1]
    bg = np.median(pre, axis=0)
    win = band[a:b]
    excess = np.mean(win, axis=0) - bg
    groups = np.array_split(excess, GROUPS)
    if source not in ("impulsive", "sustained", "novelty"):
        raise ValueError(f"unknown proposal source {source!r}")
    ex_g = np.array([float(np.mean(g)) for g in groups])
    tilt = float(np.polyfit(np.arange(excess.size), excess, 1)[0])

    power = feats.power[a + w0 : b + w0]
    shape = _spectral_shape(power, feats.freqs)
    log_c = np.log(shape[:, 0] + 1.0)
    cen_mean, cen_std = float(np.mean(log_c)), float(np.std(log_c))
    bw_mean = float(np.mean(np.log(shape[:, 1] + 1.0)))
    roll_mean = float(np.mean(np.log(shape[:, 2] + 1.0)))
    flat_mean, flat_std = float(np.mean(shape[:, 3])), float(np.std(shape[:, 3]))

    k = min(n - 1, a + 3)
    rise = band[a : k + 1].max(axis=0) - bg
    onset_rise = float(np.mean(np.maximum(rise, 0.0)))
    onset_share = float(np.mean(rise >= 3.0))
    pk = a + int(np.argmax(fdb[a : min(n, a + int(0.15 * fr) + 1)]))
    bg_frame = float(np.median(fdb[p0:pre_end])) if pre_end - p0 >= 5 else float(fdb[a])
    peak_over = float(fdb[pk] - bg_frame)
    decays = []
    for ms in (50, 100, 200, 400, 800):
        j = min(n - 1, pk + int(ms / 1000 * fr))
        decays.append(float(np.mean(fdb[j : j + 3]) - fdb[pk]))
    seg = fdb[pk : min(n, pk + int(0.8 * fr))]
    if seg.size >= 3:
        w = np.maximum(seg - seg.min(), 1e-3)
        slope = float(np.polyfit(np.arange(seg.size) / fr, seg, 1, w=w)[0])
    else:
        slope = 0.0

    times = list(shot_times_s or [])
    iv = np.diff(np.asarray(times, dtype=np.float64)) if len(times) > 1 else np.zeros(0)
    interval_cv = float(np.std(iv) / (np.mean(iv) + 1e-6)) if iv.size else 1.0

    fq = feats.freqs
    pm = power.astype(np.float64).mean(axis=0) + 1e-12
    tot = float(pm.sum())
    vlf = float(pm[fq < 120.0].sum() / tot)
    lf = float(pm[fq < 300.0].sum() / tot)
    sel = (fq >= 60.0) & (fq <= 1500.0)
    harm = float(10.0 * np.log10(pm[sel].max() / np.median(pm[sel])))
    lines = np.argmax(power[:, sel], axis=1)
    line_stab = float(np.mean(np.abs(np.diff(lines)) <= 1)) if lines.size > 1 else 0.0

    env = fdb[a:b] - np.mean(fdb[a:b])
    mods = [0.0, 0.0, 0.0, 0.0]
    if env.size >= 16:
        spec = np.abs(np.fft.rfft(env * np.hanning(env.size))) ** 2
        mf = np.fft.rfftfreq(env.size, 1.0 / fr)
        total = float(spec[mf >= 1.0].sum()) + 1e-9
        for i, (lo, hi) in enumerate(((1, 4), (4, 12), (12, 25), (25, 50.1))):
            mods[i] = float(spec[(mf >= lo) & (mf < hi)].sum() / total)
    glide = float(np.polyfit(np.arange(log_c.size) / fr, log_c, 1)[0]) if log_c.size > 2 else 0.0
    q = max(1, int(0.25 * fr))
    chunks = [fdb[i : i + q] for i in range(a, b, q) if b - i >= q // 2]
    fluct = float(np.mean([np.ptp(c) for c in chunks])) if chunks else 0.0

    # is the proposed frame the event's onset, or does a stronger onset follow?
    c = min(n, a + int(MIN_WIN_S * fr))
    pk6 = a + int(np.argmax(fdb[a:c])) if c > a else a
    peak_delay = (pk6 - a) / fr
    f0 = max(0, a - 5)
    flux = _flux(band[f0:c])
    at = a - f0
    rise_at = float(flux[at : at + 3].max()) if flux.size > at else 0.0
    later = flux[at + 5 :]
    later_rise = float(later.max()) - rise_at if later.size else 0.0
    onset_below = float(fdb[pk6] - fdb[a])
    s0 = int((a + w0) * feats.hop)
    s1 = int(min(feats.y.size, (a + w0 + int(0.1 * fr)) * feats.hop))
    seg_y = np.asarray(feats.y[s0:s1], dtype=np.float64)
    crest = (
        float(20.0 * np.log10((np.max(np.abs(seg_y)) + 1e-9) / (np.sqrt(np.mean(seg_y**2)) + 1e-9)))
        if seg_y.size
        else 0.0
    )
    flux_mean = float(np.mean(_flux(band[a:b])[1:])) if b - a > 2 else 0.0

    vec = np.array(
        [
            *ex_g,
            tilt,
            cen_mean,
            cen_std,
            bw_mean,
            roll_mean,
            flat_mean,
            flat_std,
            onset_rise,
            onset_share,
            peak_over,
            *decays,
            slope,
            float(np.log(dur + 0.05)),
            float(source == "impulsive"),
            float(source == "sustained"),
            float(np.log(max(1, len(times)))),
            interval_cv,
            vlf,
            lf,
            harm,
            line_stab,
            *mods,
            glide,
            fluct,
            peak_delay,
            later_rise,
            onset_below,
            crest,
            flux_mean,
        ],
        dtype=np.float64,
    )
    return np.nan_to_num(vec, nan=0.0, posinf=0.0, neginf=0.0)
