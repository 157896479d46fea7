"""Recognising encoder and muxer strings: which software a tag points at, as a hint.

A match is a *hint about the software that last wrote the file*, never proof of origin: tags are
trivially edited. Each pattern has an explicit entry in :data:`ENCODER_PATTERNS` (an explicit
registry; add one line to recognise more software) with the source of the knowledge.

Sources: FFmpeg's ``LIBAVFORMAT_IDENT``/``LIBAVCODEC_IDENT`` ("Lavf"/"Lavc" + version, written
as the ``encoder`` tag and in the Xing/LAME tag by FFmpeg's muxers) and the FFmpeg release
notes for the major-version mapping; the LAME tag spec (G. Bouvigne, mp3infotag.html) for
"LAME3.xx"; ISO/IEC 14496-12 ``hdlr`` names written by FFmpeg ("SoundHandler"), Apple
("Core Media Audio"), Android's MediaMuxer ("SoundHandle"); the ``com.android.version`` tag of
Android's MediaRecorder/MediaMuxer; the ``dash`` major brand of MPEG-DASH segments (ISO/IEC
23009-1), as found in audio extracted from streaming sites; the Opus vendor string
"WhatsApp" reported for WhatsApp voice messages (WhatsApp Business API sample file,
deepwiki.com/djdang3r/whatsapp-api-manager).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

# FFmpeg major versions of libavformat -> FFmpeg release series (from FFmpeg's release notes)
_LAVF_RELEASES = {
    56: "2.5-2.8",
    57: "3.x",
    58: "4.x",
    59: "5.x",
    60: "6.x",
    61: "7.x",
    62: "8.x",
}
_LAVC_RELEASES = {
    56: "2.5-2.8",
    57: "3.x",
    58: "4.x",
    59: "5.x",
    60: "6.x",
    61: "7.x",
    62: "8.x",
}


@dataclass(frozen=True)
class EncoderPattern:
    """One recognisable string: ``field`` is the tag name it is looked for in (``*`` = any)."""

    name: str
    field: str
    regex: str
    software: str
    note: str
    codec_family: str | None = None  # the codec this software writes, when it writes only one


ENCODER_PATTERNS: tuple[EncoderPattern, ...] = (
    EncoderPattern(
        "lavf", "*", r"^Lavf(\d+)", "FFmpeg (libavformat)", "muxed by FFmpeg or a tool built on it"
    ),
    EncoderPattern(
        "lavc", "*", r"^Lavc(\d+)", "FFmpeg (libavcodec)", "encoded by FFmpeg's libavcodec"
    ),
    EncoderPattern(
        "lame", "*", r"^LAME\s?(\d\.\d+)", "LAME MP3 encoder", "MP3 encoded with LAME", "mp3"
    ),
    EncoderPattern(
        "libopus",
        "*",
        r"^libopus",
        "libopus (Xiph reference Opus encoder)",
        "Opus encoded with libopus",
        "opus",
    ),
    EncoderPattern(
        "xiph_vorbis",
        "*",
        r"^Xiph\.Org libVorbis",
        "libvorbis",
        "Vorbis encoded with libvorbis",
        "vorbis",
    ),
    EncoderPattern(
        "whatsapp",
        "*",
        r"WhatsApp",
        "WhatsApp",
        "vendor string reported for WhatsApp voice messages",
    ),
    EncoderPattern(
        "ffmpeg_handler",
        "handler_name",
        r"^SoundHandler$",
        "FFmpeg (mov muxer)",
        "track handler name written by FFmpeg's MP4/MOV muxer",
    ),
    EncoderPattern(
        "apple_handler",
        "handler_name",
        r"^Core Media Audio$",
        "Apple Core Media",
        "track handler name written by Apple's AVFoundation (iPhone, macOS)",
    ),
    EncoderPattern(
        "android_handler",
        "handler_name",
        r"^SoundHandle$",
        "Android MediaMuxer",
        "track handler name written by Android's MediaMuxer",
    ),
    EncoderPattern(
        "android_version",
        "com.android.version",
        r".",
        "Android",
        "recorded or muxed on an Android device (Android version tag)",
    ),
    EncoderPattern(
        "dash_brand",
        "major_brand",
        r"^dash$",
        "MPEG-DASH segment",
        "tags of an MPEG-DASH stream: audio taken from a streaming site's "
        "adaptive stream (a download, not an original recording)",
    ),
    EncoderPattern("itunes", "*", r"^iTunes", "Apple iTunes", "encoded with iTunes"),
)

_ENCODER_FIELDS = (
    "encoder",
    "encoded_by",
    "encoder_options",
    "software",
    "ISFT",
    "TSSE",
    "handler_name",
    "com.android.version",
    "major_brand",
    "vendor",
    "lame_tag",
    "opus_vendor",
    "comment",
)


@dataclass(frozen=True)
class EncoderHint:
    """A tag value recognised as naming a piece of software."""

    where: str  # e.g. "container", "stream 1", "LAME tag", "OpusTags"
    field: str
    value: str
    pattern: str
    software: str
    note: str
    codec_family: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _version_note(p: EncoderPattern, m: re.Match[str]) -> str:
    if p.name in ("lavf", "lavc"):
        major = int(m.group(1))
        table = _LAVF_RELEASES if p.name == "lavf" else _LAVC_RELEASES
        series = table.get(major)
        return f"{p.note} (major version {major}" + (f", FFmpeg {series})" if series else ")")
    return p.note


def recognise(where: str, tags: Mapping[str, str]) -> list[EncoderHint]:
    """Match ``tags`` (one tag dictionary) against :data:`ENCODER_PATTERNS`."""
    hints: list[EncoderHint] = []
    for key, value in tags.items():
        for p in ENCODER_PATTERNS:
            if p.field != "*" and p.field.lower() != key.lower():
                continue
            if p.field == "*" and key.lower() not in {f.lower() for f in _ENCODER_FIELDS}:
                continue
            m = re.search(p.regex, str(value))
            if m:
                hints.append(
                    EncoderHint(
                        where,
                        key,
                        str(value),
                        p.name,
                        p.software,
                        _version_note(p, m),
                        p.codec_family,
                    )
                )
    return hints


def encoder_fields(tags: Mapping[str, str]) -> dict[str, str]:
    """The subset of ``tags`` that name software (for the report's encoder list)."""
    wanted = {f.lower() for f in _ENCODER_FIELDS}
    return {k: str(v) for k, v in tags.items() if k.lower() in wanted}
