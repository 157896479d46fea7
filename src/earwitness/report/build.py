"""Assemble ``report.json`` (schema ``earwitness.report/1``) from the stage runs of one item.

The report keeps results (``findings``) apart from interpretation (``limitations``), names the
method, version and parameters of every stage (``stages``), and records the custody facts
(hash re-verified against the stored original, audit chain head) at the time of analysis.
The JSON Schema is shipped as ``earwitness/report/schema/report.schema.json``;
``docs/report-schema.md`` documents every field.
"""

from __future__ import annotations

import hashlib
import platform
import sys
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from earwitness import __version__
from earwitness.findings import json_value
from earwitness.pipeline.stage import StageRun

if TYPE_CHECKING:
    from earwitness.custody.records import AuditEntry, ItemRecord
    from earwitness.custody.store import EvidenceStore
    from earwitness.pipeline.context import AnalyzeOptions

SCHEMA_ID = "earwitness.report/1"

#: The question each agreed stage addresses, in plain words (third-party stages may expose a
#: ``questions`` summary entry instead; see :func:`_questions`).
STAGE_QUESTIONS: Mapping[str, str] = {
    "metadata": "What does the file say about itself (container, codec, tags, dates)?",
    "archive_match": "Is this a re-upload of archived material, or does it reuse parts of it?",
    "duplicated_segments": "Are any segments pasted or looped within the recording?",
    "edit_points": "Are there points where the recording appears to have been cut or spliced?",
    "compression": "Was the audio lossy-encoded before its present encoding?",
    "voice_background": "Do the voice and the background share the same acoustic space?",
    "acoustic_events": "Which background events (gunfire, explosions, aircraft...) occur, "
    "and when?",
    "speech": "What is said, in which language, and what does it mean in English?",
    "speakers": "How many speakers are there, and how close is each to known reference voices?",
}

GENERAL_LIMITATIONS: tuple[str, ...] = (
    "These are findings, not verdicts: each names its method, parameters and score. "
    "earwitness never declares a recording authentic or fake.",
    "No edit, duplication or match found is not proof of authenticity: a careful forger, "
    "heavy re-encoding or a short recording can leave no trace these methods detect.",
    "A finding is not proof of manipulation either: benign processing (platform "
    "re-encoding, noise suppression, normal editing of a broadcast) can produce the same "
    "signals. Weigh each finding against its measured error rate.",
    "Error rates were measured on the validation data named beside them; real recordings "
    "can differ from that data, so the rates are indications, not guarantees.",
    "Times are seconds from the first presented sample of the decoded original (encoder "
    "delay removed).",
    "All analysis ran on decoded copies; the stored original was not modified.",
)

HASH_BLOCK = 1 << 20


