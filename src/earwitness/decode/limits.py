"""Configurable limits that protect the store and the analysis from absurd input."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Limits:
    """Bounds applied when a file is probed and decoded.

    ``max_bytes``: largest original accepted. ``max_duration_s``: longest recording (declared
    or decoded). ``min_sample_rate``/``max_sample_rate``: plausible audio rates.
    ``max_channels``: most channels in the analysed stream. ``max_expansion``: the decoded
    PCM (float32, all channels, native rate) may be at most this many times the file size
    plus ``expansion_slack_bytes``; more suggests a decompression bomb.
    ``max_consecutive_decode_errors``: corrupt packets tolerated in a row before decoding
    stops and the rest is treated as truncated.
    """

    max_bytes: int = 4 * 1024**3
    max_duration_s: float = 12 * 3600.0
    min_sample_rate: int = 4000
    max_sample_rate: int = 384_000
    max_channels: int = 64
    max_expansion: float = 2000.0
    expansion_slack_bytes: int = 64 * 1024**2
    max_consecutive_decode_errors: int = 50

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
