"""DSP detector of music, including a-cappella chant (nasheed).

Method. Sung or played notes hold a stable pitch for hundreds of milliseconds; speech pitch
glides continuously and voiced stretches are short (Scheirer & Slaney, "Construction and
evaluation of a robust multifeature speech/music discriminator", ICASSP 1997). Per 10 ms
frame we estimate the pitch and voicing strength from the normalised autocorrelation (computed
as the inverse FFT of the frame's power spectrum, Wiener–Khinchin; Rabiner 1977, "On the use
of autocorrelation analysis for pitch detection"). A frame is *held* when it is voiced and its
pitch is within ``max_semitones`` of the pitch ``hold_s`` earlier and later. Music is reported
where the share of held frames over a ``window_s`` window reaches ``min_held_share`` for at
least ``min_duration_s``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

import numpy as np

from earwitness.events.base import DetectedEvent
from earwitness.events.features import FrameFeatures, segments


@dataclass(frozen=True)
class MusicParams:
    """Thresholds of the music/chant detector (calibrated)."""

    fmin: float = 80.0
    fmax: float = 800.0
    min_voicing: float = 0.5
    hold_s: float = 0.1
    max_semitones: float = 0.5
    window_s: float = 3.0
    min_held_share: float = 0.1
    min_duration_s: float = 1.5


def pitch_track(
    *, power: np.ndarray, sr: int, fmin: float, fmax: float
) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame pitch (Hz) and voicing strength in [0, 1] from the normalised autocorrelation
    of each frame (inverse FFT of its power spectrum; Rabiner 1977)."""
    acf = np.fft.irfft(power, axis=1)
    n_fft = acf.shape[1]
    lo = max(2, int(sr / fmax))
    hi = min(n_fft // 2 - 1, int(sr / fmin))
    norm = acf[:, :1] + 1e-20
    # compensate the bias of the windowed autocorrelation: divide by the window's own ACF
    win = np.hanning(n_fft)
    wacf = np.correlate(win, win, mode="full")[n_fft - 1 :]
    r = acf[:, lo:hi] / norm / (wacf[lo:hi] / wacf[0])
    k = np.argmax(r, axis=1)
    strength = np.clip(r[np.arange(r.shape[0]), k], 0.0, 1.0)
    return sr / (k + lo).astype(np.float64), strength


class MusicDetector:
    """Music and a-cappella chant from held pitches."""

    name: ClassVar[str] = "dsp_music"
    layer: ClassVar[str] = "dsp"
    labels: ClassVar[tuple[str, ...]] = ("music",)

    def __init__(self, params: MusicParams | None = None) -> None:
        self.p = params or MusicParams()

    def params(self) -> Mapping[str, Any]:
        return asdict(self.p)

    def held_share(self, *, feats: FrameFeatures) -> np.ndarray:
        f0, voicing = pitch_track(
            power=feats.power, sr=feats.sr, fmin=self.p.fmin, fmax=self.p.fmax
        )
        fr = feats.frame_rate
        k = max(1, int(self.p.hold_s * fr))
        semis = 12.0 * np.log2(f0)
        n = f0.size
        held = np.zeros(n, dtype=bool)
        if n > 2 * k:
            d_prev = np.abs(semis[k:-k] - semis[: -2 * k])
            d_next = np.abs(semis[k:-k] - semis[2 * k :])
            v = (
                (voicing[k:-k] >= self.p.min_voicing)
                & (voicing[: -2 * k] >= self.p.min_voicing)
                & (voicing[2 * k :] >= self.p.min_voicing)
            )
            held[k:-k] = v & (d_prev <= self.p.max_semitones) & (d_next <= self.p.max_semitones)
        w = max(1, int(self.p.window_s * fr))
        share = np.convolve(held.astype(np.float64), np.ones(w) / w, mode="same")
        return np.asarray(share)

    def detect(self, *, feats: FrameFeatures) -> list[DetectedEvent]:
        share = self.held_share(feats=feats)
        fr = feats.frame_rate
        out = []
        for s, e in segments(
            mask=share >= self.p.min_held_share,
            min_len=int(self.p.min_duration_s * fr),
            max_gap=int(0.5 * fr),
        ):
            peak = float(share[s:e].max())
            out.append(
                DetectedEvent(
                    label="music",
                    start_s=feats.t(s),
                    end_s=feats.t(e),
                    score=float(min(1.0, peak / max(self.p.min_held_share, 1e-6) / 2.0)),
                    detector=self.name,
                    layer=self.layer,
                    details={"held_pitch_share": round(peak, 3)},
                )
            )
        return out
