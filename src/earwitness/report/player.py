"""The listening copy embedded in ``report.html``: a compressed, mono, low-rate MP3.

It exists so a reader can hear the spans of the findings without any other file. It is NOT
the evidence: the stored original (identified by its SHA-256) is. The bit rate is chosen so
the copy fits a size cap; a recording too long for the cap gets no embedded player.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from fractions import Fraction

import av
import numpy as np

#: MPEG-2 Layer III bit rates (kbit/s) valid at 16/22.05/24 kHz.
MP3_RATES_KBPS = (8, 16, 24, 32, 40, 48, 56, 64)


@dataclass(frozen=True)
class PlayerOptions:
    """``sr``: rate of the listening copy. ``max_kbps``: bit rate for short files.
    ``max_bytes``: size cap of the encoded copy (before base64, which adds a third)."""

    sr: int = 16000
    max_kbps: int = 32
    max_bytes: int = 12 * 1024 * 1024


def choose_kbps(*, duration_s: float, options: PlayerOptions) -> int | None:
    """The largest standard bit rate whose copy of ``duration_s`` fits ``max_bytes``, or None."""
    for kbps in sorted(MP3_RATES_KBPS, reverse=True):
        if kbps <= options.max_kbps and duration_s * kbps * 1000 / 8 <= options.max_bytes:
            return kbps
    return None


class ListeningCopyEncoder:
    """Feed mono float32 blocks at ``options.sr``; :meth:`finish` returns the MP3 bytes."""

    def __init__(self, *, kbps: int, options: PlayerOptions) -> None:
        self.kbps = kbps
        self.sr = options.sr
        self._buf = io.BytesIO()
        self._container = av.open(self._buf, mode="w", format="mp3")
        # LAME quality 9 (fastest): ample for a listening copy, ~1.5x faster than default
        self._stream = self._container.add_stream(
            "libmp3lame", rate=self.sr, options={"compression_level": "9"}
        )
        self._stream.layout = "mono"
        self._stream.bit_rate = kbps * 1000
        self._resampler = av.AudioResampler(
            format=self._stream.codec_context.format or "s16p", layout="mono", rate=self.sr
        )
        self._pts = 0

    def feed(self, block: np.ndarray) -> None:
        x = np.ascontiguousarray(np.clip(block, -1.0, 1.0), dtype=np.float32)[None, :]
        if x.shape[1] == 0:
            return
        frame = av.AudioFrame.from_ndarray(x, format="fltp", layout="mono")
        frame.sample_rate = self.sr
        frame.pts = self._pts
        frame.time_base = Fraction(1, self.sr)
        self._pts += x.shape[1]
        for rf in self._resampler.resample(frame):
            for packet in self._stream.encode(rf):
                self._container.mux(packet)

    def finish(self) -> bytes:
        for rf in self._resampler.resample(None):
            for packet in self._stream.encode(rf):
                self._container.mux(packet)
        for packet in self._stream.encode(None):
            self._container.mux(packet)
        self._container.close()
        return self._buf.getvalue()
