"""Container and stream probe: what the file says about itself, before any decoding."""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

from earwitness.decode.limits import Limits
from earwitness.decode.timing import TimingPlan, plan_timing
from earwitness.errors import InputError

# Errors PyAV/FFmpeg raise on unreadable input (FFmpegError covers InvalidDataError & co).
OPEN_ERRORS: tuple[type[BaseException], ...] = (
    av.error.FFmpegError,
    UnicodeDecodeError,
    ValueError,
    OSError,
)


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
    width: int | None = None
    height: int | None = None
    profile: str | None = None
    sample_format: str | None = None


@dataclass(frozen=True)
class ProbeInfo:
    """The container-level description of a file: format, duration, tags, streams.

    ``audio_stream`` is the index (within ``streams``) of the audio stream analysed: the
    first one. Other audio streams are listed and recorded, not analysed. ``timing`` says how
    encoder delay and padding of that stream are handled (see :mod:`earwitness.decode.timing`).
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
    timing: TimingPlan | None = None

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


def _stream_info(s: Any) -> StreamInfo:
    ctx = s.codec_context
    is_audio = s.type == "audio"
    is_video = s.type == "video"
    return StreamInfo(
        index=int(s.index),
        type=str(s.type),
        codec=(ctx.name if ctx is not None else None) or "unknown",
        codec_long=(ctx.codec.long_name if ctx is not None and ctx.codec else "") or "",
        sample_rate=int(ctx.sample_rate) if is_audio and ctx.sample_rate else None,
        channels=int(ctx.channels) if is_audio and ctx.channels else None,
        channel_layout=(ctx.layout.name if is_audio and ctx.layout else None),
        bit_rate=(int(s.bit_rate or ctx.bit_rate or 0) or None) if ctx else None,
        duration_s=_seconds(s.duration, s.time_base),
        start_time_s=_seconds(s.start_time, s.time_base),
        frame_size=int(ctx.frame_size) if is_audio and ctx.frame_size else None,
        tags=_tags(s.metadata),
        width=int(ctx.width) if is_video and ctx.width else None,
        height=int(ctx.height) if is_video and ctx.height else None,
        profile=str(ctx.profile) if ctx is not None and ctx.profile else None,
        sample_format=(ctx.format.name if is_audio and ctx.format else None),
    )


def _to_samples(value: int | None, time_base: Fraction | None, sr: int) -> int | None:
    if value is None or time_base is None:
        return None
    return round(value * time_base * sr)


def _timing(container: Any, stream: Any, fmt: str, codec: str, sr: int) -> TimingPlan:
    """Read the first packet of ``stream`` to see whether priming is signalled."""
    first_pts: int | None = None
    try:
        for packet in container.demux(stream):
            if packet.pts is not None:
                first_pts = _to_samples(packet.pts, packet.time_base, sr)
                break
    except OPEN_ERRORS:
        first_pts = None
    start = _to_samples(stream.start_time, stream.time_base, sr) or 0
    declared = _to_samples(stream.duration, stream.time_base, sr)
    return plan_timing(
        format_name=fmt,
        codec=codec,
        sample_rate=sr,
        start_samples=start,
        first_packet_samples=first_pts,
        opus_delay=int(stream.codec_context.delay or 0) if codec == "opus" else 0,
        declared_samples=declared,
    )


def probe(path: str | Path, limits: Limits | None = None) -> ProbeInfo:
    """Open ``path`` with FFmpeg and describe it, or raise :class:`InputError` saying why not.

    Checks: the file exists and is non-empty, is within ``limits.max_bytes``, is a container
    FFmpeg can read, has an audio stream with a decoder, a sample rate and a channel count in
    range, and a declared duration (if any) within ``limits.max_duration_s``.
    """
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
    except OPEN_ERRORS as exc:
        raise InputError(
            p, f"not a readable audio or video file: FFmpeg cannot open it ({exc})"
        ) from exc
    try:
        try:
            streams = [_stream_info(s) for s in container.streams]
        except OPEN_ERRORS as exc:
            raise InputError(p, f"stream headers cannot be read ({exc})") from exc
        audio_positions = [i for i, s in enumerate(streams) if s.type == "audio"]
        if not audio_positions:
            kinds = ", ".join(s.type for s in streams) or "none"
            raise InputError(p, f"no audio stream in the file (streams found: {kinds})")
        first = streams[audio_positions[0]]
        if first.codec == "unknown":
            raise InputError(p, "the audio stream uses a codec FFmpeg cannot decode")
        if not first.sample_rate:
            raise InputError(p, "the audio stream declares no sample rate")
        if not (limits.min_sample_rate <= first.sample_rate <= limits.max_sample_rate):
            raise InputError(
                p,
                f"sample rate {first.sample_rate} Hz is outside the accepted range "
                f"{limits.min_sample_rate}-{limits.max_sample_rate} Hz",
            )
        if not first.channels or first.channels > limits.max_channels:
            raise InputError(
                p,
                f"the audio stream declares {first.channels or 0} channels "
                f"(accepted: 1-{limits.max_channels})",
            )
        duration = float(container.duration) / av.time_base if container.duration else None
        if duration is not None and (not math.isfinite(duration) or duration < 0):
            duration = None
        if duration is not None and duration > limits.max_duration_s:
            raise InputError(
                p,
                f"declared duration {duration:.0f} s is over the limit of "
                f"{limits.max_duration_s:.0f} s",
            )
        astream = container.streams[first.index]
        timing = _timing(container, astream, container.format.name, first.codec, first.sample_rate)
        start = container.start_time
        return ProbeInfo(
            path=str(p),
            size=size,
            format=container.format.name,
            format_long=container.format.long_name or "",
            duration_s=duration,
            bit_rate=int(container.bit_rate) if container.bit_rate else None,
            start_time_s=float(start) / av.time_base if start is not None else None,
            tags=_tags(container.metadata),
            streams=tuple(streams),
            audio_stream=audio_positions[0],
            timing=timing,
        )
    finally:
        container.close()
