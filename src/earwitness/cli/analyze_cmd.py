"""``earwitness analyze``."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from tqdm import tqdm

from earwitness.analysis import analyze
from earwitness.cli.common import print_json, progress_enabled, store_dir
from earwitness.custody.store import EvidenceStore
from earwitness.pipeline import AnalyzeOptions


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "analyze",
        parents=[common],
        help="ingest a file and write report.json, report.html and labels.txt",
        description=(
            "Ingest FILE into the evidence store (a duplicate is recognised), run every "
            "analysis stage on the stored copy, and write DIR/report.json (machine-readable, "
            "versioned schema), DIR/report.html (self-contained, for people) and "
            "DIR/labels.txt (Audacity label track). A stage that fails is recorded in the "
            "report; the others still run."
        ),
    )
    p.add_argument("file", help="the recording to analyse")
    p.add_argument("--out", required=True, metavar="DIR", help="directory for the report files")
    p.add_argument("--source", help="where the file came from (URL, channel/post id...)")
    p.add_argument("--no-asr", action="store_true", help="skip transcription and translation")
    p.add_argument("--asr-model", metavar="NAME_OR_DIR", help="Whisper model name or directory")
    p.add_argument("--no-translate", action="store_true", help="do not translate to English")
    p.add_argument(
        "--watch",
        action="append",
        default=[],
        metavar="TERM",
        help="a name or phrase to search in the transcript and translation (repeatable)",
    )
    p.add_argument("--only", action="append", metavar="STAGE", help="run only this stage")
    p.add_argument("--skip", action="append", default=[], metavar="STAGE", help="skip a stage")
    p.add_argument(
        "--near-misses",
        action="store_true",
        help="also list archive candidates below the match threshold",
    )
    p.add_argument("--json", action="store_true", help="print the report summary as JSON")
    p.set_defaults(func=run)


def options_from_args(args: argparse.Namespace, store: EvidenceStore) -> AnalyzeOptions:
    return AnalyzeOptions(
        stages=tuple(args.only) if args.only else None,
        skip=tuple(args.skip),
        no_asr=args.no_asr,
        asr_model=args.asr_model,
        translate=not args.no_translate,
        watchlist=tuple(args.watch),
        show_near_misses=args.near_misses,
        limits=store.limits,
    )


def run(args: argparse.Namespace) -> int:
    with EvidenceStore.open(store_dir(args.store)) as store:
        options = options_from_args(args, store)
        bar = tqdm(
            total=1, desc="analyze", unit="stage", disable=not progress_enabled(), file=sys.stderr
        )

        def progress(name: str, i: int, n: int) -> None:
            bar.total = n
            bar.n = i
            bar.set_postfix_str(name)
            bar.refresh()

        try:
            outcome = analyze(
                args.file,
                args.out,
                store=store,
                options=options,
                source=args.source,
                progress=progress,
            )
        finally:
            bar.close()
    failed = [r.name for r in outcome.runs if r.status == "failed"]
    if args.json:
        print_json(
            {
                "item_id": outcome.item_id,
                "report_json": str(outcome.report_json),
                "report_html": str(outcome.report_html),
                "labels": str(outcome.labels),
                "findings": len(outcome.report["findings"]),
                "failed_stages": failed,
            }
        )
    else:
        print(f"item {outcome.item_id}: {len(outcome.report['findings'])} findings")
        for r in outcome.runs:
            extra = f" ({r.error or r.reason})" if r.status != "ok" else ""
            print(f"  {r.name:<24} {r.status}{extra}")
        print(f"report: {outcome.report_html}")
        print(f"        {outcome.report_json}")
        print(f"labels: {outcome.labels}")
    return 0
