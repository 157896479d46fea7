"""Small readers for header fields FFmpeg does not expose: MP3 Xing/LAME tag, RIFF, OpusHead.

References:

- MPEG audio frame header: ISO/IEC 11172-3 s. 2.4.1.3 and ISO/IEC 13818-3 (MPEG-2/2.5 rates).
- Xing/Info and LAME tag: G. Bouvigne, *Mp3 info tag rev 1 specifications*,
  http://gabriel.mp3-tech.org/mp3infotag.html (encoder string, encoder delay/padding as two
  12-bit fields, music length, CRC-16 of the first 190 bytes of the tag frame).
- ID3v2 header: id3.org, *ID3 tag version 2.4.0 - Main Structure* s. 3.1 (synchsafe size).
- RIFF/WAVE: Microsoft/IBM *Multimedia Programming Interface and Data Specifications 1.0*
  (chunk layout; the ``data`` chunk's declared size).
- OpusHead: RFC 7845 s. 5.1 (version, channels, pre-skip, input sample rate).
- Ogg page header: RFC 3533 s. 6 (header type flag 0x04 = end of stream, segment table).

Every reader takes bytes already read from the file and returns ``None`` when the structure is
absent; none of them raises on malformed data.
"""

from __future__ import annotations

import struct
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

_MPEG_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}
_L3_KBPS = {
    3: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    2: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}


@dataclass(frozen=True)
class Mp3Header:
    """What the first MPEG audio frame and its Xing/Info + LAME tag say."""

    offset: int  # byte offset of the first frame (after any ID3v2 tag)
    mpeg_version: str  # "1", "2", "2.5"
    layer: int
    bitrate_kbps: int
    sample_rate: int
    channel_mode: str
    tag: str | None  # "Xing" (VBR), "Info" (CBR) or "VBRI"
    frames: int | None
    bytes: int | None
    encoder: str | None  # LAME tag encoder string, e.g. "LAME3.100"
    enc_delay: int | None
    enc_padding: int | None
    music_length: int | None
    tag_crc_ok: bool | None
    id3v2_size: int
    id3v1: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _crc16(data: bytes) -> int:
    """CRC-16/ARC (poly 0x8005 reflected, init 0), as used by the LAME tag."""
    crc = 0
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def _id3v2_size(head: bytes) -> int:
    if len(head) >= 10 and head[:3] == b"ID3":
        s = head[6:10]
        size = (s[0] << 21) | (s[1] << 14) | (s[2] << 7) | s[3]
        return 10 + size + (10 if head[5] & 0x10 else 0)
    return 0


def read_mp3_header(data: bytes, *, tail: bytes = b"") -> Mp3Header | None:
    """Parse the first layer III frame in ``data`` (the file's first bytes) and its tags."""
    start = _id3v2_size(data)
    limit = min(len(data) - 4, start + 65536)
    for off in range(start, max(limit, start)):
        h = data[off : off + 4]
        if h[0] != 0xFF or (h[1] & 0xE0) != 0xE0:
            continue
        ver, layer_bits = (h[1] >> 3) & 3, (h[1] >> 1) & 3
        br_idx, sr_idx = h[2] >> 4, (h[2] >> 2) & 3
        if ver == 1 or layer_bits != 1 or br_idx in (0, 15) or sr_idx == 3:
            continue  # only layer III with a defined bitrate and rate
        mode = h[3] >> 6
        kbps = _L3_KBPS[3 if ver == 3 else 2][br_idx]
        rate = _MPEG_RATES[ver][sr_idx]
        side = (17 if mode == 3 else 32) if ver == 3 else 9 if mode == 3 else 17
        t = off + 4 + side
        tag = data[t : t + 4]
        frames = nbytes = enc = delay = pad = music = None
        crc_ok = None
        name: str | None = None
        if tag in (b"Xing", b"Info"):
            name = tag.decode()
            flags = struct.unpack(">I", data[t + 4 : t + 8])[0] if len(data) >= t + 8 else 0
            p = t + 8
            if flags & 1 and len(data) >= p + 4:
                frames = struct.unpack(">I", data[p : p + 4])[0]
                p += 4
            if flags & 2 and len(data) >= p + 4:
                nbytes = struct.unpack(">I", data[p : p + 4])[0]
                p += 4
            p += (100 if flags & 4 else 0) + (4 if flags & 8 else 0)
            lame = data[p : p + 36]
            if len(lame) == 36 and lame[:4].isalnum():
                enc = lame[:9].decode("latin-1").rstrip("\x00 ").strip() or None
                d = lame[21:24]
                delay = (d[0] << 4) | (d[1] >> 4)
                pad = ((d[1] & 0x0F) << 8) | d[2]
                music = struct.unpack(">I", lame[28:32])[0]
                stored = struct.unpack(">H", lame[34:36])[0]
                # CRC of the frame's first 190 bytes, the CRC field counted as zero
                # when it lies inside them (mono/MPEG-2 frames have shorter side info).
                # A frame shorter than 190 bytes counts as zero-padded (FFmpeg's writer).
                frame_len = (144 if ver == 3 else 72) * kbps * 1000 // rate + ((h[2] >> 1) & 1)
                block = bytearray(data[off : off + min(190, frame_len)])
                block += bytes(190 - len(block))
                c = p + 34 - off
                if c < len(block):
                    block[c : c + 2] = b"\0\0"
                crc_ok = _crc16(bytes(block)) == stored
        elif data[off + 36 : off + 40] == b"VBRI":
            name = "VBRI"
            v = off + 36
            if len(data) >= v + 18:
                nbytes, frames = struct.unpack(">II", data[v + 10 : v + 18])
        return Mp3Header(
            offset=off,
            mpeg_version={3: "1", 2: "2", 0: "2.5"}[ver],
            layer=3,
            bitrate_kbps=kbps,
            sample_rate=rate,
            channel_mode=("stereo", "joint stereo", "dual channel", "mono")[mode],
            tag=name,
            frames=frames,
            bytes=nbytes,
            encoder=enc,
            enc_delay=delay,
            enc_padding=pad,
            music_length=music,
            tag_crc_ok=crc_ok,
            id3v2_size=start,
            id3v1=len(tail) >= 128 and tail[-128:-125] == b"TAG",
        )
    return None


