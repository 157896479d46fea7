"""verify(): tampering with an original, the audit log or its head is detected and named."""

from __future__ import annotations

import os
import sqlite3
import stat

import pytest

from earwitness.custody.store import EvidenceStore
from tests.custody.conftest import MakeAudio


def _filled(store: EvidenceStore, make_audio: MakeAudio, n: int = 3) -> list[str]:
    ids = []
    for i in range(n):
        item = store.ingest(make_audio(f"{i}.wav", seconds=0.3)).item
        assert item is not None
        ids.append(item.id)
    return ids


def _sql(store: EvidenceStore, *statements: str) -> None:
    """Tamper as an attacker with file access would: drop the guard triggers first."""
    db = sqlite3.connect(store.root / "catalog.sqlite")
    db.execute("DROP TRIGGER audit_no_update")
    db.execute("DROP TRIGGER audit_no_delete")
    for s in statements:
        db.execute(s)
    db.commit()
    db.close()


def test_clean_store_verifies(store: EvidenceStore, make_audio: MakeAudio):
    _filled(store, make_audio)
    report = store.verify()
    assert report.ok, report.problems
    assert (report.items_checked, report.entries_checked, report.head_seq) == (3, 3, 3)
    head = store.audit_head()
    assert head is not None and head == store.audit_entries()[-1]
    assert f'"hash":"{head.hash}","seq":3' in (store.root / "audit.head").read_text()


def test_flipped_byte_in_original_names_item(store: EvidenceStore, make_audio: MakeAudio):
    ids = _filled(store, make_audio)
    path = store.original_path(store.get(ids[1]))
    os.chmod(path, stat.S_IWUSR | stat.S_IRUSR)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    report = store.verify()
    assert not report.ok
    assert report.first_problem is not None
    assert report.first_problem.subject == f"item {ids[1]}"
    assert "altered" in report.first_problem.message


def test_missing_original_names_item(store: EvidenceStore, make_audio: MakeAudio):
    ids = _filled(store, make_audio)
    store.original_path(store.get(ids[0])).unlink()
    report = store.verify()
    assert str(report.first_problem).startswith(f"item {ids[0]}: original missing")


def test_deleted_middle_entry_names_entry(store: EvidenceStore, make_audio: MakeAudio):
    _filled(store, make_audio)
    _sql(store, "DELETE FROM audit WHERE seq = 2")
    report = store.verify()
    assert report.first_problem is not None
    assert report.first_problem.subject == "audit entry 2"
    assert "missing" in report.first_problem.message


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("action", "'analysis'"),
        ("details", "'{}'"),
        ("actor", "'someone@else'"),
        ("at", "'2020-01-01T00:00:00Z'"),
    ],
)
def test_edited_entry_names_entry(store: EvidenceStore, make_audio: MakeAudio, column, value):
    _filled(store, make_audio)
    _sql(store, f"UPDATE audit SET {column} = {value} WHERE seq = 2")
    report = store.verify()
    assert report.first_problem is not None
    assert report.first_problem.subject == "audit entry 2"
    assert "edited" in report.first_problem.message


def test_rehashed_edit_breaks_the_link(store: EvidenceStore, make_audio: MakeAudio):
    """An attacker who also recomputes the edited entry's hash breaks the next prev_hash."""
    from earwitness.custody.chain import seal

    _filled(store, make_audio)
    e = store.audit_entries()[1]
    forged = seal(
        seq=e.seq,
        at=e.at,
        action=e.action,
        item_id=e.item_id,
        actor="forger",
        details=e.details,
        prev_hash=e.prev_hash,
    )
    _sql(store, f"UPDATE audit SET actor = 'forger', hash = '{forged.hash}' WHERE seq = 2")
    report = store.verify()
    assert report.first_problem is not None
    assert report.first_problem.subject == "audit entry 3"
    assert "prev_hash" in report.first_problem.message


def test_deleted_last_entry_is_detected(store: EvidenceStore, make_audio: MakeAudio):
    _filled(store, make_audio)
    _sql(store, "DELETE FROM audit WHERE seq = 3")
    report = store.verify()
    assert report.first_problem is not None
    assert report.first_problem.subject == "audit entry 3"
    assert "deleted from the end" in report.first_problem.message


def test_replaced_last_entry_is_detected_and_head_not_overwritten(
    store: EvidenceStore, make_audio: MakeAudio
):
    _filled(store, make_audio)
    head_before = (store.root / "audit.head").read_bytes()
    _sql(store, "DELETE FROM audit WHERE seq = 3")
    # The next write gets seq 3 again with another hash; audit.head must keep the evidence.
    store.audit("note", item_id=None, details={"text": "cover-up"})
    assert (store.root / "audit.head").read_bytes() == head_before
    report = store.verify()
    assert report.first_problem is not None
    assert report.first_problem.subject == "audit entry 3"


def test_catalog_row_without_ingest_entry(store: EvidenceStore, make_audio: MakeAudio):
    ids = _filled(store, make_audio, n=1)
    db = sqlite3.connect(store.root / "catalog.sqlite")
    db.execute("UPDATE items SET size = size + 1")
    db.commit()
    db.close()
    report = store.verify()
    assert str(report.first_problem).startswith(f"item {ids[0]}: catalog row disagrees")


def test_append_only_triggers_refuse_edits(store: EvidenceStore, make_audio: MakeAudio):
    _filled(store, make_audio, n=1)
    db = sqlite3.connect(store.root / "catalog.sqlite")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("DELETE FROM audit")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("UPDATE audit SET actor = 'x'")
    db.close()
