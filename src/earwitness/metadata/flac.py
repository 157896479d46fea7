"""FLAC STREAMINFO and the MD5 signature of the decoded audio.

A FLAC encoder stores in STREAMINFO the MD5 of the unencoded samples (signed, little-endian,
interleaved, ``bits_per_sample`` rounded up to whole bytes; FLAC format specification,
https://xiph.org/flac/format.html#metadata_block_streaminfo, and RFC 9639 s. 8.2). Decoding
the file and hashing the samples the same way tells whether the audio frames are still the
ones the encoder wrote: a mismatch means frames were altered, replaced or damaged after
encoding without the header being rewritten. An all-zero MD5 means the encoder did not
compute one (allowed by the format).

Data appended after the last audio frame is found from the frame's own checksum: every FLAC
frame ends with a CRC-16 (polynomial 0x8005, initial value 0, not reflected; RFC 9639 s. 9.3)
over the whole frame, so the CRC run over the frame *including* its CRC bytes is zero. The
last frame starts where FFmpeg's parser puts its last packet; it ends at the first position
after it where the running CRC is zero *and* the bytes up to there decode alone as a frame
with a valid CRC (which rules out chance zeros). Bytes between there and the end of the file
(an ID3v1 tag apart) were not written by the encoder.
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


@dataclass(frozen=True)
class FlacTail:
    """Where the last FLAC audio frame ends, and what follows it."""

    last_frame_offset: int
    audio_end: int
    file_size: int
    id3v1: bool
    trailing_head: str  # hex of the first (up to 16) trailing bytes

    @property
    def trailing_bytes(self) -> int:
        return self.file_size - self.audio_end - (128 if self.id3v1 else 0)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "trailing_bytes": self.trailing_bytes}


def _crc16_table() -> tuple[int, ...]:
    table = []
    for i in range(256):
        crc = i << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x8005) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
        table.append(crc)
    return tuple(table)


_CRC16 = _crc16_table()
_MIN_FRAME = 10  # sync, header fields, CRC-8, one subframe header, CRC-16


def frame_crc_zeros(data: bytes) -> list[int]:
    """Lengths ``n`` for which the FLAC CRC-16 of ``data[:n]`` is zero (frame ends)."""
    crc = 0
    out: list[int] = []
    table = _CRC16
    for n, b in enumerate(data, start=1):
        crc = ((crc << 8) & 0xFFFF) ^ table[(crc >> 8) ^ b]
        if crc == 0 and n >= _MIN_FRAME:
            out.append(n)
    return out


def read_flac_tail(
    path: str | Path, *, head: bytes, file_size: int, max_scan: int = 1 << 20
) -> FlacTail | None:
    """Find the end of the last audio frame of a native FLAC file (``head``: its first bytes,
    holding STREAMINFO).

    ``None`` when it cannot be told: no STREAMINFO in ``head``, no audio packet, or no frame
    end within ``max_scan`` bytes of the last frame's start (a truncated file, reported by
    the decode checks).
    """
    streaminfo = _streaminfo_block(head)
    if streaminfo is None:
        return None
    last = -1
    try:
        with av.open(str(path)) as container:
            for packet in container.demux(container.streams.audio[0]):
                if packet.size and packet.pos is not None and packet.pos >= 0:
                    last = packet.pos
    except (av.error.FFmpegError, IndexError, ValueError):
        return None
    if last < 0:
        return None
    with open(path, "rb") as f:
        f.seek(last)
        tail = f.read(min(file_size - last, max_scan))
        f.seek(max(file_size - 128, 0))
        id3 = f.read(3) == b"TAG" and file_size - last > 128
    end = _last_frame_end(tail, whole=file_size - last, id3=id3, streaminfo=streaminfo)
    if end is None:
        return None
    e, tagged = end
    return FlacTail(last, last + e, file_size, tagged, tail[e : e + 16].hex())


def _is_sync(b: bytes) -> bool:
    """A FLAC frame header's 14-bit sync code 0b11111111111110 plus the reserved zero bit."""
    return len(b) >= 2 and b[0] == 0xFF and b[1] in (0xF8, 0xF9)


def _decodes(frame: bytes, streaminfo: bytes) -> bool:
    """Whether ``frame`` decodes on its own as one whole FLAC frame with a valid CRC-16.

    Rules out a running CRC that is zero by chance inside a frame (about 1 in 65 536 bytes):
    the decoder then runs out of data, finds invalid residuals or a wrong CRC.
    """
    ctx = av.CodecContext.create("flac", "r")
    ctx.extradata = streaminfo
    ctx.options = {"err_detect": "crccheck"}  # verify the frame's CRC-16, too
    try:
        frames = ctx.decode(av.Packet(frame))
        frames += ctx.decode(None)
    except (av.error.FFmpegError, ValueError):
        return False
    return sum(f.samples for f in frames) > 0


def _last_frame_end(
    tail: bytes, *, whole: int, id3: bool, streaminfo: bytes
) -> tuple[int, bool] | None:
    """Walk the frames of ``tail`` (FFmpeg may hand the last frames over as one packet).

    Returns the offset where the last frame ends and whether an ID3v1 tag follows, or
    ``None`` when no frame end is found.
    """
    pos = 0
    while pos < len(tail):
        ends = frame_crc_zeros(tail[pos:])
        found = set(ends)
        # A zero byte keeps a zero CRC at zero, so a frame end followed by zero bytes gives a
        # run of consecutive "ends"; the frame's own CRC may end in a zero byte, so the first
        # two of a run are candidates, and the decoder (checking the CRC) picks the real one.
        candidates = (n for n in ends if n - 1 not in found or n - 2 not in found)
        n = next((n for n in candidates if _decodes(tail[pos : pos + n], streaminfo)), None)
        if n is None:
            return None
        e = pos + n
        if e == whole or (id3 and e == whole - 128):
            return e, e != whole
        if not _is_sync(tail[e : e + 2]):
            return e, id3
        pos = e
    return None


def _streaminfo_block(data: bytes) -> bytes | None:
    """The 34 bytes of STREAMINFO in the first bytes of a native FLAC file (after any ID3v2
    tag), or ``None``."""
    i = data.find(b"fLaC")
    if i < 0 or i > 1 << 20 or len(data) < i + 8 + 34:
        return None
    if data[i + 4] & 0x7F != 0:  # the first metadata block must be STREAMINFO
        return None
    return data[i + 8 : i + 8 + 34]


def read_streaminfo(data: bytes) -> FlacStreamInfo | None:
    """Parse STREAMINFO from the first bytes of a native FLAC file (after any ID3v2 tag)."""
    b = _streaminfo_block(data)
    if b is None:
        return None
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
