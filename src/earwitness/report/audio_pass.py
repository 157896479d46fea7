"""One streaming pass over the decoded recording for the HTML report.

It computes, in bounded memory whatever the length: the waveform envelope (min/max per pixel
column), a spectrogram averaged into at most ``spec_columns`` time columns, the short clips the
per-finding figures need, and the compressed listening copy for the embedded player.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from earwitness.report.player import ListeningCopyEncoder, PlayerOptions, choose_kbps

Window = tuple[float, float]


@dataclass(frozen=True)
class FigureOptions:
    """Resolution of the report's pictures (recorded in the HTML's methods section).

    ``sr``: analysis rate of the pictures. ``width_px``: waveform columns. ``spec_columns``:
    most spectrogram time columns (long files are averaged down). ``n_fft``: STFT size (hop
    is half). ``max_finding_figures``: per-finding pictures drawn at most. ``context_s``: the
    context around an instant (edit point). ``max_clip_s``: longest span drawn for a finding.
    """

    sr: int = 16000
    width_px: int = 1200
    spec_columns: int = 1200
    n_fft: int = 512
    max_finding_figures: int = 24
    context_s: float = 1.0
    max_clip_s: float = 30.0


@dataclass
class AudioDigest:
    """What the pass produced. ``spec_db`` is ``(n_fft//2+1, columns)`` in dB."""

    sr: int
    duration_s: float
    env_min: np.ndarray
    env_max: np.ndarray
    spec_db: np.ndarray
    clips: dict[Window, np.ndarray] = field(default_factory=dict)
    player: bytes | None = None
    player_kbps: int | None = None


class _Accumulator:
    def __init__(self, *, total: int, opts: FigureOptions, windows: Sequence[Window]) -> None:
        self.opts = opts
        self.total = max(total, 1)
        self.width = max(1, min(opts.width_px, self.total))
        self.env_min = np.zeros(self.width, dtype=np.float32)
        self.env_max = np.zeros(self.width, dtype=np.float32)
        self.hop = opts.n_fft // 2
        n_frames = max(1, (self.total - opts.n_fft) // self.hop + 1)
        self.cols = max(1, min(opts.spec_columns, n_frames))
        self.spec = np.zeros((opts.n_fft // 2 + 1, self.cols), dtype=np.float64)
        self.counts = np.zeros(self.cols, dtype=np.int64)
        self.win = np.hanning(opts.n_fft).astype(np.float32)
        self.pos = 0  # samples consumed
        self.tail = np.zeros(0, dtype=np.float32)  # samples not yet in a full frame
        self.tail_start = 0  # global index of tail[0]
        self.clips = {
            w: np.zeros(max(1, round((w[1] - w[0]) * opts.sr)), dtype=np.float32) for w in windows
        }

    def feed(self, x: np.ndarray) -> None:
        n = x.shape[0]
        if n == 0:
            return
        start = self.pos
        self.pos += n
        self._envelope(x, start)
        self._clips(x, start)
        buf = np.concatenate([self.tail, x])
        nf = (
            (buf.shape[0] - self.opts.n_fft) // self.hop + 1
            if buf.shape[0] >= self.opts.n_fft
            else 0
        )
        if nf > 0:
            frames = sliding_window_view(buf, self.opts.n_fft)[:: self.hop][:nf]
            power = np.abs(np.fft.rfft(frames * self.win, axis=1)) ** 2
            centres = self.tail_start + np.arange(nf) * self.hop + self.opts.n_fft // 2
            cols = np.minimum(self.cols - 1, centres * self.cols // self.total)
            starts = np.flatnonzero(np.r_[True, np.diff(cols) > 0])
            self.spec[:, cols[starts]] += np.add.reduceat(power, starts, axis=0).T
            self.counts[cols[starts]] += np.diff(np.r_[starts, nf])
            consumed = nf * self.hop
            self.tail = buf[consumed:]
            self.tail_start += consumed
        else:
            self.tail = buf

    def _envelope(self, x: np.ndarray, start: int) -> None:
        idx = np.arange(start, start + x.shape[0], dtype=np.int64)
        cols = np.minimum(self.width - 1, idx * self.width // self.total)
        starts = np.flatnonzero(np.r_[True, np.diff(cols) > 0])
        c = cols[starts]
        self.env_min[c] = np.minimum(self.env_min[c], np.minimum.reduceat(x, starts))
        self.env_max[c] = np.maximum(self.env_max[c], np.maximum.reduceat(x, starts))

    def _clips(self, x: np.ndarray, start: int) -> None:
        sr = self.opts.sr
        for (t0, _), clip in self.clips.items():
            c0 = round(t0 * sr)
            a = max(c0, start)
            b = min(c0 + clip.shape[0], start + x.shape[0])
            if b > a:
                clip[a - c0 : b - c0] = x[a - start : b - start]

    def spec_db(self) -> np.ndarray:
        mean = self.spec / np.maximum(self.counts, 1)[None, :]
        return (10.0 * np.log10(mean + 1e-10)).astype(np.float32)


def digest_audio(
    *,
    chunks: Iterable[np.ndarray],
    duration_s: float,
    windows: Sequence[Window] = (),
    opts: FigureOptions | None = None,
    player: PlayerOptions | None = None,
) -> AudioDigest:
    """Consume mono float32 ``chunks`` at ``opts.sr`` once; see the module docstring."""
    opts = opts or FigureOptions()
    total = math.ceil(max(duration_s, 0.0) * opts.sr)
    acc = _Accumulator(total=total, opts=opts, windows=windows)
    kbps = choose_kbps(duration_s=duration_s, options=player) if player is not None else None
    enc = ListeningCopyEncoder(kbps=kbps, options=player) if player and kbps else None
    for chunk in chunks:
        x = np.asarray(chunk, dtype=np.float32).reshape(-1)
        if acc.pos + x.shape[0] > acc.total:  # decoded a little longer than declared
            x = x[: max(0, acc.total - acc.pos)]
        acc.feed(x)
        if enc is not None:
            enc.feed(x)
    return AudioDigest(
        sr=opts.sr,
        duration_s=duration_s,
        env_min=acc.env_min,
        env_max=acc.env_max,
        spec_db=acc.spec_db(),
        clips=acc.clips,
        player=enc.finish() if enc is not None else None,
        player_kbps=kbps if enc is not None else None,
    )
