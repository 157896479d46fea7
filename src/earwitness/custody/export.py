"""``export``: a self-checking evidence bundle for one item.

Bundle layout::

    original/<original file name>   the stored bytes, byte-exact
    report/<files>                  the latest saved report (if any)
    audit.jsonl                     the item's audit entries, one JSON object a line
    MANIFEST.json                   what is in the bundle, hashes, how to check the chain
    README.txt                      the same instructions for people
    SHA256SUMS                      for ``sha256sum -c SHA256SUMS``
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from earwitness import __version__
from earwitness.custody.chain import GENESIS, HASHED_FIELDS, entry_to_dict
from earwitness.custody.objects import sha256_file
from earwitness.errors import IntegrityError, StoreError

if TYPE_CHECKING:
    from earwitness.custody.store import EvidenceStore

CHAIN_RULE = (
    "Each line of audit.jsonl is one audit entry. Its 'hash' is the SHA-256 (hex) of the "
    "canonical JSON of the entry without 'hash': keys sorted, no whitespace (separators ',' "
    "and ':'), UTF-8 with non-ASCII characters unescaped. 'prev_hash' is the hash of the entry "
    f"with seq - 1 in the store's full log ({GENESIS} for seq 1), so entries of one item need "
    "not be consecutive: where two listed entries have consecutive seq, the later one's "
    "prev_hash must equal the earlier one's hash; the rest link to entries about other items, "
    "which the custodian can show on request, and 'chain_head' names the last entry of the "
    "whole log when the bundle was made."
)

_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\]")


def safe_name(name: str) -> str:
    """A file name usable in the bundle and in SHA256SUMS (no separators or control chars)."""
    cleaned = _UNSAFE.sub("_", name).strip() or "original"
    return "_" + cleaned if cleaned in (".", "..") or cleaned.startswith(".") else cleaned


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def export_bundle(store: EvidenceStore, item_id: str, out: Path) -> Path:
    item = store.get(item_id)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise StoreError(f"{out}: export directory must be new or empty")
    src = store.original_path(item)
    if not src.is_file():
        raise IntegrityError(f"item {item.id}: original missing ({src})")
    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, str] = {}

    original_rel = f"original/{safe_name(item.original_name)}"
    (out / "original").mkdir()
    shutil.copyfile(src, out / original_rel)
    digest = sha256_file(out / original_rel)
    if digest != item.sha256:
        raise IntegrityError(
            f"item {item.id}: stored original does not match its SHA-256 (run verify)"
        )
    files[original_rel] = digest

    report_dir = store.latest_report(item.id)
    if report_dir is not None:
        for path in sorted(p for p in report_dir.rglob("*") if p.is_file()):
            rel = "report/" + "/".join(
                safe_name(part) for part in path.relative_to(report_dir).parts
            )
            target = out / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target)
            files[rel] = sha256_file(target)

    entry = store.audit(
        "export",
        item_id=item.id,
        details={
            "out_dir": str(out.absolute()),
            "files": dict(files),
            "report_dir": str(report_dir.relative_to(store.root)) if report_dir else None,
        },
    )
    entries = store.audit_entries(item.id)
    lines = "".join(
        json.dumps(entry_to_dict(e), sort_keys=True, ensure_ascii=False) + "\n" for e in entries
    ).encode("utf-8")
    (out / "audit.jsonl").write_bytes(lines)
    files["audit.jsonl"] = _sha(lines)

    readme = _readme(item.id, item.original_name, original_rel).encode("utf-8")
    (out / "README.txt").write_bytes(readme)
    files["README.txt"] = _sha(readme)

    manifest: dict[str, Any] = {
        "format": "earwitness-bundle/1",
        "produced_by": f"earwitness {__version__}",
        "exported_at": entry.at,
        "exported_by": entry.actor,
        "item": {
            "id": item.id,
            "sha256": item.sha256,
            "size": item.size,
            "original_name": item.original_name,
            "duration_s": item.duration_s,
            "ingested_at": item.ingested_at,
            "sources": [dict(s.__dict__) for s in item.sources],
            "probe": dict(item.probe),
        },
        "original": original_rel,
        "report": sorted(k for k in files if k.startswith("report/")),
        "audit": {
            "file": "audit.jsonl",
            "entries": len(entries),
            "hashed_fields": list(HASHED_FIELDS),
            "genesis_prev_hash": GENESIS,
            "chain_head": {"seq": entry.seq, "hash": entry.hash},
            "how_the_chain_links": CHAIN_RULE,
        },
        "files": dict(sorted(files.items())),
    }
    data = json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=True).encode("utf-8")
    (out / "MANIFEST.json").write_bytes(data + b"\n")
    files["MANIFEST.json"] = _sha(data + b"\n")

    sums = "".join(f"{h}  {name}\n" for name, h in sorted(files.items()))
    (out / "SHA256SUMS").write_text(sums, encoding="utf-8")
    for path in out.rglob("*"):
        if path.is_file():
            os.chmod(path, 0o444)
    return out


def _readme(item_id: str, original_name: str, original_rel: str) -> str:
    return f"""earwitness evidence bundle for item {item_id} ("{original_name}")

{original_rel} is the original file exactly as ingested (byte-exact).

1. Check every file:
       sha256sum -c SHA256SUMS

2. Check the audit entries (Python 3, standard library only):
       python3 -c '
import hashlib, json
prev = None
for line in open("audit.jsonl", encoding="utf-8"):
    e = json.loads(line)
    body = {{k: v for k, v in e.items() if k != "hash"}}
    c = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert hashlib.sha256(c.encode()).hexdigest() == e["hash"], e["seq"]
    if prev and prev["seq"] + 1 == e["seq"]:
        assert e["prev_hash"] == prev["hash"], e["seq"]
    prev = e
print("audit entries OK")'

How the chain links: {CHAIN_RULE}
"""
