"""Crash safety (SIGKILL at random instants during ingest) and concurrent ingest."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from earwitness.custody.hooks import HookRegistry
from earwitness.custody.store import EvidenceStore
from tests.custody.conftest import MakeAudio

WORKER = Path(__file__).with_name("ingest_worker.py")
ROOT = Path(__file__).resolve().parents[2]


def _spawn(store: Path, source: str, files: list[Path]) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    return subprocess.Popen(
        [sys.executable, str(WORKER), str(store), source, *map(str, files)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _assert_consistent(root: Path) -> EvidenceStore:
    """No half-written object, no row without its file, a valid chain."""
    for path in (root / "objects").rglob("*"):
        if path.is_file():
            assert hashlib.sha256(path.read_bytes()).hexdigest() == path.name, path
    store = EvidenceStore.open(root, hooks=HookRegistry())
    report = store.verify()
    assert report.ok, report.problems
    for item in store.items():
        assert store.original_path(item).is_file()
    assert not list((root / "tmp").iterdir())  # open() cleared the dead process's temp files
    return store


def _wait_for(root: Path, proc: subprocess.Popen[str], timeout_s: float = 60.0) -> float:
    """Poll until ``root`` exists (or ``proc`` ended); returns the time it was seen."""
    end = time.monotonic() + timeout_s
    while not root.exists() and proc.poll() is None and time.monotonic() < end:
        time.sleep(0.002)
    assert root.exists(), "the ingest process never created its store"
    return time.monotonic()


@pytest.fixture
def files(make_audio: MakeAudio) -> list[Path]:
    # A mix of sizes so that kills land in copying, decoding, committing and in between.
    return [make_audio(f"f{i}.wav", seconds=[0.3, 4.0, 1.0][i % 3]) for i in range(6)]


@pytest.mark.slow
def test_sigkill_at_random_points_leaves_store_consistent(tmp_path: Path, files: list[Path]):
    rng = np.random.default_rng(7)
    # Time one full run to know the window the kills should fall in.
    # Kills are timed from the moment the store directory appears (interpreter start-up
    # before it would only waste rounds), over the rest of a full run.
    t0 = time.monotonic()
    proc = _spawn(tmp_path / "timing", "t", files)
    created = _wait_for(tmp_path / "timing", proc)
    assert proc.wait(timeout=120) == 0, proc.stderr.read() if proc.stderr else ""
    span = max(time.monotonic() - created, 0.05)
    assert created > t0
    checked = 0
    for round_ in range(10):
        root = tmp_path / f"store{round_}"
        proc = _spawn(root, "s", files)
        _wait_for(root, proc)
        time.sleep(float(rng.uniform(0.0, 1.0)) * span)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        if proc.stdout:
            proc.stdout.close()
        if proc.stderr:
            proc.stderr.close()
        store = _assert_consistent(root)
        checked += 1
        # Re-ingesting after the crash completes the job and adopts any orphan object.
        outcomes = [store.ingest(f, source="s") for f in files]
        assert {o.status for o in outcomes} <= {"added", "duplicate"}
        assert len(store.items()) == len(files)
        final = store.verify()
        assert final.ok and not [n for n in final.notes if "orphan" in n], final.notes
        store.close()
    assert checked == 10  # every kill landed on a store that exists


@pytest.mark.slow
def test_concurrent_ingest_from_three_processes(tmp_path: Path, make_audio: MakeAudio):
    files = [make_audio(f"c{i}.wav", seconds=0.5) for i in range(12)]
    sets = [files[:8], files[4:], list(reversed(files))]
    root = tmp_path / "store"
    procs = [_spawn(root, f"worker{i}", s) for i, s in enumerate(sets)]
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        assert all(line.split()[0] in ("added", "duplicate") for line in out.splitlines())
    store = _assert_consistent(root)
    assert len(store.items()) == len(files)
    entries = store.audit_entries()
    assert len(entries) == sum(len(s) for s in sets)
    assert sum(e.action == "ingest" for e in entries) == len(files)
    assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
    head = (root / "audit.head").read_text()
    assert f'"seq":{len(entries)}' in head
    for item in store.items():
        assert len(item.sources) == sum(any(f.name == item.original_name for f in s) for s in sets)
    store.close()
