"""Helpers shared by the command modules."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import platformdirs


def store_dir(arg: str | None) -> Path:
    """``--store`` if given, else ``$EARWITNESS_STORE``, else the per-user data directory."""
    if arg:
        return Path(arg).expanduser()
    env = os.environ.get("EARWITNESS_STORE")
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir("earwitness")) / "store"


def print_json(value: Any) -> None:
    json.dump(value, sys.stdout, indent=2, ensure_ascii=False, default=str)
    sys.stdout.write("\n")


def progress_enabled() -> bool:
    """Progress bars only on an interactive terminal (never in pipes or CI logs)."""
    return sys.stderr.isatty()
