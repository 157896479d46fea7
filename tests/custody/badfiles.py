"""Writers of bad input files, one per class of bad input the ingest must reject."""

from __future__ import annotations

import struct
import wave
import zlib
from pathlib import Path

import numpy as np

from earwitness.synth import encode_file, tone


def empty(path: Path) -> Path:
    path.write_bytes(b"")
    return path


def garbage(path: Path, rng: np.random.Generator) -> Path:
    path.write_bytes(rng.integers(0, 256, 4096, dtype=np.uint8).tobytes())
    return path


def truncated(path: Path) -> Path:
    """An MP4/AAC file cut in half: its index (moov) is at the end, so nothing decodes."""
    full = path.with_name("full-" + path.name)
    encode_file(full, tone(freq=440, duration_s=3.0, sr=16000), sr=16000, codec="m4a")
    data = full.read_bytes()
    full.unlink()
    path.write_bytes(data[: len(data) // 2])
    return path


def zero_duration(path: Path) -> Path:
    """A valid WAV header with no sample frames."""
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(b"")
    return path


def absurd_sample_rate(path: Path) -> Path:
    """A WAV whose header declares 1 Hz."""
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(1)
        w.writeframes(b"\x00\x00" * 16)
    return path


def png_image(path: Path) -> Path:
    """A 4x4 PNG: a container FFmpeg opens, with a video stream and no audio."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * 4 for _ in range(4))
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )
    return path


def silent_flac(path: Path, seconds: float = 5.0) -> Path:
    """Digital silence compresses ~100x: decoding expands far beyond the file size."""
    return encode_file(path, np.zeros(int(16000 * seconds), dtype=np.float32), sr=16000)
