"""Chunked decoding to float32 at the rate a stage asks for.

Times are counted from the first *presented* sample: FFmpeg applies the encoder delay and
padding recorded in the stream (LAME/Xing gapless info for MP3, the edit list and priming
for AAC in MP4), so sample ``n`` of the output is at ``n / sr`` seconds of the recording as a
listener hears it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from earwitness.decode.limits import Limits
from earwitness.decode.probe import probe
from earwitness.errors import InputError


@dataclass(frozen=True)
class Audio:
    """Decoded samples: shape ``(n,)`` when mono, ``(channels, n)`` otherwise."""

    samples: np.ndarray
    sr: int
    source: str

    @property
    def duration_s(self) -> float:
        return float(self.samples.shape[-1]) / self.sr

    @property
    def channels(self) -> int:
        return 1 if self.samples.ndim == 1 else int(self.samples.shape[0])


def iter_audio(
    path: str | Path,
    *,
    sr: int | None = None,
    mono: bool = True,
    chunk_s: float = 30.0,
    limits: Limits | None = None,
) -> Iterator[np.ndarray]:
    """Yield float32 chunks of about ``chunk_s`` seconds from the first audio stream.

    ``sr=None`` keeps the native rate. Mono chunks have shape ``(n,)``; otherwise
    ``(channels, n)``. Raises :class:`InputError` (naming the file) on a decode failure, a
    file that decodes to nothing, or one whose decoded size breaks ``limits``.
    """
    limits = limits or Limits()
    info = probe(path, limits)
    target_sr = int(sr or info.audio.sample_rate or 0)
    layout = "mono" if mono else None
    budget = info.size * limits.max_expansion + limits.expansion_slack_bytes
    max_samples = int(limits.max_duration_s * target_sr)
    chunk_n = max(1, int(chunk_s * target_sr))
    produced = 0
    pending: list[np.ndarray] = []
    pending_n = 0
    try:
        container = av.open(str(path))
    except av.error.FFmpegError as exc:
        raise InputError(path, f"cannot open for decoding ({exc})") from exc
    try:
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="fltp", layout=layout, rate=target_sr)

        def frames() -> Iterator[av.AudioFrame]:
            for packet in container.demux(stream):
                yield from packet.decode()
            yield None  # type: ignore[misc]  # flush marker

        for frame in frames():
            outs = resampler.resample(frame)
            for out in outs:
                arr = out.to_ndarray().astype(np.float32, copy=False)
                if not np.all(np.isfinite(arr)):
                    arr = np.nan_to_num(arr, nan=0.0, posinf=0.0, neginf=0.0)
                pending.append(arr)
                pending_n += arr.shape[1]
                produced += arr.shape[1]
                if produced > max_samples:
                    raise InputError(
                        path,
                        f"decodes to more than the duration limit of "
                        f"{limits.max_duration_s:.0f} s",
                    )
                if produced * arr.shape[0] * 4 > budget:
                    raise InputError(
                        path,
                        f"decodes to far more audio than its size ({info.size} bytes) "
                        "suggests; refusing it as a possible decompression bomb",
                    )
                while pending_n >= chunk_n:
                    block = np.concatenate(pending, axis=1)
                    yield block[0, :chunk_n] if mono else block[:, :chunk_n]
                    rest = block[:, chunk_n:]
                    pending = [rest] if rest.shape[1] else []
                    pending_n = rest.shape[1]
    except av.error.FFmpegError as exc:
        if produced == 0:
            raise InputError(path, f"audio stream cannot be decoded ({exc})") from exc
        # A truncated tail: keep what decoded; the metadata stage reports the shortfall.
    finally:
        container.close()
    if pending_n:
        block = np.concatenate(pending, axis=1)
        yield block[0] if mono else block
    if produced == 0:
        raise InputError(path, "audio stream decodes to zero samples")


def load_audio(
    path: str | Path,
    *,
    sr: int | None = None,
    mono: bool = True,
    limits: Limits | None = None,
) -> Audio:
    """Decode the whole first audio stream of ``path`` (see :func:`iter_audio`)."""
    limits = limits or Limits()
    info = probe(path, limits)
    target_sr = int(sr or info.audio.sample_rate or 0)
    chunks = list(iter_audio(path, sr=target_sr, mono=mono, limits=limits))
    samples = np.concatenate(chunks, axis=-1) if len(chunks) > 1 else chunks[0]
    return Audio(samples=np.ascontiguousarray(samples, dtype=np.float32), sr=target_sr,
                 source=str(path))
