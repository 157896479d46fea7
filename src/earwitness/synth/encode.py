"""Write float audio to a file with one of FFmpeg's encoders, through PyAV."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np

# container format, codec, sample format per common short name
_CODECS: dict[str, tuple[str, str, str]] = {
    "wav": ("wav", "pcm_s16le", "s16"),
    "flac": ("flac", "flac", "s16"),
    "mp3": ("mp3", "libmp3lame", "fltp"),
    "ogg": ("ogg", "libopus", "flt"),
    "opus": ("ogg", "libopus", "flt"),
    "vorbis": ("ogg", "libvorbis", "fltp"),
    "m4a": ("mp4", "aac", "fltp"),
    "aac": ("adts", "aac", "fltp"),
    "amr": ("amr", "libopencore_amrnb", "s16"),
    "webm": ("webm", "libopus", "flt"),
    "mkv": ("matroska", "libopus", "flt"),
}


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
    fmt, codec_name, _ = _CODECS[key]
    x = np.asarray(samples, dtype=np.float32)
    if x.ndim == 1:
        x = x[None, :]
    channels = x.shape[0]
    if codec_name == "libopencore_amrnb":
        channels = 1
        x = x[:1]
        out_sr = 8000
        bitrate = bitrate or 12200
    rate = out_sr or sr
    if codec_name == "libopus" and rate not in (8000, 12000, 16000, 24000, 48000):
        rate = 48000
    layout = "mono" if channels == 1 else "stereo"
    with av.open(str(p), mode="w", format=container_format or fmt) as container:
        stream = container.add_stream(codec_name, rate=rate)
        stream.layout = layout  # type: ignore[union-attr]
        if bitrate:
            stream.bit_rate = bitrate
        for k, v in (tags or {}).items():
            container.metadata[k] = v
        resampler = av.AudioResampler(
            format=stream.codec_context.format or "fltp", layout=layout, rate=rate
        )
        hop = 4096
        pts = 0
        for i in range(0, x.shape[1], hop):
            block = np.ascontiguousarray(np.clip(x[:, i : i + hop], -1, 1))
            frame = av.AudioFrame.from_ndarray(block, format="fltp", layout=layout)
            frame.sample_rate = sr
            frame.pts = pts
            frame.time_base = Fraction(1, sr)
            pts += block.shape[1]
            for rf in resampler.resample(frame):
                for packet in stream.encode(rf):
                    container.mux(packet)
        for rf in resampler.resample(None):
            for packet in stream.encode(rf):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return p
