"""Reading the small JSON files earwitness keeps beside its data (calibration figures, model
provenance, the voice library): one place that names the file and the reason when one is
damaged."""

from __future__ import annotations

import json
from collections.abc import Callable
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from earwitness.errors import EarwitnessError


def read_json_object(
    path: Path | Traversable,
    *,
    what: str,
    error: Callable[[str], EarwitnessError],
    hint: str = "",
) -> dict[str, Any]:
    """``path`` parsed as a JSON object.

    A missing file raises :class:`FileNotFoundError` (whether that is normal is the caller's
    call). A file that cannot be read, is not valid UTF-8 JSON or is not an object raises
    ``error(message)``; the message names the file, ``what`` it is and the reason, and ends
    with ``hint``.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise
    except UnicodeDecodeError as exc:
        raise error(f"{path}: {what} is not valid JSON ({exc}){hint}") from exc
    except OSError as exc:
        raise error(f"{path}: unreadable {what} ({exc}){hint}") from exc
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise error(f"{path}: {what} is not valid JSON ({exc}){hint}") from exc
    if not isinstance(data, dict):
        raise error(f"{path}: {what} is not a JSON object (got {type(data).__name__}){hint}")
    return data
