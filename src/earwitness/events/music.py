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

import itertools
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

import numpy as np

from earwitness.events.base import DetectedEvent
from earwitness.events.features import FrameFeatures, segments

DECIMATE = 3


@dataclass(frozen=True)
class MusicParams:
    """Thresholds of the music/chant detector (calibrated)."""

    fmin: float = 80.0
    fmax: float = 800.0
    min_voicing: float = 0.45
    hold_s: float = 0.1
    max_semitones: float = 0.5
    window_s: float = 3.0
    min_held_share: float = 0.1
    min_duration_s: float = 1.5
    min_pitch_spread: float = 2.5  # semitones between the 10th and 90th percentile notes
    min_note_changes: int = 3  # held runs whose pitch differs from the previous run by >= 1


def pitch_track(
    *, power: np.ndarray, sr: int, fmin: float, fmax: float
) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame pitch (Hz) and voicing strength in [0, 1] from the normalised autocorrelation
    of each frame (inverse FFT of its power spectrum; Rabiner 1977)."""
    from scipy import fft as sfft

    acf = sfft.irfft(power, axis=1)
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


def note_changes(*, held: np.ndarray, semis: np.ndarray, min_step: float = 1.0) -> int:
    """Number of times a run of held frames sits at least ``min_step`` semitones from the
    previous run: sung notes step, engine glides do not."""
    runs = segments(mask=held, min_len=2, max_gap=0)
    pitches = [float(np.median(semis[a:b])) for a, b in runs]
    return sum(1 for p, q in itertools.pairwise(pitches) if abs(q - p) >= min_step)


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
        return self.held(feats=feats)[0]

    def held(self, *, feats: FrameFeatures) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Share of held-pitch frames around each frame, the held mask and the pitch in
        semitones, per frame. Pitch is estimated on every ``DECIMATE``-th frame (30 ms), ample
        for notes held 100 ms or more."""
        dec = DECIMATE
        f0, voicing = pitch_track(
            power=feats.power[::dec], sr=feats.sr, fmin=self.p.fmin, fmax=self.p.fmax
        )
        fr = feats.frame_rate / dec
        k = max(1, round(self.p.hold_s * fr))
        semis = 12.0 * np.log2(f0)
        n = f0.size
        held = np.zeros(n, dtype=bool)
        if n > 2 * k:
            vmin = self.p.min_voicing
            v = (voicing[k:-k] >= vmin) & (voicing[: -2 * k] >= vmin) & (voicing[2 * k :] >= vmin)
            d_prev = np.abs(semis[k:-k] - semis[: -2 * k])
            d_next = np.abs(semis[k:-k] - semis[2 * k :])
            held[k:-k] = v & (d_prev <= self.p.max_semitones) & (d_next <= self.p.max_semitones)
        w = max(1, int(self.p.window_s * fr))
        share = np.convolve(held.astype(np.float64), np.ones(w) / w, mode="same")
        n_out = feats.n_frames
        return (
            np.asarray(np.repeat(share, dec)[:n_out]),
            np.repeat(held, dec)[:n_out],
            np.repeat(semis, dec)[:n_out],
        )

    def detect(self, *, feats: FrameFeatures) -> list[DetectedEvent]:
        share, held, semis = self.held(feats=feats)
        fr = feats.frame_rate
        out = []
        for s, e in segments(
            mask=share >= self.p.min_held_share,
            min_len=int(self.p.min_duration_s * fr),
            max_gap=int(0.5 * fr),
        ):
            notes = semis[s:e][held[s:e]]
            spread = (
                float(np.percentile(notes, 90) - np.percentile(notes, 10)) if notes.size else 0.0
            )
            if spread < self.p.min_pitch_spread:  # one held pitch is an engine, not a tune
                continue
            changes = note_changes(held=held[s:e], semis=semis[s:e])
            if changes < self.p.min_note_changes:  # a continuous glide is a fly-by, not a tune
                continue
            hs = np.nonzero(held[s:e])[0]
            if hs.size:  # the window smears the edges: start at the first held note
                s, e = s + int(hs[0]), s + int(hs[-1]) + 1
            peak = float(share[s:e].max())
            out.append(
                DetectedEvent(
                    label="music",
                    start_s=feats.t(s),
                    end_s=feats.t(e),
                    score=float(min(1.0, peak / max(self.p.min_held_share, 1e-6) / 2.0)),
                    detector=self.name,
                    layer=self.layer,
                    details={
                        "held_pitch_share": round(peak, 3),
                        "pitch_spread_semitones": round(spread, 2),
                        "note_changes": changes,
                    },
                )
            )
        return out
