"""Signal features for the speaker embedder: a mel power spectrogram and speech activity.

Both are plain numpy so the core does not depend on librosa; the mel spectrogram reproduces
``librosa.feature.melspectrogram`` with its defaults (Slaney mel scale and area normalisation,
periodic Hann window, centred frames with zero padding), which is what the Resemblyzer encoder
was trained on (the test suite checks the equivalence when librosa happens to be installed).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np


def _hz_to_mel(f: np.ndarray) -> np.ndarray:
    """Slaney's mel scale (linear below 1 kHz, logarithmic above), as in the Auditory Toolbox."""
    f = np.asarray(f, dtype=np.float64)
    f_sp = 200.0 / 3
    mels = f / f_sp
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = np.log(6.4) / 27.0
    return np.where(
        f >= min_log_hz, min_log_mel + np.log(np.maximum(f, 1e-9) / min_log_hz) / logstep, mels
    )


def _mel_to_hz(m: np.ndarray) -> np.ndarray:
    m = np.asarray(m, dtype=np.float64)
    f_sp = 200.0 / 3
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = np.log(6.4) / 27.0
    return np.where(m >= min_log_mel, min_log_hz * np.exp(logstep * (m - min_log_mel)), f_sp * m)


@lru_cache(maxsize=8)
def mel_filterbank(*, sr: int, n_fft: int, n_mels: int) -> np.ndarray:
    """Triangular mel filters with Slaney area normalisation, shape ``(n_mels, n_fft//2+1)``.

    Slaney, M. (1998). Auditory Toolbox, version 2. Interval Research Corporation, TR 1998-010.
    """
    fft_freqs = np.linspace(0.0, sr / 2.0, n_fft // 2 + 1)
    mel_pts = _mel_to_hz(
        np.linspace(_hz_to_mel(np.array(0.0)), _hz_to_mel(np.array(sr / 2.0)), n_mels + 2)
    )
    fdiff = np.diff(mel_pts)
    ramps = mel_pts[:, None] - fft_freqs[None, :]
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    enorm = 2.0 / (mel_pts[2 : n_mels + 2] - mel_pts[:n_mels])
    weights *= enorm[:, None]
    weights.setflags(write=False)
    return weights


def mel_power_spectrogram(
    *, y: np.ndarray, sr: int, n_fft: int, hop: int, n_mels: int
) -> np.ndarray:
    """Mel power spectrogram (not log), frames on rows: shape ``(1 + len(y)//hop, n_mels)``.

    Centred frames (zero padding of ``n_fft//2`` at both ends), periodic Hann window, power 2,
    then the Slaney filterbank of :func:`mel_filterbank` (Slaney 1998). This is the input the
    GE2E encoder of Wan et al. (2018) as trained by Resemblyzer expects.
    """
    y = np.asarray(y, dtype=np.float32)
    pad = n_fft // 2
    yp = np.pad(y, (pad, pad), mode="constant")
    n_frames = 1 + len(y) // hop
    window = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)).astype(np.float32)
    idx = np.arange(n_fft)[None, :] + hop * np.arange(n_frames)[:, None]
    frames = yp[idx] * window[None, :]
    spec = np.abs(np.fft.rfft(frames, n=n_fft, axis=1)) ** 2
    fb = mel_filterbank(sr=sr, n_fft=n_fft, n_mels=n_mels)
    out: np.ndarray = (spec @ fb.T).astype(np.float32)
    return out


@dataclass(frozen=True)
class ActivityParams:
    """Parameters of :func:`speech_activity` (recorded in the stage's provenance)."""

    frame_s: float = 0.03
    floor_percentile: float = 10.0
    above_floor_db: float = 10.0
    below_peak_db: float = 45.0
    min_level_dbfs: float = -60.0
    smooth_frames: int = 5
    bridge_s: float = 0.3
    min_segment_s: float = 0.2


def speech_activity(
    *, y: np.ndarray, sr: int, params: ActivityParams | None = None
) -> list[tuple[float, float]]:
    """Energy-based activity detection: ``[(start_s, end_s), ...]`` of non-silent stretches.

    A frame is active when its level exceeds the noise floor (the ``floor_percentile`` of frame
    levels) plus a margin, the peak level minus ``below_peak_db``, and ``min_level_dbfs``. The
    margin is ``above_floor_db``, capped at half the floor-to-peak spread for clips without
    silence (and dropped when the spread is below the margin: then there is no silence).
    Decisions are smoothed by a moving majority over ``smooth_frames``; gaps shorter than
    ``bridge_s`` are bridged. This is the classical adaptive-threshold energy detector
    (Rabiner & Sambur 1975, "An algorithm for determining the endpoints of isolated
    utterances", Bell System Technical Journal 54(2)); it finds sound, not specifically speech,
    which is why the speech stage's segments are preferred when they exist.
    """
    p = params or ActivityParams()
    y = np.asarray(y, dtype=np.float64)
    n = max(1, round(p.frame_s * sr))
    n_frames = len(y) // n
    if n_frames == 0:
        return []
    frames = y[: n_frames * n].reshape(n_frames, n)
    level = 10 * np.log10(np.mean(frames**2, axis=1) + 1e-12)
    floor = float(np.percentile(level, p.floor_percentile))
    peak = float(np.percentile(level, 99.0))
    # Without real silence (tightly trimmed clips) the floor is quiet speech: cap the margin at
    # half the floor-to-peak spread so the louder half of the dynamic range always counts.
    # A spread below the margin means no silence at all: every frame above the limits counts.
    spread = peak - floor
    margin = min(p.above_floor_db, spread / 2) if spread >= p.above_floor_db else -np.inf
    thr = max(floor + margin, peak - p.below_peak_db, p.min_level_dbfs)
    active = (level > thr).astype(np.float64)
    if p.smooth_frames > 1:
        k = np.ones(p.smooth_frames) / p.smooth_frames
        active = np.convolve(active, k, mode="same")
    mask = active >= 0.5
    segs: list[tuple[float, float]] = []
    start: int | None = None
    for i, on in enumerate(mask):
        if on and start is None:
            start = i
        elif not on and start is not None:
            segs.append((start * p.frame_s, i * p.frame_s))
            start = None
    if start is not None:
        segs.append((start * p.frame_s, n_frames * p.frame_s))
    merged: list[tuple[float, float]] = []
    for s, e in segs:
        if merged and s - merged[-1][1] < p.bridge_s:
            merged[-1] = (merged[-1][0], e)
        else:
            merged.append((s, e))
    return [(s, e) for s, e in merged if e - s >= p.min_segment_s]