@dataclass(frozen=True)
class WavHeader:
    """RIFF/WAVE chunk layout: declared sizes against the bytes present."""

    riff_size: int
    data_size: int | None
    data_offset: int | None
    file_size: int
    chunks: tuple[str, ...]
    trailing_bytes: int = 0  # bytes after the data chunk
    chunks_after: tuple[str, ...] = ()  # valid RIFF chunks found there (LIST, id3, ...)
    trailing_unexplained: bool = False  # trailing bytes that are not valid chunks

    @property
    def data_missing_bytes(self) -> int:
        """Bytes the ``data`` chunk declares beyond the end of the file (0 when complete)."""
        if self.data_size is None or self.data_offset is None:
            return 0
        if self.data_size in (0, 0xFFFFFFFF):  # streamed WAV: size left unset
            return 0
        return max(0, self.data_offset + self.data_size - self.file_size)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["data_missing_bytes"] = self.data_missing_bytes
        return d


def read_wav_trailer(path: str | Path, header: WavHeader) -> WavHeader:
    """Walk the bytes after the ``data`` chunk of ``path``: valid chunks or unexplained data."""
    if header.data_size is None or header.data_offset is None or header.data_missing_bytes:
        return header
    if header.data_size in (0, 0xFFFFFFFF):
        return header
    end = header.data_offset + header.data_size + (header.data_size & 1)
    trailing = header.file_size - end
    if trailing <= 0:
        return header
    with open(path, "rb") as f:
        f.seek(end)
        rest = f.read(min(trailing, 1 << 20))
    pos, ids = 0, []
    unexplained = False
    while pos < len(rest):
        if len(rest) - pos < 8 or rest[pos : pos + 4].strip(b"\0") == b"":
            unexplained = any(rest[pos:])  # zero padding at the end is harmless
            break
        cid = rest[pos : pos + 4]
        size = struct.unpack("<I", rest[pos + 4 : pos + 8])[0]
        if not all(32 <= c < 127 for c in cid) or pos + 8 + size > trailing:
            unexplained = True
            break
        ids.append(cid.decode("ascii"))
        pos += 8 + size + (size & 1)
    return WavHeader(
        header.riff_size,
        header.data_size,
        header.data_offset,
        header.file_size,
        header.chunks,
        trailing,
        tuple(ids),
        unexplained,
    )


def read_wav_header(data: bytes, *, file_size: int) -> WavHeader | None:
    """Walk the RIFF chunks in ``data`` (the first bytes of the file) up to ``data``."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return None
    riff = struct.unpack("<I", data[4:8])[0]
    pos, chunks = 12, []
    data_size = data_off = None
    while pos + 8 <= len(data):
        cid = data[pos : pos + 4].decode("latin-1")
        size = struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        chunks.append(cid)
        if cid == "data":
            data_size, data_off = size, pos + 8
            break
        pos += 8 + size + (size & 1)
    return WavHeader(riff, data_size, data_off, file_size, tuple(chunks))


@dataclass(frozen=True)
class OpusHead:
    """RFC 7845 identification header of an Ogg Opus stream."""

    version: int
    channels: int
    pre_skip: int
    input_sample_rate: int
    output_gain: int
    vendor: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def read_opus_head(data: bytes) -> OpusHead | None:
    """Find ``OpusHead`` (and the ``OpusTags`` vendor string) in the first bytes of an Ogg file."""
    i = data.find(b"OpusHead")
    if i < 0 or len(data) < i + 19:
        return None
    version, channels, pre_skip, rate, gain = struct.unpack("<BBHIh", data[i + 8 : i + 18])
    vendor = None
    j = data.find(b"OpusTags", i)
    if j >= 0 and len(data) >= j + 12:
        n = struct.unpack("<I", data[j + 8 : j + 12])[0]
        if n < 4096 and len(data) >= j + 12 + n:
            vendor = data[j + 12 : j + 12 + n].decode("utf-8", "replace")
    return OpusHead(version, channels, pre_skip, rate, gain, vendor)


@dataclass(frozen=True)
class OggTail:
    """The last Ogg page of a file (RFC 3533 s. 6): is it complete, and is it end-of-stream?"""

    complete: bool
    end_of_stream: bool
    granule: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def read_ogg_tail(tail: bytes) -> OggTail | None:
    """Parse the last ``OggS`` page found in ``tail`` (the file's last bytes)."""
    i = tail.rfind(b"OggS")
    while i >= 0:
        page = tail[i:]
        if len(page) >= 27 and page[4] == 0:
            flags = page[5]
            granule = struct.unpack("<q", page[6:14])[0]
            nseg = page[26]
            segs = page[27 : 27 + nseg]
            complete = len(segs) == nseg and 27 + nseg + sum(segs) == len(page)
            return OggTail(complete, bool(flags & 0x04), granule)
        i = tail.rfind(b"OggS", 0, i)
    return None


def read_head_tail(path: str | Path, *, head: int = 131072, tail: int = 256) -> tuple[bytes, bytes]:
    """The first ``head`` and last ``tail`` bytes of ``path``."""
    with open(path, "rb") as f:
        first = f.read(head)
        f.seek(0, 2)
        size = f.tell()
        f.seek(max(0, size - tail))
        last = f.read(tail)
    return first, last
