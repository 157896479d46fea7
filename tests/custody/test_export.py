"""Export bundles: byte-exact original, report, audit entries, SHA256SUMS checked by sha256sum."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from earwitness.custody.chain import entry_from_dict, entry_hash
from earwitness.custody.export import safe_name
from earwitness.custody.store import EvidenceStore
from earwitness.errors import IntegrityError, NotFoundError, StoreError
from tests.custody.conftest import MakeAudio


@pytest.fixture
def exported(store: EvidenceStore, make_audio: MakeAudio, tmp_path: Path):
    src = make_audio("statement 1 (final).mp3", seconds=1.0)
    item = store.ingest(src, source="telegram:42").item
    assert item is not None
    other = make_audio("other.wav")
    store.ingest(other)
    store.ingest(src, source="mirror")
    report = {"findings": [{"kind": "edit_point"}]}
    store.save_report(
        item.id,
        report,
        {"report.json": json.dumps(report).encode(), "labels.txt": b"1.0\t1.0\tedit\n"},
    )
    out = store.export(item.id[:10], tmp_path / "bundle")
    return store, item, src, out


@pytest.mark.skipif(shutil.which("sha256sum") is None, reason="needs coreutils sha256sum")
def test_bundle_checks_with_sha256sum(exported):
    _, _, src, out = exported
    result = subprocess.run(
        ["sha256sum", "-c", "SHA256SUMS"], cwd=out, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    listed = {line.split("  ", 1)[1] for line in (out / "SHA256SUMS").read_text().splitlines()}
    assert listed == {
        "original/statement 1 (final).mp3",
        "report/report.json",
        "report/labels.txt",
        "audit.jsonl",
        "README.txt",
        "MANIFEST.json",
    }
    assert (out / "original" / src.name).read_bytes() == src.read_bytes()
    # A flipped byte is caught by the standard tool.
    victim = out / "report" / "labels.txt"
    victim.chmod(0o644)
    victim.write_bytes(b"2.0\t2.0\tedit\n")
    bad = subprocess.run(
        ["sha256sum", "-c", "SHA256SUMS"], cwd=out, capture_output=True, text=True, check=False
    )
    assert bad.returncode != 0 and "labels.txt: FAILED" in bad.stdout


def test_audit_jsonl_entries_and_manifest(exported):
    store, item, _, out = exported
    lines = (out / "audit.jsonl").read_text(encoding="utf-8").splitlines()
    entries = [entry_from_dict(json.loads(line)) for line in lines]
    assert [e.action for e in entries] == ["ingest", "duplicate", "analysis", "export"]
    assert all(e.item_id == item.id and entry_hash(e) == e.hash for e in entries)
    assert entries == store.audit_entries(item.id)
    manifest = json.loads((out / "MANIFEST.json").read_text())
    assert manifest["item"]["sha256"] == item.sha256
    assert [s["source"] for s in manifest["item"]["sources"]] == ["telegram:42", "mirror"]
    assert manifest["audit"]["chain_head"]["hash"] == entries[-1].hash
    assert manifest["files"]["original/statement 1 (final).mp3"] == item.sha256
    export_entry = entries[-1]
    assert export_entry.details["files"]["original/statement 1 (final).mp3"] == item.sha256


def test_readme_recipe_rechecks_chain(exported):
    _, _, _, out = exported
    readme = (out / "README.txt").read_text()
    code = readme.split("python3 -c '", 1)[1].split("'\n", 1)[0]
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=out, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0 and "audit entries OK" in result.stdout, result.stderr
    # Tampering with an entry makes the recipe fail.
    audit = out / "audit.jsonl"
    audit.chmod(0o644)
    audit.write_text(audit.read_text().replace("telegram:42", "telegram:43"))
    bad = subprocess.run(
        [sys.executable, "-c", code], cwd=out, capture_output=True, text=True, check=False
    )
    assert bad.returncode != 0


@pytest.mark.skipif(shutil.which("jq") is None, reason="needs jq")
def test_jq_recipe_matches_hashes(exported):
    _, _, _, out = exported
    for line in (out / "audit.jsonl").read_text().splitlines():
        body = subprocess.run(
            ["jq", "-cjS", "del(.hash)"], input=line, capture_output=True, text=True, check=True
        ).stdout
        assert hashlib.sha256(body.encode()).hexdigest() == json.loads(line)["hash"]


def test_export_refuses_non_empty_dir_and_unknown_item(exported, tmp_path: Path):
    store, item, _, out = exported
    with pytest.raises(StoreError, match="new or empty"):
        store.export(item.id, out)
    with pytest.raises(NotFoundError):
        store.export("ffffffffffffffff", tmp_path / "x")


def test_export_refuses_altered_original(store: EvidenceStore, make_audio, tmp_path: Path):
    item = store.ingest(make_audio("a.wav")).item
    assert item is not None
    path = store.original_path(item)
    path.chmod(0o644)
    path.write_bytes(path.read_bytes()[:-1] + b"\x00")
    with pytest.raises(IntegrityError, match=item.id):
        store.export(item.id, tmp_path / "bundle")


@pytest.mark.parametrize(
    ("name", "safe"),
    [("a/b.mp3", "a_b.mp3"), ("..", "_.."), (".hidden", "_.hidden"), ("x\ny", "x_y")],
)
def test_safe_name(name: str, safe: str):
    assert safe_name(name) == safe
