"""FLAC STREAMINFO and the MD5 signature of the decoded audio.

A FLAC encoder stores in STREAMINFO the MD5 of the unencoded samples (signed, little-endian,
interleaved, ``bits_per_sample`` rounded up to whole bytes; FLAC format specification,
https://xiph.org/flac/format.html#metadata_block_streaminfo, and RFC 9639 s. 8.2). Decoding
the file and hashing the samples the same way tells whether the audio frames are still the
ones the encoder wrote: a mismatch means frames were altered, replaced or damaged after
encoding without the header being rewritten. An all-zero MD5 means the encoder did not
compute one (allowed by the format).
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import av
import numpy as np


@dataclass(frozen=True)
class FlacStreamInfo:
    """The FLAC STREAMINFO block."""

    sample_rate: int
    channels: int
    bits_per_sample: int
    total_samples: int
    md5: str  # hex; "0" * 32 when not computed by the encoder

    @property
    def has_md5(self) -> bool:
        return self.md5 != "0" * 32

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def read_streaminfo(data: bytes) -> FlacStreamInfo | None:
    """Parse STREAMINFO from the first bytes of a native FLAC file (after any ID3v2 tag)."""
    i = data.find(b"fLaC")
    if i < 0 or i > 1 << 20 or len(data) < i + 8 + 34:
        return None
    if data[i + 4] & 0x7F != 0:  # the first metadata block must be STREAMINFO
        return None
    b = data[i + 8 : i + 8 + 34]
    packed = int.from_bytes(b[10:18], "big")
    sample_rate = packed >> 44
    channels = ((packed >> 41) & 0x7) + 1
    bps = ((packed >> 36) & 0x1F) + 1
    total = packed & ((1 << 36) - 1)
    return FlacStreamInfo(sample_rate, channels, bps, total, b[18:34].hex())


def decoded_md5(path: str | Path, *, bits_per_sample: int) -> str | None:
    """MD5 of the decoded samples of the first audio stream, hashed as FLAC specifies.

    Returns ``None`` when the file cannot be decoded to integer samples or the sample size is
    not 8, 16, 24 or 32 bits.
    """
    if bits_per_sample not in (8, 16, 24, 32):
        return None
    h = hashlib.md5(usedforsecurity=False)
    try:
        with av.open(str(path)) as container:
            stream = container.streams.audio[0]
            for frame in container.decode(stream):
                a = frame.to_ndarray()
                x = a.T.reshape(-1) if frame.format.is_planar else a.reshape(-1)
                h.update(_pack(x, bits_per_sample))
    except (av.error.FFmpegError, ValueError):
        return None
    return h.hexdigest()


def _pack(x: np.ndarray, bps: int) -> bytes:
    """Interleaved samples as signed little-endian integers of ``bps`` bits."""
    if x.dtype == np.int16:
        v = x.astype(np.int32)
    elif x.dtype == np.int32:
        v = x >> (32 - bps) if bps < 32 else x  # FFmpeg left-aligns 24-bit samples in s32
    else:
        raise ValueError(f"unexpected sample type {x.dtype}")
    if bps == 8:
        return v.astype(np.int8).tobytes()
    if bps == 16:
        return v.astype("<i2").tobytes()
    if bps == 24:
        le = v.astype("<i4").view(np.uint8).reshape(-1, 4)
        return le[:, :3].tobytes()
    return v.astype("<i4").tobytes()
