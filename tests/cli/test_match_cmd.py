"""``earwitness match --explain``: what the picture could not show is said on stderr."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from earwitness.cli.main import main
from earwitness.custody.store import EvidenceStore
from earwitness.synth import babble, encode_file


def test_explain_without_the_reference_audio_says_so(
    tmp_path: Path, store_dir: Path, rng: np.random.Generator, capsys: pytest.CaptureFixture[str]
) -> None:
    y = babble(duration_s=20.0, sr=16000, rng=rng)
    old = encode_file(tmp_path / "old.flac", y, sr=16000)
    query = encode_file(tmp_path / "q.flac", y[4 * 16000 : 14 * 16000], sr=16000)
    assert main(["ingest", "--store", str(store_dir), str(old)]) == 0
    store = EvidenceStore.open(store_dir)
    (item,) = store.items()
    original = store.original_path(item)
    original.chmod(0o644)
    original.write_bytes(b"\x00garbage" * 50)  # the stored original can no longer be decoded
    png = tmp_path / "explain.png"
    capsys.readouterr()
    argv = ["match", "--store", str(store_dir), "--json", "--explain", str(png), str(query)]
    assert main(argv) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["matches"][0]["item_id"] == item.id
    assert png.read_bytes().startswith(b"\x89PNG")  # still drawn, from the query alone
    assert item.id in err
    assert "without the reference audio" in err
    assert "not a readable audio or video file" in err
