"""Container and stream probe: what the file says about itself, before any decoding."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

from earwitness.decode.limits import Limits
from earwitness.errors import InputError


@dataclass(frozen=True)
class StreamInfo:
    """One stream of a container, as declared in its headers."""

    index: int
    type: str
    codec: str
    codec_long: str
    sample_rate: int | None
    channels: int | None
    channel_layout: str | None
    bit_rate: int | None
    duration_s: float | None
    start_time_s: float | None
    frame_size: int | None
    tags: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ProbeInfo:
    """The container-level description of a file: format, duration, tags, streams.

    ``audio_stream`` is the index (within ``streams``) of the audio stream analysed: the
    first one. Other audio streams are listed and recorded, not analysed.
    """

    path: str
    size: int
    format: str
    format_long: str
    duration_s: float | None
    bit_rate: int | None
    start_time_s: float | None
    tags: dict[str, str]
    streams: tuple[StreamInfo, ...]
    audio_stream: int

    @property
    def audio(self) -> StreamInfo:
        return self.streams[self.audio_stream]

    @property
    def audio_streams(self) -> tuple[StreamInfo, ...]:
        return tuple(s for s in self.streams if s.type == "audio")

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["streams"] = [asdict(s) for s in self.streams]
        return d


def _seconds(value: int | None, time_base: Fraction | None) -> float | None:
    if value is None or time_base is None:
        return None
    return float(value * time_base)


def _tags(metadata: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in dict(metadata or {}).items()}


def probe(path: str | Path, limits: Limits | None = None) -> ProbeInfo:
    """Open ``path`` with FFmpeg and describe it, or raise :class:`InputError` saying why not."""
    limits = limits or Limits()
    p = Path(path)
    try:
        size = os.stat(p).st_size
    except OSError as exc:
        raise InputError(p, f"cannot read file ({exc.strerror})") from exc
    if not p.is_file():
        raise InputError(p, "not a regular file")
    if size == 0:
        raise InputError(p, "file is empty (0 bytes)")
    if size > limits.max_bytes:
        raise InputError(p, f"file is {size} bytes, over the limit of {limits.max_bytes} bytes")
    try:
        container = av.open(str(p), mode="r")
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        raise InputError(p, f"not a readable audio/video container ({exc})") from exc
    try:
        streams: list[StreamInfo] = []
        for s in container.streams:
            ctx = s.codec_context
            is_audio = s.type == "audio"
            streams.append(
                StreamInfo(
                    index=s.index,
                    type=str(s.type),
                    codec=ctx.name if ctx is not None else "unknown",
                    codec_long=(ctx.codec.long_name if ctx is not None else "") or "",
                    sample_rate=int(ctx.sample_rate) if is_audio and ctx.sample_rate else None,
                    channels=int(ctx.channels) if is_audio and ctx.channels else None,
                    channel_layout=(ctx.layout.name if is_audio and ctx.layout else None),
                    bit_rate=int(s.bit_rate or ctx.bit_rate or 0) or None if ctx else None,
                    duration_s=_seconds(s.duration, s.time_base),
                    start_time_s=_seconds(s.start_time, s.time_base),
                    frame_size=int(ctx.frame_size) if is_audio and ctx.frame_size else None,
                    tags=_tags(s.metadata),
                )
            )
        audio_positions = [i for i, s in enumerate(streams) if s.type == "audio"]
        if not audio_positions:
            raise InputError(p, "no audio stream in the container")
        first = streams[audio_positions[0]]
        if not first.sample_rate:
            raise InputError(p, "audio stream declares no sample rate")
        if not (limits.min_sample_rate <= first.sample_rate <= limits.max_sample_rate):
            raise InputError(
                p,
                f"sample rate {first.sample_rate} Hz is outside the accepted range "
                f"{limits.min_sample_rate}-{limits.max_sample_rate} Hz",
            )
        duration = float(container.duration) / av.time_base if container.duration else None
        if duration is not None and duration > limits.max_duration_s:
            raise InputError(
                p,
                f"declared duration {duration:.0f} s is over the limit of "
                f"{limits.max_duration_s:.0f} s",
            )
        return ProbeInfo(
            path=str(p),
            size=size,
            format=container.format.name,
            format_long=container.format.long_name or "",
            duration_s=duration,
            bit_rate=int(container.bit_rate) if container.bit_rate else None,
            start_time_s=(
                float(container.start_time) / av.time_base
                if container.start_time not in (None, av.time_base * 0 - 1)
                else None
            ),
            tags=_tags(container.metadata),
            streams=tuple(streams),
            audio_stream=audio_positions[0],
        )
    finally:
        container.close()
