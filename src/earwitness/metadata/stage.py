"""The ``metadata`` stage: what the container says about itself, and where that is inconsistent.

Produces one whole-file ``metadata`` finding (label "container metadata") describing format,
streams (every audio track and video), tags, encoder strings, creation times and how encoder
delay was handled, plus one ``metadata_anomaly`` finding per inconsistency found by the rules
in :mod:`earwitness.metadata.checks`. Metadata is written by software and trivially edited:
consistent metadata proves nothing, and an anomaly is a question to investigate, not a verdict.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from earwitness.decode import ProbeInfo, iter_audio
from earwitness.decode.reader import DecodeReport
from earwitness.findings import Finding, load_error_rates
from earwitness.metadata.checks import (
    CHECKS,
    Anomaly,
    FileFacts,
    MetadataCheck,
    MetadataParams,
    parse_time,
    run_checks,
)
from earwitness.metadata.encoders import EncoderHint, encoder_fields, recognise
from earwitness.metadata.flac import decoded_md5, read_flac_tail, read_streaminfo
from earwitness.metadata.headers import (
    read_head_tail,
    read_mp3_header,
    read_ogg_tail,
    read_opus_head,
    read_wav_header,
    read_wav_trailer,
)
from earwitness.pipeline.stage import StageResult

if TYPE_CHECKING:
    from earwitness.pipeline.context import AnalysisContext

METHOD = "container/header consistency rules (earwitness.metadata.checks)"


def _decode_report(path: Path, ctx: AnalysisContext) -> DecodeReport:
    """Decode once at the native rate, streaming (bounded memory), for the decode report."""
    reports: list[DecodeReport] = []
    for _ in iter_audio(
        path, sr=None, mono=True, chunk_s=60.0, limits=ctx.options.limits, on_report=reports.append
    ):
        pass
    return reports[0]


def gather_facts(
    path: Path,
    probe: ProbeInfo,
    decode: DecodeReport,
    *,
    now: datetime | None = None,
    ingested_at: datetime | None = None,
    collected_at: datetime | None = None,
) -> FileFacts:
    """Read the raw headers of ``path`` and assemble the :class:`FileFacts` the checks use."""
    head, tail = read_head_tail(path, tail=70_000)  # an Ogg page is at most 65 307 bytes
    codec = probe.audio.codec
    mp3 = read_mp3_header(head, tail=tail) if codec in ("mp3", "mp3float") else None
    wav = read_wav_header(head, file_size=probe.size) if "wav" in probe.format else None
    if wav is not None:
        wav = read_wav_trailer(path, wav)
    opus = read_opus_head(head) if codec == "opus" and "ogg" in probe.format else None
    ogg = read_ogg_tail(tail) if probe.format == "ogg" else None
    flac = read_streaminfo(head) if probe.format == "flac" else None
    flac_md5 = None
    flac_tail = read_flac_tail(path, head=head, file_size=probe.size) if flac is not None else None
    if flac is not None and flac.has_md5 and decode.native_samples == flac.total_samples:
        flac_md5 = decoded_md5(path, bits_per_sample=flac.bits_per_sample)
    hints: list[EncoderHint] = recognise("container", probe.tags)
    for s in probe.streams:
        hints.extend(recognise(f"stream {s.index}", s.tags))
    if mp3 is not None and mp3.encoder:
        hints.extend(recognise("LAME tag", {"lame_tag": mp3.encoder}))
    if opus is not None and opus.vendor:
        hints.extend(recognise("OpusTags", {"opus_vendor": opus.vendor}))
    return FileFacts(
        probe=probe,
        decode=decode,
        mp3=mp3,
        wav=wav,
        opus=opus,
        ogg_tail=ogg,
        flac=flac,
        flac_decoded_md5=flac_md5,
        flac_tail=flac_tail,
        hints=tuple(hints),
        now=now or datetime.now(UTC),
        ingested_at=ingested_at,
        collected_at=collected_at,
    )


def describe(facts: FileFacts) -> dict[str, Any]:
    """The details of the whole-file ``metadata`` finding."""
    p = facts.probe
    d = facts.decode
    timing = p.timing.to_dict() if p.timing else None
    return {
        "format": p.format,
        "format_long": p.format_long,
        "size_bytes": p.size,
        "declared_duration_s": p.duration_s,
        "decoded_duration_s": d.duration_s,
        "container_bit_rate": p.bit_rate,
        "container_tags": dict(p.tags),
        "streams": [
            {k: v for k, v in vars(s).items() if v not in (None, "", {})} for s in p.streams
        ],
        "analysed_audio_stream": p.audio.index,
        "audio_tracks": len(p.audio_streams),
        "video_streams": [s.index for s in p.streams if s.type == "video"],
        "encoder_tags": {
            "container": encoder_fields(p.tags),
            **{f"stream {s.index}": encoder_fields(s.tags) for s in p.streams},
        },
        "software_hints": [h.to_dict() for h in facts.hints],
        "creation_times": {
            **{
                f"container {k}": v
                for k, v in p.tags.items()
                if k in ("creation_time", "date", "ICRD", "TDRC")
            },
            **{
                f"stream {s.index}": s.tags["creation_time"]
                for s in p.streams
                if "creation_time" in s.tags
            },
        },
        "timing": {
            "plan": timing,
            "priming_removed_samples": d.priming_removed,
            "padding_removed_samples": d.padding_removed,
            "native_sr": d.native_sr,
        },
        "decode": {
            "decode_errors": d.decode_errors,
            "truncated": d.truncated,
            "error": d.error,
            "gaps": [list(g) for g in d.gaps],
        },
        "mp3_header": facts.mp3.to_dict() if facts.mp3 else None,
        "wav_header": facts.wav.to_dict() if facts.wav else None,
        "opus_head": facts.opus.to_dict() if facts.opus else None,
        "ogg_last_page": facts.ogg_tail.to_dict() if facts.ogg_tail else None,
        "flac_streaminfo": facts.flac.to_dict() if facts.flac else None,
        "flac_decoded_md5": facts.flac_decoded_md5,
        "flac_tail": facts.flac_tail.to_dict() if facts.flac_tail else None,
    }


def _store_times(
    ctx: AnalysisContext,
) -> tuple[datetime | None, datetime | None, str | None]:
    """Ingest and collection times from the store, and the store error when it failed."""
    if ctx.store is None:
        return None, None, None
    try:
        item = ctx.store.get(ctx.item_id)
    except Exception as exc:  # a store problem must not hide the metadata: it is reported
        return None, None, f"{type(exc).__name__}: {exc}"
    ingested = parse_time(item.ingested_at) if item.ingested_at else None
    collected = None
    if item.sources and item.sources[0].collected_at:
        collected = parse_time(item.sources[0].collected_at)
    return ingested, collected, None


@dataclass(frozen=True)
class MetadataStage:
    """Container metadata report and consistency checks (stage ``metadata``)."""

    name: ClassVar[str] = "metadata"
    version: ClassVar[str] = "1.0"
    description: ClassVar[str] = (
        "Reads container and stream headers, tags and encoder strings, and checks them "
        "against each other and against the decoded audio."
    )
    requires: ClassVar[tuple[str, ...]] = ()
    heavy: ClassVar[bool] = False

    config: MetadataParams = field(default_factory=MetadataParams)
    checks: Sequence[MetadataCheck] = CHECKS

    def params(self) -> Mapping[str, Any]:
        return {**self.config.to_dict(), "checks": [c.name for c in self.checks]}

    def enabled(self, ctx: AnalysisContext) -> str | None:
        return None

    def run(self, ctx: AnalysisContext) -> StageResult:
        decode = _decode_report(ctx.path, ctx)
        ingested, collected, store_error = _store_times(ctx)
        facts = gather_facts(
            ctx.path, ctx.probe, decode, ingested_at=ingested, collected_at=collected
        )
        return self.evaluate(facts, store_error=store_error)

    def evaluate(self, facts: FileFacts, *, store_error: str | None = None) -> StageResult:
        """Findings and summary for already gathered ``facts`` (no I/O).

        ``store_error``: why the item's ingest and collection times could not be read from
        the evidence store; the checks against them were then not made, and that is said.
        """
        anomalies = run_checks(facts, self.config, self.checks)
        duration = facts.decoded_s
        rates = load_error_rates("metadata")
        details = describe(facts)
        findings = [
            Finding(
                kind="metadata",
                start_s=0.0,
                end_s=duration,
                score=math.nan,
                label="container metadata",
                details=details,
                method=METHOD,
            )
        ]
        findings.extend(_anomaly_finding(a, duration, rates) for a in anomalies)
        timing = facts.probe.timing
        limitations = [
            "Metadata is written by software and can be edited by anyone: consistent "
            "metadata is not evidence of authenticity, and missing tags are common."
        ]
        if timing is not None and not timing.exact:
            limitations.append(f"Timing: {timing.note}.")
        if store_error is not None:
            limitations.append(
                "The creation times were not checked against the ingest and collection times: "
                f"the evidence store could not be read ({store_error})."
            )
        summary = {
            "format": facts.probe.format,
            "codec": facts.probe.audio.codec,
            "sample_rate": facts.probe.audio.sample_rate,
            "channels": facts.probe.audio.channels,
            "decoded_duration_s": duration,
            "declared_duration_s": facts.probe.duration_s,
            "audio_tracks": len(facts.probe.audio_streams),
            "video_streams": len(details["video_streams"]),
            "software": sorted({h.software for h in facts.hints}),
            "timing_method": timing.method if timing else None,
            "timing_exact": timing.exact if timing else None,
            "timing_note": timing.note if timing else None,
            "anomalies": len(anomalies),
            "anomaly_codes": [a.code for a in anomalies],
            "store_error": store_error,
        }
        return StageResult(
            findings=tuple(findings),
            params=self.params(),
            summary=summary,
            limitations=tuple(limitations),
        )


def _anomaly_finding(a: Anomaly, duration: float, rates: Any) -> Finding:
    start = a.start_s if a.start_s is not None else 0.0
    end = a.end_s if a.end_s is not None else duration
    start = min(max(0.0, start), duration)
    end = min(max(start, end), max(duration, start))
    return Finding(
        kind="metadata_anomaly",
        start_s=start,
        end_s=end,
        score=1.0,
        label=a.label,
        details={"code": a.code, "reason": a.reason, "values": a.values},
        method=METHOD,
        error_rates=rates,
    )
