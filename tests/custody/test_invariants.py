"""Invariants over arbitrary ingest sequences (Hypothesis) and threaded use of one store."""

from __future__ import annotations

import atexit
import shutil
import tempfile
import threading
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from earwitness.custody.hooks import HookRegistry
from earwitness.custody.store import EvidenceStore
from earwitness.synth import encode_file, tone
from tests.custody import badfiles
from tests.custody.conftest import MakeAudio

_POOL: list[Path] = []


def _pool() -> list[Path]:
    """Three good files (two with identical bytes under different names) and a bad one."""
    if not _POOL:
        d = Path(tempfile.mkdtemp(prefix="custody-pool-"))
        atexit.register(shutil.rmtree, d, True)
        a = encode_file(d / "a.wav", tone(freq=300, duration_s=0.2, sr=8000), sr=8000)
        b = encode_file(d / "b.flac", tone(freq=500, duration_s=0.2, sr=8000), sr=8000)
        c = d / "copy-of-a.wav"
        c.write_bytes(a.read_bytes())
        _POOL.extend([a, b, c, badfiles.garbage(d / "bad.mp3", np.random.default_rng(0))])
    return _POOL


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.sampled_from([None, "s1", "s2"])), max_size=8))
def test_any_ingest_sequence_keeps_store_consistent(seq):
    pool = _pool()
    with (
        tempfile.TemporaryDirectory() as tmp,
        EvidenceStore.open(Path(tmp) / "s", hooks=HookRegistry()) as store,
    ):
        outcomes = [store.ingest(pool[i], source=src) for i, src in seq]
        good = [o for o in outcomes if o.status != "rejected"]
        unique = {pool[i].read_bytes() for i, _ in seq if i != 3}
        assert len(store.items()) == len(unique)
        assert sum(o.status == "added" for o in outcomes) == len(unique)
        assert all(
            o.status == "rejected" for (i, _), o in zip(seq, outcomes, strict=True) if i == 3
        )
        assert len(store.audit_entries()) == len(good)
        assert sum(len(item.sources) for item in store.items()) == len(good)
        for item in store.items():
            assert store.original_path(item).read_bytes() in unique
        assert store.verify().ok


def test_one_store_shared_by_threads(store: EvidenceStore, make_audio: MakeAudio):
    files = [make_audio(f"t{i}.wav", seconds=0.2) for i in range(8)]
    errors: list[BaseException] = []

    def work(chunk: list[Path]) -> None:
        try:
            for f in chunk:
                assert store.ingest(f).status in ("added", "duplicate")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(files[i::2] + files[:2],)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(store.items()) == len(files)
    assert store.verify().ok
