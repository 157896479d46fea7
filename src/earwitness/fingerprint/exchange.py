"""Export and import the fingerprints of a set of items as one file (no audio inside).

The file is a NumPy ``.npz`` archive (a ZIP) with three members: ``header`` (a JSON string),
``hashes`` (uint32) and ``t1`` (uint32 anchor frames), the items' postings concatenated in
the order the header lists them. The header names the format, its version, the fingerprint
algorithm and every parameter; an import into an index with other parameters is refused.
See ``docs/fingerprint-format.md``.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from earwitness.errors import InputError
from earwitness.fingerprint.features import ALGORITHM, ALGORITHM_VERSION, N_FEATS, Triplets
from earwitness.fingerprint.index import ArchiveIndex, EmbeddedIndex

FORMAT = "earwitness-fingerprints"
VERSION = 1


def export_fingerprints(index: ArchiveIndex, item_ids: Sequence[str], path: Path) -> int:
    """Write the fingerprints of ``item_ids`` (all items if empty) to ``path``."""
    known = {it.item_id: it for it in index.items()}
    ids = list(item_ids) or list(known)
    missing = [i for i in ids if i not in known]
    if missing:
        raise InputError(path, f"not in the archive index: {', '.join(missing)}")
    hs: list[np.ndarray] = []
    ts: list[np.ndarray] = []
    items: list[dict[str, Any]] = []
    for i in ids:
        h, t = index.postings(i)
        it = known[i]
        items.append(
            {
                "item_id": i,
                "sha256": it.sha256,
                "duration_s": it.duration_s,
                "n_frames": it.n_frames,
                "n": int(h.size),
            }
        )
        hs.append(h)
        ts.append(t)
    header = {
        "format": FORMAT,
        "version": VERSION,
        "algorithm": ALGORITHM,
        "algorithm_version": ALGORITHM_VERSION,
        "params": index.params.to_dict(),
        "items": items,
    }
    with open(path, "wb") as fh:
        np.savez_compressed(
            fh,
            header=np.array(json.dumps(header)),
            hashes=np.concatenate(hs) if hs else np.zeros(0, np.uint32),
            t1=np.concatenate(ts) if ts else np.zeros(0, np.uint32),
        )
    return len(ids)


def read_header(path: Path) -> dict[str, Any]:
    """The JSON header of an exported file (raises InputError if it is not one)."""
    try:
        with np.load(path, allow_pickle=False) as data:
            header: dict[str, Any] = json.loads(str(data["header"]))
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, json.JSONDecodeError) as exc:
        raise InputError(path, f"not an earwitness fingerprint file ({exc})") from exc
    if header.get("format") != FORMAT:
        raise InputError(
            path, f"not an earwitness fingerprint file (format {header.get('format')!r})"
        )
    return header


def import_fingerprints(index: ArchiveIndex, path: Path) -> int:
    """Add the items of an exported file to ``index``; refuses incompatible fingerprints."""
    header = read_header(path)
    if header.get("version") != VERSION:
        raise InputError(
            path,
            f"fingerprint file version {header.get('version')} is not "
            f"supported (this earwitness reads version {VERSION})",
        )
    if (header.get("algorithm"), header.get("algorithm_version")) != (ALGORITHM, ALGORITHM_VERSION):
        raise InputError(
            path,
            f"fingerprints made with {header.get('algorithm')} "
            f"v{header.get('algorithm_version')}; this index uses "
            f"{ALGORITHM} v{ALGORITHM_VERSION}",
        )
    if header.get("params") != index.params.to_dict():
        diff = sorted(
            k for k, v in index.params.to_dict().items() if header.get("params", {}).get(k) != v
        )
        raise InputError(
            path,
            f"fingerprint parameters differ from this index's ({diff}); they cannot be compared",
        )
    with np.load(path, allow_pickle=False) as data:
        hashes = np.asarray(data["hashes"], dtype=np.uint32)
        t1 = np.asarray(data["t1"], dtype=np.uint32)
    entries: list[tuple[str, str, float, Triplets]] = []
    pos = 0
    for it in header["items"]:
        n = int(it["n"])
        fp = Triplets(
            hashes=hashes[pos : pos + n],
            t1=t1[pos : pos + n],
            dt=np.zeros(n, np.uint16),
            feats=np.zeros((n, N_FEATS)),
            n_frames=int(it["n_frames"]),
            params=index.params,
        )
        entries.append((str(it["item_id"]), str(it["sha256"]), float(it["duration_s"]), fp))
        pos += n
    if isinstance(index, EmbeddedIndex):
        return index.add_many(entries)
    return sum(index.add(item_id=i, sha256=s, duration_s=d, fp=f) for i, s, d, f in entries)
