"""Custody commands: ``ingest``, ``items``, ``show``, ``verify``, ``export``."""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tqdm import tqdm

from earwitness.cli.common import print_json, progress_enabled, store_dir
from earwitness.custody.chain import entry_to_dict
from earwitness.custody.records import IngestOutcome, ItemRecord
from earwitness.custody.store import EvidenceStore


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "ingest",
        parents=[common],
        help="store files as evidence (byte-exact, hashed, logged)",
        description=(
            "Store each FILE (folders are walked recursively) in the evidence store: the "
            "bytes are kept unchanged under their SHA-256, the file is decoded once to check "
            "it is usable audio, and an audit entry is written. The same bytes again are "
            "recognised as a duplicate and the new source is recorded. Re-running after an "
            "interruption skips files already ingested from the same path. Exit status 0 "
            "when every file was added or already present, 1 when any was rejected (the "
            "others are still ingested)."
        ),
    )
    p.add_argument("paths", nargs="+", metavar="FILE_OR_DIR")
    p.add_argument("--source", help="where the files came from (URL, channel/post id...)")
    p.add_argument("--collected-at", metavar="ISO", help="when they were collected (ISO 8601)")
    p.add_argument(
        "--no-recursive",
        dest="recursive",
        action="store_false",
        help="in folders, take only the files directly inside",
    )
    p.add_argument(
        "--no-resume",
        dest="resume",
        action="store_false",
        help="re-hash and re-record files already ingested from the same path",
    )
    p.add_argument("--max-bytes", type=int, metavar="N", help="reject files larger than N bytes")
    p.add_argument(
        "--max-duration", type=float, metavar="SECONDS", help="reject recordings longer than this"
    )
    p.add_argument("--json", action="store_true", help="print a JSON list, one object per file")
    p.set_defaults(func=run_ingest)

    p = sub.add_parser("items", parents=[common], help="list stored items")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run_items)

    p = sub.add_parser(
        "show", parents=[common], help="one item: provenance, sources, probe, audit trail, reports"
    )
    p.add_argument("id", metavar="ID", help="item id or a unique SHA-256 prefix (8+ digits)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run_show)

    p = sub.add_parser(
        "verify",
        parents=[common],
        help="re-hash every original and check the audit chain (exit 1 on any problem)",
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run_verify)

    p = sub.add_parser(
        "export",
        parents=[common],
        help="write an evidence bundle (original, report, audit, SHA256SUMS)",
    )
    p.add_argument("id", metavar="ID")
    p.add_argument("--out", required=True, metavar="DIR", help="new or empty directory")
    p.set_defaults(func=run_export)


def _open(args: argparse.Namespace) -> EvidenceStore:
    store = EvidenceStore.open(store_dir(args.store))
    changes: dict[str, Any] = {}
    if getattr(args, "max_bytes", None) is not None:
        changes["max_bytes"] = args.max_bytes
    if getattr(args, "max_duration", None) is not None:
        changes["max_duration_s"] = args.max_duration
    if changes:
        store.limits = dataclasses.replace(store.limits, **changes)
    return store


def iter_inputs(paths: list[str], *, recursive: bool) -> Iterator[Path]:
    """Files named, and files in folders named (sorted; hidden files skipped)."""
    for arg in paths:
        p = Path(arg)
        if not p.is_dir():
            yield p
            continue
        if recursive:
            for dirpath, dirnames, filenames in os.walk(p):
                dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
                for name in sorted(filenames):
                    if not name.startswith("."):
                        yield Path(dirpath) / name
        else:
            yield from sorted(c for c in p.iterdir() if c.is_file() and not c.name.startswith("."))


def run_ingest(args: argparse.Namespace) -> int:
    store = _open(args)
    files = list(iter_inputs(args.paths, recursive=args.recursive))
    outcomes: list[IngestOutcome] = []
    bar = tqdm(files, desc="ingest", unit="file", disable=not progress_enabled(), file=sys.stderr)
    try:
        for path in bar:
            outcome = store.ingest(
                path, source=args.source, collected_at=args.collected_at, resume=args.resume
            )
            outcomes.append(outcome)
            if outcome.status == "rejected":
                tqdm.write(f"earwitness: rejected {outcome.path}: {outcome.error}", file=sys.stderr)
            elif not args.json:
                item = outcome.item
                assert item is not None
                label = "skipped" if outcome.note else outcome.status
                tqdm.write(
                    f"{label:<9} {item.id}  {item.duration_s:9.2f} s  {outcome.path}",
                    file=sys.stdout,
                )
    finally:
        bar.close()
        store.close()
    rejected = [o for o in outcomes if o.status == "rejected"]
    if args.json:
        print_json([o.to_dict() for o in outcomes])
    else:
        counts = {
            s: sum(o.status == s for o in outcomes) for s in ("added", "duplicate", "rejected")
        }
        skipped = sum(o.note is not None for o in outcomes)
        print(
            f"{len(outcomes)} files: {counts['added']} added, {counts['duplicate']} "
            f"duplicate ({skipped} skipped as already ingested), {counts['rejected']} rejected"
        )
        for o in rejected:
            print(f"  rejected {o.path}: {o.error}")
    return 1 if rejected else 0


def _item_summary(item: ItemRecord) -> dict[str, Any]:
    first = item.sources[0] if item.sources else None
    return {
        "id": item.id,
        "sha256": item.sha256,
        "size": item.size,
        "duration_s": item.duration_s,
        "format": item.format,
        "original_name": item.original_name,
        "source": first.source if first else None,
        "ingested_at": item.ingested_at,
        "sightings": len(item.sources),
    }


def run_items(args: argparse.Namespace) -> int:
    with _open(args) as store:
        items = store.items()
    if args.json:
        print_json([_item_summary(i) for i in items])
        return 0
    if not items:
        print(f"no items in {store.root}")
        return 0
    print(f"{'ID':<16}  {'DURATION':>9}  {'FORMAT':<10}  {'NAME':<30}  {'SOURCE':<24}  INGESTED")
    for i in items:
        s = _item_summary(i)
        print(
            f"{s['id']:<16}  {i.duration_s:8.1f}s  {s['format'][:10]:<10}  "
            f"{i.original_name[:30]:<30}  {str(s['source'] or '-')[:24]:<24}  {i.ingested_at}"
        )
    print(f"{len(items)} items")
    return 0


def run_show(args: argparse.Namespace) -> int:
    with _open(args) as store:
        item = store.get(args.id)
        entries = store.audit_entries(item.id)
        reports = store.report_dirs(item.id)
        original = store.original_path(item)
    data = {
        **_item_summary(item),
        "original_path": str(original),
        "sources": [dataclasses.asdict(s) for s in item.sources],
        "probe": dict(item.probe),
        "audit": [entry_to_dict(e) for e in entries],
        "reports": [str(r) for r in reports],
    }
    if args.json:
        print_json(data)
        return 0
    print(f"item      {item.id}")
    print(f"sha256    {item.sha256}")
    print(f"name      {item.original_name}")
    print(f"size      {item.size} bytes")
    print(f"duration  {item.duration_s:.3f} s (decoded)")
    print(f"format    {item.format} ({_codec(item)})")
    print(f"ingested  {item.ingested_at}")
    print(f"original  {original}")
    print("sources:")
    for s in item.sources:
        extra = f", collected {s.collected_at}" if s.collected_at else ""
        print(
            f"  {s.ingested_at}  {s.source or '-'}  ({s.original_name}, {s.user}@{s.host}{extra})"
        )
    print("audit trail:")
    for e in entries:
        print(f"  #{e.seq:<6} {e.at}  {e.action:<12} {e.actor}  {e.hash[:16]}")
    print("reports:" if reports else "reports: none")
    for r in reports:
        print(f"  {r}")
    return 0


def _codec(item: ItemRecord) -> str:
    streams = item.probe.get("streams") or []
    pos = int(item.probe.get("audio_stream", 0) or 0)
    if not streams or pos >= len(streams):
        return "?"
    s = streams[pos]
    return f"{s.get('codec')}, {s.get('sample_rate')} Hz, {s.get('channels')} ch"


def run_verify(args: argparse.Namespace) -> int:
    with _open(args) as store:
        report = store.verify()
    if args.json:
        print_json(report.to_dict())
    else:
        for note in report.notes:
            print(f"note: {note}")
        if report.ok:
            print(
                f"OK: {report.items_checked} originals re-hashed, {report.entries_checked} "
                f"audit entries checked in {report.root}"
            )
        else:
            first = report.first_problem
            print(f"FAILED: {first}", file=sys.stderr)
            for p in report.problems[1:]:
                print(f"  also: {p}", file=sys.stderr)
    return 0 if report.ok else 1


def run_export(args: argparse.Namespace) -> int:
    with _open(args) as store:
        out = store.export(args.id, args.out)
    print(f"bundle written to {out}; check it with: cd {out} && sha256sum -c SHA256SUMS")
    return 0
