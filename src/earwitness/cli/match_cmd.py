"""``earwitness match``: look a recording up in the archive index (without ingesting it)."""

from __future__ import annotations

import argparse
import hashlib
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from earwitness.cli.common import print_json, store_dir
from earwitness.custody.store import EvidenceStore
from earwitness.decode import load_audio
from earwitness.errors import InputError, NotFoundError
from earwitness.fingerprint.archive import (
    StoreReferences,
    rebuild,
    refine_with_store,
    remove_item,
    store_index,
)
from earwitness.fingerprint.exchange import export_fingerprints, import_fingerprints
from earwitness.fingerprint.matcher import load_match_params, match_audio


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "match",
        parents=[common],
        help="look a recording up in the archive (re-uploads, reused segments)",
        description=(
            "Look FILE up in the store's archive fingerprint index and list the stored items "
            "it matches: the query span, the span in the stored item and the speed factor. "
            "This is a look-up only: FILE is NOT ingested into the store (use `analyze` or "
            "`ingest` for that). Only matches above the calibrated threshold are listed, best "
            "first; --near-misses adds weaker candidates. The flags --rebuild-index, --remove, "
            "--export and --import maintain the index instead."
        ),
    )
    p.add_argument("file", nargs="?", help="the recording to look up")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument(
        "--near-misses", action="store_true", help="also list candidates below the threshold"
    )
    p.add_argument(
        "--explain",
        metavar="PNG",
        help="draw the best match: landmarks over both spectrograms, offset histogram",
    )
    p.add_argument(
        "--rebuild-index",
        action="store_true",
        help="rebuild the archive index from every stored original",
    )
    p.add_argument("--remove", metavar="ITEM", help="remove an item's fingerprints (audited)")
    p.add_argument("--reason", help="reason recorded in the audit log with --remove")
    p.add_argument("--export", metavar="OUT", help="export fingerprints (no audio) to OUT")
    p.add_argument(
        "--item",
        action="append",
        default=[],
        metavar="ITEM",
        help="with --export: only this item (repeatable; default all)",
    )
    p.add_argument(
        "--import",
        dest="import_path",
        metavar="FILE",
        help="import fingerprints exported by another team",
    )
    p.set_defaults(func=run)


def _maintain(args: argparse.Namespace, store: EvidenceStore) -> int:
    if args.rebuild_index:  # before opening: an index of an older version refuses to open
        n = rebuild(store)
        print(f"archive index rebuilt: {n} items")
    index = store_index(store)
    if args.remove:
        item = store.get(args.remove) if args.remove not in index else None
        item_id = item.id if item else args.remove
        if not remove_item(store, item_id, reason=args.reason):
            raise NotFoundError(f"{args.remove}: not in the archive index")
        print(f"removed {item_id} from the archive index")
    if args.export:
        n = export_fingerprints(index, args.item, Path(args.export))
        print(f"exported the fingerprints of {n} items to {args.export}")
    if args.import_path:
        n = import_fingerprints(index, Path(args.import_path))
        store.audit(
            "index_import", item_id=None, details={"file": str(args.import_path), "items": n}
        )
        print(f"imported the fingerprints of {n} items from {args.import_path}")
    return 0


def run(args: argparse.Namespace) -> int:
    store = EvidenceStore.open(store_dir(args.store))
    if args.rebuild_index or args.remove or args.export or args.import_path:
        return _maintain(args, store)
    if not args.file:
        raise InputError("match", "no FILE given")
    path = Path(args.file)
    if not path.is_file():
        raise InputError(path, "no such file")
    index = store_index(store)
    audio = load_audio(path, sr=index.params.sr, mono=True)
    if audio.samples.size == 0:
        raise InputError(path, "decodes to zero samples")
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    params = load_match_params()
    problems: list[str] = []
    res = match_audio(
        y=audio.samples,
        sr=audio.sr,
        index=index,
        params=params,
        references=StoreReferences(store, problems=problems),
    )
    refined = refine_with_store(
        store, res.matches, q_y=audio.samples, params=index.params, problems=problems
    )
    res = replace(res, matches=refined)
    for msg in problems:
        print(f"earwitness: note: {msg}", file=sys.stderr)
    out: dict[str, Any] = {
        "query": {"sha256": sha, "duration_s": round(audio.duration_s, 3)},
        "matches": [m.to_dict() for m in res.matches],
    }
    if args.near_misses:
        out["near_misses"] = [m.to_dict() for m in res.near_misses]
    if args.explain:
        best = (res.matches or res.near_misses or (None,))[0]
        if best is None:
            print("earwitness: nothing to explain (no candidate found)", file=sys.stderr)
        else:
            from earwitness.fingerprint.explain import explain_png

            ref_y = None
            try:
                item = store.get(best.item_id)
                ref_y = load_audio(store.original_path(item), sr=index.params.sr).samples
            except (NotFoundError, InputError) as exc:
                print(
                    f"earwitness: note: {args.explain} is drawn without the reference audio of "
                    f"item {best.item_id} ({exc})",
                    file=sys.stderr,
                )
            Path(args.explain).write_bytes(
                explain_png(
                    result=res, match=best, query_y=audio.samples, ref_y=ref_y, params=index.params
                )
            )
    if args.json:
        print_json(out)
        return 0
    print(f"{path}: {audio.duration_s:.2f} s, archive {res.archive_hours:.2f} h")
    if not res.matches:
        print("no match above the threshold")
    for m in res.matches:
        print(
            f"  {m.item_id}: query {m.query_start_s:.2f}-{m.query_end_s:.2f} s = ref "
            f"{m.ref_start_s:.2f}-{m.ref_end_s:.2f} s, speed {m.speed:.3f}, score "
            f"{m.score:.1f} ({m.expected_false_matches:.2g} chance matches expected)"
        )
    for m in res.near_misses if args.near_misses else ():
        print(
            f"  near-miss {m.item_id}: query {m.query_start_s:.2f}-{m.query_end_s:.2f} s, "
            f"score {m.score:.1f}"
        )
    return 0
