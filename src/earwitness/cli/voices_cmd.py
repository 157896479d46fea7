"""``earwitness voices``: the reference voice library (add, list, remove), archive speaker
profiles (index) and speaker-verification figures on labelled data (validate)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from tqdm import tqdm

from earwitness.cli.common import print_json, progress_enabled, store_dir
from earwitness.custody.store import EvidenceStore
from earwitness.errors import ModelError
from earwitness.speakers.archive import SpeakerCache
from earwitness.speakers.calibration import load_speaker_calibration
from earwitness.speakers.embedder import DEFAULT_EMBEDDER, get_embedder
from earwitness.speakers.library import VoiceLibrary
from earwitness.speakers.validate import validate_folder


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "voices",
        help="reference voice library, archive speaker index, speaker-verification figures",
        description=(
            "Manage the reference voice library of the evidence store. Reference files are "
            "ingested as evidence (byte-exact, hashed) and every change is audited. During "
            "analysis each diarized speaker is compared with every library voice and the "
            "result is given as a calibrated log-likelihood ratio (natural log), never a raw "
            "similarity score."
        ),
    )
    vs = p.add_subparsers(dest="voices_command", metavar="ACTION", required=True)

    a = vs.add_parser("add", parents=[common], help="add a named voice from reference files")
    a.add_argument("name", help="the voice's name (letters, digits, spaces, . ' - _)")
    a.add_argument("files", nargs="+", metavar="FILE", help="recordings of that voice only")
    a.add_argument("--note", default="", help="free text kept with the voice (provenance)")
    a.add_argument("--embedder", default=DEFAULT_EMBEDDER, help=argparse.SUPPRESS)
    a.add_argument("--json", action="store_true")
    a.set_defaults(func=run_add)

    ls = vs.add_parser("list", parents=[common], help="list the library's voices")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=run_list)

    rm = vs.add_parser(
        "remove", parents=[common], help="remove a voice (its reference files stay in the store)"
    )
    rm.add_argument("name")
    rm.set_defaults(func=run_remove)

    ix = vs.add_parser(
        "index",
        parents=[common],
        help="compute speaker profiles of archive items for recurrence search",
    )
    ix.add_argument("--force", action="store_true", help="recompute cached profiles too")
    ix.add_argument("--embedder", default=DEFAULT_EMBEDDER, help=argparse.SUPPRESS)
    ix.add_argument("--json", action="store_true")
    ix.set_defaults(func=run_index)

    va = vs.add_parser(
        "validate",
        help="EER, Cllr and a Tippett plot on a folder of labelled recordings",
        description=(
            "Speaker labels come from DIR/labels.csv (columns file,speaker) or from file "
            "names <anything>_<speaker>_<n>.<ext> (as in the Free Spoken Digit Dataset). "
            "Every pair of recordings is a trial; LLRs use the shipped calibration."
        ),
    )
    va.add_argument("folder", metavar="LABELLED_DIR")
    va.add_argument(
        "--group",
        type=int,
        default=1,
        help="concatenate this many files of one speaker per recording (default 1)",
    )
    va.add_argument(
        "--per-speaker",
        type=int,
        default=None,
        metavar="N",
        help="use at most N recordings per speaker (a subset)",
    )
    va.add_argument("--seed", type=int, default=0)
    va.add_argument(
        "--plot",
        default="tippett.png",
        metavar="PNG",
        help="where to write the Tippett plot (default tippett.png)",
    )
    va.add_argument("--json", action="store_true")
    va.set_defaults(func=run_validate)


def run_add(args: argparse.Namespace) -> int:
    embedder = get_embedder(args.embedder)
    with EvidenceStore.open(store_dir(args.store)) as store:
        entry = VoiceLibrary(store).add(args.name, args.files, embedder=embedder, note=args.note)
    if args.json:
        print_json(entry.to_dict())
    else:
        print(
            f"added voice {entry.name!r}: {len(entry.files)} file(s), "
            f"{entry.speech_s:.1f} s of speech"
        )
        for f in entry.files:
            print(f"  {f.item_id}  {f.sha256}  {f.name}")
    return 0


def run_list(args: argparse.Namespace) -> int:
    with EvidenceStore.open(store_dir(args.store)) as store:
        entries = VoiceLibrary(store).entries()
    if args.json:
        print_json([e.to_dict() for e in entries])
        return 0
    if not entries:
        print("the voice library is empty (add one with `earwitness voices add NAME FILE...`)")
    for e in entries:
        note = f"  ({e.note})" if e.note else ""
        print(
            f"{e.name}: {len(e.files)} file(s), {e.speech_s:.1f} s of speech, "
            f"added {e.added_at}{note}"
        )
    return 0


def run_remove(args: argparse.Namespace) -> int:
    with EvidenceStore.open(store_dir(args.store)) as store:
        entry = VoiceLibrary(store).remove(args.name)
    print(
        f"removed voice {entry.name!r} (its {len(entry.files)} reference file(s) remain "
        "in the store)"
    )
    return 0


def run_index(args: argparse.Namespace) -> int:
    embedder = get_embedder(args.embedder)
    done: list[dict[str, Any]] = []
    with EvidenceStore.open(store_dir(args.store)) as store:
        cache = SpeakerCache(store, embedder)
        items = store.items()
        for item in tqdm(items, desc="voices index", unit="item", disable=not progress_enabled()):
            if not args.force and cache.load(item.id) is not None:
                continue
            try:
                prof = cache.compute(item)
                done.append({"item_id": item.id, "speakers": len(prof.speakers)})
            except Exception as exc:  # reported per item; the rest of the archive goes on
                done.append({"item_id": item.id, "error": f"{type(exc).__name__}: {exc}"})
    if args.json:
        print_json(done)
    else:
        print(
            f"profiled {sum('error' not in d for d in done)} item(s), "
            f"{sum('error' in d for d in done)} failed, of {len(items)} in the store"
        )
        for d in done:
            if "error" in d:
                print(f"  {d['item_id']}: {d['error']}", file=sys.stderr)
    return 1 if any("error" in d for d in done) else 0


def run_validate(args: argparse.Namespace) -> int:
    cal = load_speaker_calibration()
    if cal is None:
        raise ModelError("no speaker calibration shipped (run benchmarks/calibrate_speakers.py)")
    res = validate_folder(
        args.folder,
        embedder=get_embedder(),
        calibration=cal,
        group=args.group,
        per_speaker=args.per_speaker,
        seed=args.seed,
    )
    Path(args.plot).write_bytes(res.tippett_png)
    out = {**res.to_dict(), "tippett_plot": str(args.plot)}
    if args.json:
        print_json(out)
    else:
        print(
            f"{res.recordings} recordings of {len(res.speakers)} speakers "
            f"({res.n_target} same-speaker, {res.n_nontarget} different-speaker trials)"
        )
        print(
            f"EER {100 * res.eer:.2f}%   Cllr {res.cllr:.3f} bits   "
            f"min Cllr {res.min_cllr:.3f} bits   (LLRs: natural log)"
        )
        print(f"calibration: {res.calibration_dataset}")
        print(f"Tippett plot: {args.plot}")
        print(out["caution"])
    return 0
