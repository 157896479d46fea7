"""Calibrate the archive-match threshold (null model) and write calibration/archive_match.json.

nice .venv/bin/python benchmarks/calibrate_match.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_match

if __name__ == "__main__":
    sys.argv = [sys.argv[0], "--write-calibration", *sys.argv[1:]]
    sys.exit(bench_match.main())
