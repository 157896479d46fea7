"""``earwitness demo``: make a staged recording, ingest it into a demo store, analyse it."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from earwitness.analysis import analyze_item, ingest_for_analysis, make_context
from earwitness.cli.common import print_json
from earwitness.custody.store import EvidenceStore
from earwitness.demo import write_demo_recording
from earwitness.pipeline import AnalyzeOptions, StageRegistry, default_registry

DEFAULT_DIR = Path("demo-output")


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "demo",
        help="analyse a staged recording made in code (offline, under a minute)",
        description=(
            "Make a staged recording in code (speech-like babble over room noise, one "
            "gunshot sample pasted three times, a splice with a noise-floor jump; AAC in "
            ".m4a), ingest it into a demo evidence store (default ./demo-output/store, never "
            "your real store unless --store says so) and analyse it. Speech stages run if a "
            "model is installed. Prints where the report is."
        ),
    )
    del common  # not used: the demo's --store has its own default, never the real store
    p.add_argument(
        "--store",
        metavar="DIR",
        default=None,
        help="evidence store for the demo (default: DIR/store under --out)",
    )
    p.add_argument(
        "--out",
        metavar="DIR",
        default=None,
        help="directory for the recording and report (default ./demo-output)",
    )
    p.add_argument("--json", action="store_true", help="print the paths as JSON")
    p.set_defaults(func=run)


def speech_skip_reason(registry: StageRegistry, ctx: Any) -> str | None:
    """Why the speech stage would not run here (None: it will), asked of its ``enabled()``."""
    if "speech" not in registry:
        return "no speech stage is registered"
    return registry.get("speech").enabled(ctx)


def run(args: argparse.Namespace, registry: StageRegistry | None = None) -> int:
    base = Path(args.out) if args.out else DEFAULT_DIR
    store_root = Path(args.store).expanduser() if args.store else base / "store"
    base.mkdir(parents=True, exist_ok=True)
    recording = base / "staged-statement.m4a"
    truth = write_demo_recording(recording)
    registry = registry or default_registry()
    with EvidenceStore.open(store_root) as store:
        item = ingest_for_analysis(store, recording, source="earwitness demo (synthetic)")
        options = AnalyzeOptions(limits=store.limits)
        reason = speech_skip_reason(registry, make_context(store, item, options))
        if reason is not None:
            options = AnalyzeOptions(limits=store.limits, no_asr=True)
            print(f"speech stages off: {reason}", file=sys.stderr)
        outcome = analyze_item(
            item, base / "report", store=store, options=options, registry=registry
        )
    failed = [r.name for r in outcome.runs if r.status == "failed"]
    if args.json:
        print_json(
            {
                "recording": str(recording),
                "ground_truth": truth.to_dict(),
                "store": str(store_root),
                "item_id": outcome.item_id,
                "report_html": str(outcome.report_html),
                "report_json": str(outcome.report_json),
                "labels": str(outcome.labels),
                "findings": len(outcome.report["findings"]),
                "failed_stages": failed,
            }
        )
        return 0
    print(f"staged recording: {recording}")
    print(
        f"  gunshot pasted at {', '.join(f'{s:g} s' for s in truth.gunshot_starts_s)}; "
        f"splice at {truth.splice_s:g} s (noise floor +{truth.noise_floor_jump_db:g} dB)"
    )
    print(f"demo store: {store_root}  item {outcome.item_id}")
    print(f"{len(outcome.report['findings'])} findings")
    for r in outcome.runs:
        extra = f" ({r.error or r.reason})" if r.status != "ok" else ""
        print(f"  {r.name:<24} {r.status}{extra}")
    print(f"report: {outcome.report_html.resolve()}")
    print(f"        {outcome.report_json.resolve()}")
    print(f"labels: {outcome.labels.resolve()}  (Audacity: File > Import > Labels)")
    return 0
