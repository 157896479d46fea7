"""``earwitness`` entry point. Each command group lives in its own module with ``register()``."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from earwitness import __version__
from earwitness.cli import analyze_cmd, custody_cmds, demo_cmd, match_cmd, speech_cmds, voices_cmd
from earwitness.errors import EarwitnessError

COMMAND_MODULES = (custody_cmds, analyze_cmd, speech_cmds, demo_cmd, match_cmd, voices_cmd)

DESCRIPTION = """\
earwitness: verify purported audio statements and keep an evidence archive of them.

Originals are stored byte-exact, hashed and logged in a hash-chained audit log before any
analysis. Reports give findings (method, parameters, score, measured error rates), never
verdicts. Nothing reaches the network.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="earwitness",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"earwitness {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--store",
        metavar="DIR",
        default=None,
        help="evidence store directory (default: $EARWITNESS_STORE, else the user data dir)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in COMMAND_MODULES:
        module.register(sub, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        code: int = args.func(args)
    except EarwitnessError as exc:
        print(f"earwitness: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("earwitness: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader of our output went away (e.g. `| head`): not an error of ours.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    return code


if __name__ == "__main__":
    sys.exit(main())
