"""Every class of bad input is rejected with the file and the reason; nothing is stored."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from earwitness.custody.hooks import HookRegistry
from earwitness.custody.store import EvidenceStore
from earwitness.decode import Limits
from tests.custody import badfiles
from tests.custody.conftest import MakeAudio


def _bad(kind: str, d: Path, rng: np.random.Generator) -> Path:
    makers = {
        "empty": lambda: badfiles.empty(d / "empty.mp3"),
        "garbage": lambda: badfiles.garbage(d / "garbage.mp3", rng),
        "truncated": lambda: badfiles.truncated(d / "truncated.m4a"),
        "zero_duration": lambda: badfiles.zero_duration(d / "zero.wav"),
        "sample_rate": lambda: badfiles.absurd_sample_rate(d / "sr1.wav"),
        "no_audio": lambda: badfiles.png_image(d / "image.png"),
        "directory": lambda: (d / "folder.mp3").mkdir() or d / "folder.mp3",
        "missing": lambda: d / "does-not-exist.mp3",
    }
    return makers[kind]()


REASONS = {
    "empty": "empty",
    "garbage": "not a readable audio or video file",
    "truncated": "not a readable audio or video file",  # the MP4 index (moov) is cut off
    "zero_duration": "decodes to no audio",
    "sample_rate": "1 Hz",
    "no_audio": "no audio stream",
    "directory": "not a regular file",
    "missing": "No such file",
}


@pytest.mark.parametrize("kind", sorted(REASONS))
def test_bad_input_rejected(store: EvidenceStore, tmp_path: Path, rng, kind: str):
    path = _bad(kind, tmp_path, rng)
    outcome = store.ingest(path, source="t")
    assert outcome.status == "rejected"
    assert outcome.item is None
    assert outcome.error and REASONS[kind] in outcome.error
    assert str(store.root) not in outcome.error  # names the input, never the temp copy
    assert outcome.path == str(path)
    assert store.items() == []
    assert store.audit_entries() == []
    assert not [p for p in (store.root / "objects").rglob("*") if p.is_file()]
    assert not list((store.root / "tmp").iterdir())


@pytest.mark.parametrize(
    ("limits", "maker", "reason"),
    [
        (Limits(max_duration_s=0.5), "long", "duration"),
        (Limits(max_bytes=1000), "long", "limit of 1000 bytes"),
        (Limits(max_sample_rate=8000), "long", "16000 Hz"),
        (Limits(max_expansion=1.0, expansion_slack_bytes=0), "silence", "decompression bomb"),
    ],
)
def test_limits_reject(
    store_dir: Path, tmp_path: Path, make_audio: MakeAudio, limits, maker, reason
):
    path = (
        make_audio("long.wav", seconds=1.0)
        if maker == "long"
        else badfiles.silent_flac(tmp_path / "silence.flac")
    )
    with EvidenceStore.open(store_dir, limits=limits, hooks=HookRegistry()) as store:
        outcome = store.ingest(path)
        assert outcome.status == "rejected"
        assert reason in (outcome.error or "")
        assert store.items() == []


def test_batch_continues_after_rejections(
    store: EvidenceStore, tmp_path: Path, rng, make_audio: MakeAudio
):
    paths = [
        make_audio("good1.wav"),
        _bad("garbage", tmp_path, rng),
        _bad("empty", tmp_path, rng),
        make_audio("good2.mp3"),
    ]
    statuses = [store.ingest(p).status for p in paths]
    assert statuses == ["added", "rejected", "rejected", "added"]
    assert len(store.items()) == 2
    assert store.verify().ok
