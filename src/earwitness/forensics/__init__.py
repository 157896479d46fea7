"""Forensic signals: duplicated segments, edit points, compression history, voice/background.

Each detector is a keyword-only function over numpy arrays with a frozen params dataclass;
:mod:`earwitness.forensics.stages` wraps them as pipeline stages.
"""

from earwitness.forensics.compression import CompressionParams, CompressionReport, assess
from earwitness.forensics.duplicates import DuplicateParams, find_duplicates, group_occurrences
from earwitness.forensics.edits import EditParams, EditPoint, find_edit_points
from earwitness.forensics.voice_background import VoiceBackgroundParams, check_events

__all__ = [
    "CompressionParams",
    "CompressionReport",
    "DuplicateParams",
    "EditParams",
    "EditPoint",
    "VoiceBackgroundParams",
    "assess",
    "check_events",
    "find_duplicates",
    "find_edit_points",
    "group_occurrences",
]
