"""Validate and calibrate the forensic detectors on labelled manipulations of real recordings.

For each detector: build manipulated items (with ground truth) and clean controls from real
speech (FSDD, JFK) and real gunshot/explosion samples (teeworlds-data), split them into a
calibration half (even items) and a held-out half (odd items), choose the thresholds on the
calibration half, measure recall, precision, localisation and false findings per hour on the
held-out half, and write ``src/earwitness/calibration/<detector>.json``.

Usage::

    nice .venv/bin/python benchmarks/validate_forensics.py [--only duplicated_segments,...]
        [--scale 1.0] [--no-write]
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

# detector name -> module with ``run(args)``
DETECTORS = {
    "duplicated_segments": "validate_forensics_dup",
    "edit_points": "validate_forensics_edits",
    "compression": "validate_forensics_comp",
    "voice_background": "validate_forensics_vb",
}


def main() -> None:
    ap = argparse.ArgumentParser(description="Validate and calibrate the forensic detectors.")
    ap.add_argument("--only", default=",".join(DETECTORS))
    ap.add_argument("--scale", type=float, default=1.0, help="scale the number of items")
    ap.add_argument("--seed", type=int, default=20261125)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    for name in args.only.split(","):
        t0 = time.time()
        importlib.import_module(DETECTORS[name]).run(args)
        print(f"[{name}] done in {time.time() - t0:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
