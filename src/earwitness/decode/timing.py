"""Where sample 0 is: encoder delay (priming) and padding, per codec and container.

Lossy encoders prepend *priming* samples (encoder delay plus the decoder's own filter delay)
and append *padding* to fill the last frame. Unless removed, every time in a report is late by
the priming and the decoded recording is longer than the original. How it is signalled:

- MP3: the LAME/Xing "Info" tag stores encoder delay and padding (G. Bouvigne, *Mp3 info tag
  rev 1 specifications*, http://gabriel.mp3-tech.org/mp3infotag.html). FFmpeg's mp3 demuxer
  reads it, sets the stream start to the delay (+529 decoder samples) and trims the padding.
  Without the tag nothing is signalled: LAME output is then 1105 samples late (576 encoder +
  529 decoder delay).
- AAC in MP4/M4A/MOV/3GP: the edit list (ISO/IEC 14496-12 ``elst``) starts presentation after
  the priming; FFmpeg turns it into negative packet timestamps and skips them. The end
  padding is *not* trimmed by FFmpeg: this module trims the decoded tail to the track's
  declared duration when an edit list was present (the duration is then a presentation
  duration). Without an edit list, priming stays: 1024 samples (FFmpeg ``aac``), 2048
  (fdk-aac) or 2112 (Apple) late.
- Raw AAC (ADTS): no field carries the delay; the same 1024-2112 samples remain.
- Opus (Ogg, WebM, Matroska): the ``pre-skip`` header field (RFC 7845 s. 4.2) / Matroska
  ``CodecDelay`` and the end granule position / ``DiscardPadding`` make decoding exact.
- Vorbis in Ogg: the granule positions give exact start and end (Vorbis I spec, A.2).
- AMR (RFC 4867 storage format): no delay field; the decoded signal is late by the codec's
  algorithmic delay (measured here: about 40-50 samples at 8 kHz, i.e. 5-6 ms) and one 160-sample
  frame too long at most.
- PCM (WAV, AIFF), FLAC, ALAC, WavPack: lossless and sample-exact.

:func:`plan_timing` records, before decoding, which mechanism applies and what error remains;
the decoder (``reader.py``) applies it and reports the samples actually trimmed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

_LOSSLESS = {
    "pcm_s16le", "pcm_s16be", "pcm_s24le", "pcm_s24be", "pcm_s32le", "pcm_s32be",
    "pcm_f32le", "pcm_f32be", "pcm_f64le", "pcm_u8", "pcm_s8", "pcm_alaw", "pcm_mulaw",
    "flac", "alac", "wavpack", "tta", "ape",
}  # fmt: skip
_MOV = ("mov", "mp4", "m4a", "3gp", "3g2", "mj2")
_AAC_PRIMING = {"FFmpeg aac": 1024, "fdk-aac": 2048, "Apple": 2112}


@dataclass(frozen=True)
class TimingPlan:
    """How the start and end of the decoded audio are aligned for one stream.

    ``method``: the mechanism that aligns sample 0 with the original's first sample
    (``lossless``, ``lame_info_tag``, ``mp4_edit_list``, ``opus_pre_skip``, ``ogg_granule``,
    ``none``). ``priming_samples``: leading samples the container signals for removal (at the
    native rate). ``trim_end_to_declared``: cut the decoded tail to the declared duration
    (``declared_samples``). ``residual_s``: the expected offset still present (0 when the
    container makes decoding exact; otherwise the typical lateness of times in the report);
    ``note``: the sentence the report shows.
    """

    method: str
    exact: bool
    priming_samples: int
    trim_end_to_declared: bool
    declared_samples: int | None
    residual_s: float
    note: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def plan_timing(
    *,
    format_name: str,
    codec: str,
    sample_rate: int,
    start_samples: int,
    first_packet_samples: int | None,
    opus_delay: int,
    declared_samples: int | None,
) -> TimingPlan:
    """Decide the timing alignment of an audio stream from what the demuxer reports.

    ``start_samples``: the stream's start time in samples (the mp3 demuxer sets it to the
    LAME delay when the Info tag is present). ``first_packet_samples``: the first packet's
    timestamp in samples (negative when an MP4 edit list or Opus pre-skip hides priming).
    ``opus_delay``: the decoder's declared delay (Opus pre-skip). ``declared_samples``: the
    stream's declared duration in samples, if any.
    """
    formats = set(format_name.split(","))
    first = first_packet_samples if first_packet_samples is not None else 0
    if codec in _LOSSLESS or codec.startswith("pcm_"):
        return TimingPlan(
            "lossless",
            True,
            0,
            False,
            declared_samples,
            0.0,
            "lossless codec: decoded samples are exact in time",
        )
    if codec in ("mp3", "mp3float"):
        if start_samples > 0:
            return TimingPlan(
                "lame_info_tag",
                True,
                start_samples,
                False,
                declared_samples,
                0.0,
                f"MP3 encoder delay and padding from the LAME/Xing Info tag "
                f"removed ({start_samples} leading samples)",
            )
        return TimingPlan(
            "none",
            False,
            0,
            False,
            declared_samples,
            1105 / sample_rate,
            "MP3 without a LAME/Xing Info tag: encoder delay is not recorded, "
            "times may be late by about 1105 samples (LAME) "
            f"= {1105 / sample_rate * 1000:.1f} ms",
        )
    if codec == "aac":
        if formats & set(_MOV) and first < 0:
            return TimingPlan(
                "mp4_edit_list",
                True,
                -first,
                declared_samples is not None,
                declared_samples,
                0.0,
                f"AAC priming removed by the MP4 edit list ({-first} samples); "
                "end padding trimmed to the declared track duration",
            )
        if first < 0:  # e.g. Matroska CodecDelay: start exact, end padding not signalled
            return TimingPlan(
                "container_skip",
                True,
                -first,
                False,
                declared_samples,
                0.0,
                f"AAC priming removed as the container signals ({-first} samples); end "
                "padding (under one 1024-sample frame) may remain at the end",
            )
        typical = _AAC_PRIMING["FFmpeg aac"]
        where = "raw ADTS stream" if "aac" in formats else "container without an edit list"
        return TimingPlan(
            "none",
            False,
            0,
            False,
            declared_samples,
            typical / sample_rate,
            f"AAC in a {where}: encoder priming is not recorded, times may be "
            f"late by 1024-2112 samples ({1024 / sample_rate * 1000:.0f}-"
            f"{2112 / sample_rate * 1000:.0f} ms) depending on the encoder",
        )
    if codec in ("opus", "libopus"):
        skip = opus_delay or max(0, -first)
        return TimingPlan(
            "opus_pre_skip",
            True,
            skip,
            False,
            declared_samples,
            0.0,
            f"Opus pre-skip removed ({skip} samples); end trimmed by the "
            "container's granule position / discard padding",
        )
    if codec == "vorbis":
        return TimingPlan(
            "ogg_granule",
            True,
            max(0, -first),
            False,
            declared_samples,
            0.0,
            "Vorbis: start and end aligned by the container's granule positions",
        )
    if codec in ("amr_nb", "amrnb", "libopencore_amrnb", "amr_wb", "amrwb"):
        return TimingPlan(
            "none",
            False,
            0,
            False,
            declared_samples,
            42 / 8000,
            "AMR: the storage format records no codec delay; times are late "
            "by the codec's algorithmic delay (about 5 ms: 4.9-5.8 ms measured)",
        )
    if first < 0:
        return TimingPlan(
            "container_skip",
            True,
            -first,
            False,
            declared_samples,
            0.0,
            f"{codec}: {-first} leading samples removed as the container signals",
        )
    return TimingPlan(
        "none",
        False,
        0,
        False,
        declared_samples,
        0.0,
        f"{codec}: no encoder delay recorded; timing offset not measured for this codec",
    )
