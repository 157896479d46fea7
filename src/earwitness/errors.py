"""Exceptions shared across earwitness.

Every error that reaches a user names the file (or item) it concerns and the reason, so the
CLI can print it as ``<file>: <reason>`` and carry on with the rest of a batch.
"""

from __future__ import annotations

from pathlib import Path


class EarwitnessError(Exception):
    """Base class of every error earwitness raises on purpose."""


class InputError(EarwitnessError):
    """A file that cannot be accepted as evidence or decoded (empty, garbage, too long...)."""

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class StoreError(EarwitnessError):
    """The evidence store is unusable or inconsistent."""


class IntegrityError(StoreError):
    """A stored original or an audit entry does not match its recorded hash."""


class NotFoundError(EarwitnessError):
    """An item, model or reference that was asked for does not exist."""


class ModelError(EarwitnessError):
    """A model file is missing, unreadable or does not match its pinned hash."""
