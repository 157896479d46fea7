"""Run by the crash and concurrency tests in a subprocess: ingest files into a store.

Usage: python ingest_worker.py STORE SOURCE FILE...
Prints one line per file (status and id) and flushes it, so the parent can watch progress.
"""

from __future__ import annotations

import sys

from earwitness.custody.hooks import HookRegistry
from earwitness.custody.store import EvidenceStore


def main(argv: list[str]) -> int:
    root, source, *files = argv
    with EvidenceStore.open(root, hooks=HookRegistry()) as store:
        for f in files:
            outcome = store.ingest(f, source=source)
            print(outcome.status, outcome.item.id if outcome.item else outcome.error, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
