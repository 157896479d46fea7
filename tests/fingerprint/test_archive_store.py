"""The archive index inside an evidence store: ingest hook, stage, removal, rebuild."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from earwitness.custody.store import EvidenceStore
from earwitness.decode import probe
from earwitness.fingerprint.archive import rebuild, remove_item, store_index
from earwitness.fingerprint.stage import ArchiveMatchStage
from earwitness.pipeline.context import AnalysisContext, AnalyzeOptions
from earwitness.synth import babble, encode_file

SR = 16000


def _setup(tmp_path: Path, store_dir: Path, rng: np.random.Generator) -> tuple:
    old_y = babble(duration_s=30.0, sr=SR, rng=rng)
    new_y = np.concatenate(
        [
            babble(duration_s=10.0, sr=SR, rng=rng),
            old_y[5 * SR : 20 * SR],
            babble(duration_s=10.0, sr=SR, rng=rng),
        ]
    )
    old = encode_file(tmp_path / "old.flac", old_y, sr=SR)
    new = encode_file(tmp_path / "new.mp3", new_y, sr=SR, bitrate=64000)
    store = EvidenceStore.open(store_dir)
    a = store.ingest(old)
    b = store.ingest(new)
    assert a.item is not None and b.item is not None
    return store, a.item, b.item


def _stage_result(store: EvidenceStore, item):  # type: ignore[no-untyped-def]
    path = store.original_path(item)
    ctx = AnalysisContext(
        path=path,
        probe=probe(path),
        sha256=item.sha256,
        item_id=item.id,
        options=AnalyzeOptions(),
        store=store,
    )
    return ArchiveMatchStage().run(ctx)


def _run_stage(store: EvidenceStore, item) -> list:  # type: ignore[no-untyped-def]
    return list(_stage_result(store, item).findings)


def test_ingest_hook_indexes_and_stage_reports_segment(
    tmp_path: Path, store_dir: Path, rng: np.random.Generator
) -> None:
    store, old, new = _setup(tmp_path, store_dir, rng)
    index = store_index(store)
    assert old.id in index and new.id in index
    findings = _run_stage(store, new)
    assert findings, "the reused 15 s segment must be found"
    f = findings[0]
    assert f.kind == "archive_match" and f.details["item_id"] == old.id
    assert abs(f.start_s - 10.0) < 1.0 and abs(f.details["ref_start_s"] - 5.0) < 1.0
    # the query span maps onto the reference span at the reported speed
    assert abs((f.details["ref_start_s"] - f.start_s) - (5.0 - 10.0)) < 0.1
    assert all(g.details["item_id"] != new.id for g in findings)
    assert len(findings) == 1, "one reused segment, one finding"


def test_remove_is_audited_and_rebuild_restores(
    tmp_path: Path, store_dir: Path, rng: np.random.Generator
) -> None:
    store, old, new = _setup(tmp_path, store_dir, rng)
    assert remove_item(store, old.id, reason="test")
    assert old.id not in store_index(store)
    assert any(
        e.action == "index_remove" and e.item_id == old.id for e in store.audit_entries(old.id)
    )
    assert _run_stage(store, new) == []
    assert rebuild(store) == 2
    assert old.id in store_index(store)
    assert _run_stage(store, new)


def test_rebuild_replaces_index_of_an_older_version(
    tmp_path: Path, store_dir: Path, rng: np.random.Generator
) -> None:
    import json

    import pytest

    from earwitness.fingerprint.index import IncompatibleIndexError

    store, old, new = _setup(tmp_path, store_dir, rng)
    man_path = Path(store.data_dir("index")) / "embedded" / "manifest.json"
    man = json.loads(man_path.read_text())
    man_path.write_text(json.dumps({**man, "version": 1}))
    with pytest.raises(IncompatibleIndexError, match="rebuild-index"):
        store_index(store)
    assert rebuild(store) == 2
    assert old.id in store_index(store) and new.id in store_index(store)
    entry = store.audit_entries()[-1]
    assert (
        entry.action == "index_rebuild"
        and "version 1" in entry.details["discarded_incompatible_index"]
    )
    assert _run_stage(store, new)


def test_undecodable_stored_original_is_a_stage_limitation(
    tmp_path: Path, store_dir: Path, rng: np.random.Generator, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A stored original that no longer decodes is a custody problem: the match is still
    # reported (from the index), unrefined, and the stage says which item and why.
    import earwitness.fingerprint.archive as archive
    from earwitness.errors import InputError

    store, old, new = _setup(tmp_path, store_dir, rng)
    old_path = Path(store.original_path(old))
    real_load = archive.load_audio

    def load(path, **kw):  # type: ignore[no-untyped-def]
        if Path(path) == old_path:
            raise InputError(path, "corrupt audio packet")
        return real_load(path, **kw)

    monkeypatch.setattr(archive, "load_audio", load)
    result = _stage_result(store, new)
    assert result.findings and result.findings[0].details["item_id"] == old.id
    assert result.findings[0].details["span_refined"] is False
    notes = [x for x in result.limitations if old.id in x]
    assert len(notes) == 1 and "could not be decoded" in notes[0]
    assert "corrupt audio packet" in notes[0]


def test_store_references_decode_only_the_span_asked_for(
    tmp_path: Path, store_dir: Path, rng: np.random.Generator, monkeypatch: pytest.MonkeyPatch
) -> None:
    import earwitness.fingerprint.archive as archive
    from earwitness.decode import load_audio
    from earwitness.errors import InputError
    from earwitness.fingerprint.archive import StoreReferences

    store, old, new = _setup(tmp_path, store_dir, rng)
    full = load_audio(Path(store.original_path(old)), sr=8000).samples
    problems: list[str] = []
    refs = StoreReferences(store, problems=problems, chunk_s=2.0)
    part = refs(old.id, 3.0, 7.5, 8000)
    assert part is not None and np.array_equal(part, full[24000:60000])
    assert refs._y.size < full.size, "decoding stops once the span is covered"
    again = refs(old.id, 20.0, 40.0, 8000)  # beyond the end: clipped, the rest decoded
    assert again is not None and np.array_equal(again, full[160000:])
    assert refs("no-such-item", 0.0, 1.0, 8000) is None and problems == []

    def broken(path, **kw):  # type: ignore[no-untyped-def]
        raise InputError(path, "corrupt audio packet")
        yield  # pragma: no cover

    monkeypatch.setattr(archive, "iter_audio", broken)
    assert StoreReferences(store, problems=problems)(new.id, 0.0, 1.0, 8000) is None
    assert len(problems) == 1 and new.id in problems[0] and "corrupt" in problems[0]
