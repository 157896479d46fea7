"""``earwitness match``: contract of --json, no ingest, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from earwitness.cli.main import main
from earwitness.custody.store import EvidenceStore
from earwitness.synth import babble, encode_file


def test_match_json_contract_and_no_ingest(
    tmp_path: Path, store_dir: Path, rng: np.random.Generator, capsys: pytest.CaptureFixture[str]
) -> None:
    y = babble(duration_s=30.0, sr=16000, rng=rng)
    old = encode_file(tmp_path / "old.flac", y, sr=16000)
    query = encode_file(tmp_path / "new.mp3", y[10 * 16000 : 22 * 16000], sr=16000, bitrate=64000)
    assert main(["ingest", "--store", str(store_dir), str(old)]) == 0
    capsys.readouterr()
    assert main(["match", "--store", str(store_dir), "--json", str(query)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out["query"]) >= {"sha256", "duration_s"}
    m = out["matches"][0]
    assert set(m) >= {
        "item_id",
        "sha256",
        "score",
        "query_start_s",
        "query_end_s",
        "ref_start_s",
        "ref_end_s",
        "speed",
    }
    assert abs((m["ref_start_s"] - m["query_start_s"]) - 10.0) < 0.1
    assert len(EvidenceStore.open(store_dir).items()) == 1


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (None, "no such file"),
        (b"", "file is empty"),
        (b"\x00garbage" * 50, "not a readable audio or video file"),
    ],
)
def test_match_bad_input(
    tmp_path: Path,
    store_dir: Path,
    content: bytes | None,
    reason: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "bad.mp3"
    if content is not None:
        path.write_bytes(content)
    assert main(["match", "--store", str(store_dir), str(path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"earwitness: error: {path}: ")  # names the file...
    assert reason in err  # ...and the reason


def test_rebuild_index_cli_replaces_an_older_index(
    tmp_path: Path, store_dir: Path, rng: np.random.Generator, capsys: pytest.CaptureFixture[str]
) -> None:
    y = babble(duration_s=20.0, sr=16000, rng=rng)
    old = encode_file(tmp_path / "old.flac", y, sr=16000)
    query = encode_file(tmp_path / "q.flac", y[4 * 16000 : 14 * 16000], sr=16000)
    assert main(["ingest", "--store", str(store_dir), str(old)]) == 0
    store = EvidenceStore.open(store_dir)
    man_path = store.data_dir("index") / "embedded" / "manifest.json"
    man = json.loads(man_path.read_text())
    man_path.write_text(json.dumps({**man, "version": 1}))
    capsys.readouterr()
    assert main(["match", "--store", str(store_dir), str(query)]) == 1
    assert "rebuild-index" in capsys.readouterr().err
    assert main(["match", "--store", str(store_dir), "--rebuild-index"]) == 0
    assert "rebuilt: 1 items" in capsys.readouterr().out
    assert main(["match", "--store", str(store_dir), "--json", str(query)]) == 0
    assert json.loads(capsys.readouterr().out)["matches"]
