"""Ingest, duplicates, lookups, reports, hooks and configuration of the evidence store."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from earwitness.custody.hooks import HookRegistry
from earwitness.custody.records import ItemRecord
from earwitness.custody.store import EvidenceStore
from earwitness.errors import NotFoundError, StoreError
from tests.custody.conftest import MakeAudio


def test_original_is_byte_exact_and_read_only(store: EvidenceStore, make_audio: MakeAudio):
    src = make_audio("a.mp3", seconds=2.0)
    outcome = store.ingest(src, source="https://example.org/post/1", collected_at="2026-11-01")
    assert outcome.status == "added"
    item = outcome.item
    assert item is not None
    stored = store.original_path(item)
    assert stored.read_bytes() == src.read_bytes()
    assert stat.S_IMODE(stored.stat().st_mode) == 0o444
    assert stored == store.root / "objects" / item.sha256[:2] / item.sha256[2:4] / item.sha256
    assert item.id == item.sha256[:16]
    assert item.size == src.stat().st_size
    assert item.duration_s == pytest.approx(2.0, abs=0.05)
    assert item.probe["format"] == "mp3"
    assert item.sources[0].source == "https://example.org/post/1"
    assert item.sources[0].collected_at == "2026-11-01"
    assert item.ingested_at.endswith("Z")
    assert [e.action for e in store.audit_entries(item.id)] == ["ingest"]
    assert not list((store.root / "tmp").iterdir())


def test_duplicate_records_new_source(store: EvidenceStore, make_audio: MakeAudio, tmp_path):
    src = make_audio("a.wav")
    first = store.ingest(src, source="telegram:1")
    copy = tmp_path / "renamed.wav"
    copy.write_bytes(src.read_bytes())
    second = store.ingest(copy, source="x.com:2")
    assert (first.status, second.status) == ("added", "duplicate")
    assert second.item is not None and first.item is not None
    assert second.item.id == first.item.id
    assert [s.source for s in second.item.sources] == ["telegram:1", "x.com:2"]
    assert [s.original_name for s in second.item.sources] == ["a.wav", "renamed.wav"]
    assert [e.action for e in store.audit_entries(first.item.id)] == ["ingest", "duplicate"]
    assert len(store.items()) == 1


def test_resume_skips_known_path_without_new_record(store: EvidenceStore, make_audio):
    src = make_audio("a.wav")
    store.ingest(src, source="s", resume=True)
    again = store.ingest(src, source="s", resume=True)
    assert again.status == "duplicate" and again.note is not None
    assert again.item is not None and len(again.item.sources) == 1
    assert len(store.audit_entries()) == 1
    # A different source is a new sighting, even from the same path.
    other = store.ingest(src, source="t", resume=True)
    assert other.note is None and other.item is not None and len(other.item.sources) == 2


def test_get_by_id_and_prefix(store: EvidenceStore, make_audio: MakeAudio):
    item = store.ingest(make_audio("a.wav")).item
    assert item is not None
    assert store.get(item.id) == item
    assert store.get(item.sha256) == item
    assert store.get(item.sha256[:8].upper()) == item
    with pytest.raises(NotFoundError, match="at least 8"):
        store.get(item.sha256[:7])
    with pytest.raises(NotFoundError, match="no such item"):
        store.get("0" * 16 if not item.sha256.startswith("0" * 16) else "f" * 16)
    with pytest.raises(NotFoundError):
        store.get("not-hex!")


def test_ambiguous_prefix(store: EvidenceStore):
    from earwitness.custody.catalog import AuditDraft
    from earwitness.custody.records import SourceRecord

    for tail in ("a", "b"):
        sha = "abcdef01" + "0" * 55 + tail
        item = ItemRecord(
            id=sha[:16] if tail == "a" else sha[:15] + "x",
            sha256=sha,
            size=1,
            original_name="x",
            duration_s=1.0,
            ingested_at="t",
            probe={},
        )
        src = SourceRecord(
            source=None, original_name="x", collected_at=None, ingested_at="t", host="h", user="u"
        )
        store.catalog.add_item(item, src, AuditDraft("t", "ingest", item.id, "u@h", {}))
    with pytest.raises(NotFoundError, match="ambiguous, matches 2"):
        store.get("abcdef01")
    assert store.get("abcdef01" + "0" * 55 + "b").sha256.endswith("b")


def test_data_dir(store: EvidenceStore):
    d = store.data_dir("index")
    assert d.is_dir() and d == store.root / "data" / "index"
    assert store.data_dir("index") == d
    with pytest.raises(ValueError):
        store.data_dir("../escape")


def test_save_and_latest_report(store: EvidenceStore, make_audio: MakeAudio):
    item = store.ingest(make_audio("a.wav")).item
    assert item is not None
    assert store.latest_report(item.id) is None
    report = {"findings": [], "item": item.id}
    body = json.dumps(report).encode()
    first = store.save_report(item.id, report, {"report.json": body, "labels.txt": b"0\t1\tx\n"})
    second = store.save_report(item.id, report, {"report.json": body})
    assert store.latest_report(item.id) == second != first
    assert (first / "labels.txt").read_bytes() == b"0\t1\tx\n"
    assert first.parent == store.root / "reports" / item.id
    analysis = [e for e in store.audit_entries(item.id) if e.action == "analysis"]
    assert len(analysis) == 2
    import hashlib

    assert analysis[0].details["report_sha256"] == hashlib.sha256(body).hexdigest()
    with pytest.raises(StoreError):
        store.save_report(item.id, report, {"../evil": b""})


class _Recorder:
    name = "recorder"

    def __init__(self) -> None:
        self.seen: list[tuple[str, bytes]] = []

    def __call__(self, store: EvidenceStore, item: ItemRecord, path: Path) -> None:
        self.seen.append((item.id, path.read_bytes()))


class _Broken:
    name = "broken"

    def __call__(self, store: EvidenceStore, item: ItemRecord, path: Path) -> None:
        raise RuntimeError("index unavailable")


def test_hooks_run_on_added_items_and_failures_are_audited(store_dir: Path, make_audio):
    hooks = HookRegistry()
    recorder = _Recorder()
    hooks.register(recorder)
    hooks.register(_Broken())
    with pytest.raises(ValueError):
        hooks.register(_Broken())
    src = make_audio("a.wav")
    with EvidenceStore.open(store_dir, hooks=hooks) as store:
        outcome = store.ingest(src)
        assert outcome.status == "added" and outcome.item is not None
        assert recorder.seen == [(outcome.item.id, src.read_bytes())]
        assert store.ingest(src, source="again").status == "duplicate"
        assert len(recorder.seen) == 1  # hooks run for added items only
        actions = [e.action for e in store.audit_entries(outcome.item.id)]
        assert actions == ["ingest", "hook_failed", "duplicate"]
        failed = store.audit_entries(outcome.item.id)[1]
        assert failed.details == {"hook": "broken", "error": "RuntimeError: index unavailable"}
        assert store.verify().ok


def test_config_json_limits(store_dir: Path, make_audio: MakeAudio):
    store_dir.mkdir()
    (store_dir / "config.json").write_text(json.dumps({"max_duration_s": 0.5}))
    with EvidenceStore.open(store_dir, hooks=HookRegistry()) as store:
        assert store.limits.max_duration_s == 0.5
        outcome = store.ingest(make_audio("long.wav", seconds=1.0))
        assert outcome.status == "rejected" and "duration" in (outcome.error or "")
    (store_dir / "config.json").write_text(json.dumps({"max_duratoin_s": 1}))
    with pytest.raises(StoreError, match="max_duratoin_s"):
        EvidenceStore.open(store_dir)
    (store_dir / "config.json").write_text(json.dumps({"max_bytes": -1}))
    with pytest.raises(StoreError, match="positive"):
        EvidenceStore.open(store_dir)
    (store_dir / "config.json").write_text(json.dumps({"catalog": "postgres"}))
    with pytest.raises(StoreError, match="unknown catalog backend"):
        EvidenceStore.open(store_dir)


def test_orphan_object_is_noted_then_adopted(store: EvidenceStore, make_audio: MakeAudio):
    src = make_audio("a.wav")
    staged = store.objects.stage(src, max_bytes=store.limits.max_bytes)
    store.objects.commit(staged)  # as if killed between rename and commit
    store.objects.discard(staged.path)
    report = store.verify()
    assert report.ok
    assert any("orphan object" in n for n in report.notes)
    outcome = store.ingest(src)
    assert outcome.status == "added"
    entry = store.audit_entries()[-1]
    assert entry.details.get("adopted_orphan") is True
    assert store.verify().notes == ()


def test_bad_collected_at_is_rejected(store: EvidenceStore, make_audio: MakeAudio):
    outcome = store.ingest(make_audio("a.wav"), collected_at="last tuesday")
    assert outcome.status == "rejected"
    assert "ISO 8601" in (outcome.error or "")
    assert store.items() == []


def test_missing_original_restored_from_identical_input(store: EvidenceStore, make_audio):
    src = make_audio("a.wav")
    item = store.ingest(src).item
    assert item is not None
    store.original_path(item).unlink()
    assert not store.verify().ok
    again = store.ingest(src, source="backup copy")
    assert again.status == "duplicate"
    assert store.original_path(item).read_bytes() == src.read_bytes()
    assert store.audit_entries(item.id)[-1].details["restored_missing_original"] is True
    assert store.verify().ok


def test_altered_original_is_never_overwritten(store: EvidenceStore, make_audio):
    src = make_audio("a.wav")
    item = store.ingest(src).item
    assert item is not None
    path = store.original_path(item)
    path.chmod(0o644)
    path.write_bytes(b"tampered")
    assert store.ingest(src, source="again").status == "duplicate"
    assert path.read_bytes() == b"tampered"  # the evidence of tampering is kept
    assert not store.verify().ok


def test_store_write_failure_is_a_store_error(store: EvidenceStore, make_audio, monkeypatch):
    import errno
    import os

    from earwitness.custody import objects

    src = make_audio("a.wav")

    def full(fd: int, data: object) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(objects.os, "write", full)
    with pytest.raises(StoreError, match="No space left"):
        store.ingest(src)
    monkeypatch.undo()
    assert not list((store.root / "tmp").iterdir())
    assert store.items() == []
