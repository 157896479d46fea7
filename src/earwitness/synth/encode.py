"""Write float audio to a file with one of FFmpeg's encoders, through PyAV.

:func:`encode_file` writes one audio stream; :func:`encode_av_file` writes a container with
several audio tracks and, optionally, a still-image video stream (the shape of a typical
"statement" video: one picture, one voice track), so tests can build every input the decoder
must handle without a system ffmpeg.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np

# container format, codec, sample format per common short name
_CODECS: dict[str, tuple[str, str, str]] = {
    "wav": ("wav", "pcm_s16le", "s16"),
    "flac": ("flac", "flac", "s16"),
    "mp3": ("mp3", "libmp3lame", "fltp"),
    "ogg": ("ogg", "libopus", "flt"),
    "opus": ("ogg", "libopus", "flt"),
    # FFmpeg's native Vorbis encoder (libvorbis is not in PyAV's wheels): experimental, stereo
    "vorbis": ("ogg", "vorbis", "fltp"),
    "m4a": ("mp4", "aac", "fltp"),
    "mp4": ("mp4", "aac", "fltp"),
    "aac": ("adts", "aac", "fltp"),
    "amr": ("amr", "libopencore_amrnb", "s16"),
    "webm": ("webm", "libopus", "flt"),
    "mkv": ("matroska", "libopus", "flt"),
}

_OPUS_RATES = (8000, 12000, 16000, 24000, 48000)


def _prepare(
    key: str, samples: np.ndarray, sr: int, out_sr: int | None, bitrate: int | None
) -> tuple[str, np.ndarray, int, int | None, str]:
    """Codec name, (channels, n) float32 block, output rate, bitrate and layout for ``key``."""
    if key not in _CODECS:
        raise ValueError(f"unknown codec {key!r}; known: {sorted(_CODECS)}")
    _, codec_name, _ = _CODECS[key]
    x = np.asarray(samples, dtype=np.float32)
    if x.ndim == 1:
        x = x[None, :]
    if codec_name == "libopencore_amrnb":
        x = x[:1]
        out_sr = 8000
        bitrate = bitrate or 12200
    if codec_name == "vorbis" and x.shape[0] == 1:
        x = np.repeat(x, 2, axis=0)  # the native encoder only writes stereo
    rate = out_sr or sr
    if codec_name == "libopus" and rate not in _OPUS_RATES:
        rate = 48000
    layout = "mono" if x.shape[0] == 1 else "stereo"
    return codec_name, x[:2], rate, bitrate, layout


def _add_audio_stream(
    container: Any, codec_name: str, rate: int, layout: str, bitrate: int | None
) -> Any:
    stream = container.add_stream(codec_name, rate=rate)
    stream.layout = layout
    if bitrate:
        stream.bit_rate = bitrate
    if codec_name == "vorbis":
        stream.codec_context.options = {"strict": "experimental"}
    return stream


def _audio_packets(stream: Any, x: np.ndarray, sr: int, rate: int, layout: str) -> Iterator[Any]:
    """Encode ``x`` (at ``sr``) through ``stream`` (at ``rate``), yielding packets."""
    resampler = av.AudioResampler(
        format=stream.codec_context.format or "fltp", layout=layout, rate=rate
    )
    hop = 4096
    for i in range(0, x.shape[1], hop):
        block = np.ascontiguousarray(np.clip(x[:, i : i + hop], -1, 1))
        frame = av.AudioFrame.from_ndarray(block, format="fltp", layout=layout)
        frame.sample_rate = sr
        frame.pts = i
        frame.time_base = Fraction(1, sr)
        for rf in resampler.resample(frame):
            yield from stream.encode(rf)
    for rf in resampler.resample(None):
        yield from stream.encode(rf)
    yield from stream.encode(None)


def encode_file(
    path: str | Path,
    samples: np.ndarray,
    *,
    sr: int,
    codec: str | None = None,
    bitrate: int | None = None,
    out_sr: int | None = None,
    tags: dict[str, str] | None = None,
    container_format: str | None = None,
) -> Path:
    """Encode ``samples`` (``(n,)`` mono or ``(channels, n)``, floats in [-1, 1]) to ``path``.

    ``codec`` is a short name from ``_CODECS`` (default: the file suffix). ``out_sr`` resamples
    inside FFmpeg (e.g. AMR-NB needs 8000 Hz, Opus 48000 Hz). Returns ``path``.
    """
    p = Path(path)
    key = codec or p.suffix.lstrip(".").lower()
    if key not in _CODECS:
        raise ValueError(f"unknown codec {key!r}; known: {sorted(_CODECS)}")
    fmt = _CODECS[key][0]
    codec_name, x, rate, bitrate, layout = _prepare(key, samples, sr, out_sr, bitrate)
    with av.open(str(p), mode="w", format=container_format or fmt) as container:
        stream = _add_audio_stream(container, codec_name, rate, layout, bitrate)
        for k, v in (tags or {}).items():
            container.metadata[k] = v
        for packet in _audio_packets(stream, x, sr, rate, layout):
            container.mux(packet)
    return p


def _still_frames(
    image: np.ndarray, stream: Any, duration_s: float, fps: int
) -> Iterator[av.VideoFrame]:
    frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image, dtype=np.uint8), format="rgb24")
    frame = frame.reformat(
        width=stream.width, height=stream.height, format=stream.codec_context.pix_fmt
    )
    for i in range(max(1, int(np.ceil(duration_s * fps)))):
        out = frame.reformat()  # a fresh frame object each time (pts is per frame)
        out.pts = i
        out.time_base = Fraction(1, fps)
        yield out


def encode_av_file(
    path: str | Path,
    tracks: Sequence[np.ndarray],
    *,
    sr: int,
    codec: str = "m4a",
    container_format: str | None = None,
    bitrate: int | None = None,
    image: np.ndarray | None = None,
    video_codec: str = "mpeg4",
    fps: int = 2,
    tags: Mapping[str, str] | None = None,
    track_tags: Sequence[Mapping[str, str]] | None = None,
    video_s: float = 1.0,
) -> Path:
    """Write a container with one audio stream per entry of ``tracks`` (all at ``sr``).

    ``codec`` is a short audio codec name from ``_CODECS`` (its container is used unless
    ``container_format`` says otherwise, e.g. ``"matroska"`` or ``"mp4"``). With ``image`` (an
    ``(h, w, 3)`` uint8 array, even sizes) a still-image video stream encoded with
    ``video_codec`` (``mpeg4``, ``libx264``, ``mjpeg``...) comes first, lasting as long as the
    longest track, at ``fps`` frames per second. ``tags`` are container tags; ``track_tags``
    per-audio-stream tags. ``video_s`` is the video's length when there is no audio track
    (a video-only file). Returns ``path``.
    """
    p = Path(path)
    if codec not in _CODECS:
        raise ValueError(f"unknown codec {codec!r}; known: {sorted(_CODECS)}")
    fmt = container_format or _CODECS[codec][0]
    if not tracks and image is None:
        raise ValueError("nothing to write: no audio track and no image")
    duration_s = max((np.asarray(t).shape[-1] for t in tracks), default=sr * video_s) / sr
    with av.open(str(p), mode="w", format=fmt) as container:
        for k, v in (tags or {}).items():
            container.metadata[k] = v
        vstream: Any = None
        if image is not None:
            vstream = container.add_stream(video_codec, rate=fps)
            vstream.width = int(image.shape[1])
            vstream.height = int(image.shape[0])
            vstream.pix_fmt = "yuvj420p" if video_codec == "mjpeg" else "yuv420p"
        prepared = []
        for i, t in enumerate(tracks):
            codec_name, x, rate, br, layout = _prepare(codec, t, sr, None, bitrate)
            stream = _add_audio_stream(container, codec_name, rate, layout, br)
            for k, v in ((track_tags or [{}] * len(tracks))[i] or {}).items():
                stream.metadata[k] = v
            prepared.append((stream, x, rate, layout))
        if vstream is not None and image is not None:
            for frame in _still_frames(image, vstream, duration_s, fps):
                for packet in vstream.encode(frame):
                    container.mux(packet)
            for packet in vstream.encode(None):
                container.mux(packet)
        for stream, x, rate, layout in prepared:
            for packet in _audio_packets(stream, x, sr, rate, layout):
                container.mux(packet)
    return p


def insert_timestamp_gap(
    src: str | Path,
    out: str | Path,
    *,
    after_s: float,
    gap_s: float,
    container_format: str = "webm",
) -> Path:
    """Remux the first audio stream of ``src`` into ``out`` without re-encoding, shifting the
    timestamps of every packet after ``after_s`` by ``gap_s``: the trace a cut-and-join in a
    container leaves (a hole in the timeline with no missing samples). Returns ``out``."""
    with av.open(str(src)) as inp, av.open(str(out), "w", format=container_format) as outc:
        istream = inp.streams.audio[0]
        ostream = outc.add_stream_from_template(istream)
        tb = istream.time_base
        if tb is None:
            raise ValueError(f"{src}: audio stream has no time base")
        shift = int(Fraction(gap_s).limit_denominator(100_000) / tb)
        for packet in inp.demux(istream):
            if packet.dts is None:
                continue
            if packet.pts is not None and packet.pts * tb > after_s:
                packet.pts += shift
                packet.dts += shift
            packet.stream = ostream
            outc.mux(packet)
    return Path(out)