def sha256_file(path: Path) -> str:
    """SHA-256 (hex) of a file, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(HASH_BLOCK):
            h.update(block)
    return h.hexdigest()


def generator_info() -> dict[str, Any]:
    """Name and versions of the software that produced the report."""
    import av
    import numpy as np

    ffmpeg = getattr(av, "ffmpeg_version_info", None)
    libs = getattr(av, "library_versions", {}) or {}
    return {
        "name": "earwitness",
        "version": __version__,
        "python": platform.python_version(),
        "platform": f"{sys.platform}-{platform.machine()}",
        "numpy": np.__version__,
        "av": av.__version__,
        "ffmpeg": str(ffmpeg) if ffmpeg else None,
        "libraries": {k: ".".join(str(x) for x in v) for k, v in libs.items()},
    }


def item_section(item: ItemRecord) -> dict[str, Any]:
    """The item: identity, size, sightings and a summary of the container probe."""
    probe = dict(item.probe)
    streams = list(probe.get("streams") or [])
    audio_pos = int(probe.get("audio_stream") or 0)
    audio: Mapping[str, Any] = streams[audio_pos] if 0 <= audio_pos < len(streams) else {}
    return {
        "id": item.id,
        "sha256": item.sha256,
        "size": int(item.size),
        "original_name": item.original_name,
        "duration_s": round(float(item.duration_s), 4),
        "format": item.format,
        "ingested_at": item.ingested_at,
        "sources": [
            {
                "source": s.source,
                "original_name": s.original_name,
                "collected_at": s.collected_at,
                "ingested_at": s.ingested_at,
                "host": s.host,
                "user": s.user,
                "path": s.path,
            }
            for s in item.sources
        ],
        "probe": {
            "format": probe.get("format"),
            "format_long": probe.get("format_long"),
            "duration_s": probe.get("duration_s"),
            "bit_rate": probe.get("bit_rate"),
            "codec": audio.get("codec"),
            "sample_rate": audio.get("sample_rate"),
            "channels": audio.get("channels"),
            "channel_layout": audio.get("channel_layout"),
            "tags": {str(k): str(v) for k, v in (probe.get("tags") or {}).items()},
            "streams": [
                {
                    "index": s.get("index"),
                    "type": s.get("type"),
                    "codec": s.get("codec"),
                    "sample_rate": s.get("sample_rate"),
                    "channels": s.get("channels"),
                    "bit_rate": s.get("bit_rate"),
                    "duration_s": s.get("duration_s"),
                    "tags": {str(k): str(v) for k, v in (s.get("tags") or {}).items()},
                }
                for s in streams
            ],
        },
    }


def custody_section(item: ItemRecord, store: EvidenceStore | None) -> dict[str, Any]:
    """Re-hash the stored original and record the audit chain head at analysis time."""
    if store is None:
        return {
            "store": None,
            "original_path": None,
            "sha256_recorded": item.sha256,
            "sha256_at_analysis": None,
            "verified": False,
            "audit_head": None,
            "statement": "No evidence store was used; the original was not re-verified.",
        }
    original = Path(store.original_path(item))
    actual = sha256_file(original)
    head = _audit_head(store)
    verified = actual == item.sha256
    statement = (
        "The stored original was re-hashed at analysis time and matches the SHA-256 "
        "recorded at ingest; analysis worked on decoded copies and did not modify it."
        if verified
        else "WARNING: the stored original does NOT match the SHA-256 recorded at ingest."
    )
    return {
        "store": str(Path(store.root).resolve()),
        "original_path": str(original),
        "sha256_recorded": item.sha256,
        "sha256_at_analysis": actual,
        "verified": verified,
        "audit_head": (
            {"seq": head.seq, "hash": head.hash, "at": head.at, "action": head.action}
            if head is not None
            else None
        ),
        "audit_entries_for_item": len(store.audit_entries(item.id)),
        "statement": statement,
    }


def _audit_head(store: EvidenceStore) -> AuditEntry | None:
    """The last audit entry, through the catalog's head lookup when it has one (cheap on a
    large store), else the last of all entries."""
    catalog = getattr(store, "catalog", None)
    if catalog is not None and hasattr(catalog, "head") and hasattr(catalog, "entry_at"):
        head = catalog.head()
        entry: AuditEntry | None = catalog.entry_at(head[0]) if head is not None else None
        return entry
    entries = store.audit_entries()
    return entries[-1] if entries else None


def stage_section(run: StageRun) -> dict[str, Any]:
    res = run.result
    return {
        "name": run.name,
        "version": run.version,
        "description": run.description,
        "status": run.status,
        "error": run.error,
        "reason": run.reason,
        "elapsed_s": round(float(run.elapsed_s), 3),
        "params": json_value(dict(run.params)),
        "findings": len(res.findings) if res is not None else 0,
        "artifacts": sorted(res.artifacts) if res is not None else [],
        "limitations": list(res.limitations) if res is not None else [],
    }


def _questions(runs: Sequence[StageRun], options: AnalyzeOptions) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for run in runs:
        extra = run.result.summary.get("questions") if run.result is not None else None
        texts = [STAGE_QUESTIONS.get(run.name, f"{run.description}")]
        if isinstance(extra, list | tuple):
            texts = [str(q) for q in extra]
        for text in texts:
            out.append(
                {
                    "question": text,
                    "stage": run.name,
                    "addressed": run.status == "ok",
                    "status": run.status,
                }
            )
    if options.watchlist:
        ok = any(r.name == "speech" and r.status == "ok" for r in runs)
        out.append(
            {
                "question": "Are any of these names or phrases said: "
                + ", ".join(f"“{w}”" for w in options.watchlist)
                + "?",
                "stage": "speech",
                "addressed": ok,
                "status": "ok" if ok else "not run",
            }
        )
    return out


def _language(summary: Mapping[str, Any]) -> dict[str, Any] | None:
    for stage_name, s in summary.items():
        if isinstance(s, Mapping) and s.get("language"):
            prob = s.get("language_probability")
            return {
                "code": str(s["language"]),
                "probability": float(prob) if isinstance(prob, int | float) else None,
                "stage": stage_name,
            }
    return None


def sort_findings(findings: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Findings in time order (start, end, kind), numbered ``F1``, ``F2``... in that order."""
    ordered = sorted(
        (dict(f) for f in findings),
        key=lambda f: (float(f["start_s"]), float(f["end_s"]), str(f["kind"])),
    )
    out = []
    for i, f in enumerate(ordered, start=1):
        out.append({"id": f"F{i}", **{k: v for k, v in f.items() if k != "id"}})
    return out


def build_report(
    *,
    item: ItemRecord,
    runs: Sequence[StageRun],
    options: AnalyzeOptions,
    store: EvidenceStore | None,
    created_at: str | None = None,
) -> dict[str, Any]:
    """The report dictionary (JSON-ready) for one analysed item. Validates against
    :func:`earwitness.report.schema.validate_report`."""
    findings = sort_findings(
        f.to_dict() for run in runs if run.result is not None for f in run.result.findings
    )
    summary = {
        run.name: json_value(dict(run.result.summary))
        for run in runs
        if run.result is not None and run.result.summary
    }
    counts: dict[str, int] = {}
    for f in findings:
        counts[f["kind"]] = counts.get(f["kind"], 0) + 1
    return {
        "schema": SCHEMA_ID,
        "generator": generator_info(),
        "created_at": created_at or datetime.now(UTC).isoformat(timespec="seconds"),
        "item": item_section(item),
        "custody": custody_section(item, store),
        "questions": _questions(runs, options),
        "options": json_value(options.to_dict()),
        "stages": [stage_section(r) for r in runs],
        "findings": findings,
        "finding_counts": counts,
        "summary": summary,
        "language": _language(summary),
        "limitations": {
            "general": list(GENERAL_LIMITATIONS),
            "stages": {
                r.name: list(r.result.limitations)
                for r in runs
                if r.result is not None and r.result.limitations
            },
        },
    }
