"""The shared reader of earwitness's own JSON files: every failure names the file and why."""

from __future__ import annotations

from pathlib import Path

import pytest

from earwitness.errors import StoreError
from earwitness.jsonfile import read_json_object


def test_object_is_returned_and_absence_is_left_to_the_caller(tmp_path: Path) -> None:
    p = tmp_path / "x.json"
    p.write_text('{"a": 1}', encoding="utf-8")
    assert read_json_object(p, what="thing", error=StoreError) == {"a": 1}
    with pytest.raises(FileNotFoundError):
        read_json_object(tmp_path / "none.json", what="thing", error=StoreError)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b'{"a": 1', "thing is not valid JSON"),
        (b"\xff\xfe\x00{}", "thing is not valid JSON"),
        (b"[1, 2]", "thing is not a JSON object (got list)"),
    ],
)
def test_damage_is_the_callers_error_naming_file_reason_and_hint(
    tmp_path: Path, content: bytes, reason: str
) -> None:
    p = tmp_path / "x.json"
    p.write_bytes(content)
    with pytest.raises(StoreError) as err:
        read_json_object(p, what="thing", error=StoreError, hint="; move it away")
    msg = str(err.value)
    assert msg.startswith(f"{p}: ") and reason in msg and msg.endswith("; move it away")


def test_unreadable_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="unreadable thing"):
        read_json_object(tmp_path, what="thing", error=StoreError)  # a directory
