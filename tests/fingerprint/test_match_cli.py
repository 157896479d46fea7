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


def _ingest_old_and_query(
    tmp_path: Path, store_dir: Path, rng: np.random.Generator
) -> tuple[EvidenceStore, Path]:
    """A store holding a 20 s recording, and a 10 s excerpt of it to query with."""
    y = babble(duration_s=20.0, sr=16000, rng=rng)
    old = encode_file(tmp_path / "old.flac", y, sr=16000)
    query = encode_file(tmp_path / "q.flac", y[4 * 16000 : 14 * 16000], sr=16000)
    assert main(["ingest", "--store", str(store_dir), str(old)]) == 0
    return EvidenceStore.open(store_dir), query


def test_rebuild_index_cli_replaces_an_older_index(
    tmp_path: Path, store_dir: Path, rng: np.random.Generator, capsys: pytest.CaptureFixture[str]
) -> None:
    store, query = _ingest_old_and_query(tmp_path, store_dir, rng)
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


def test_explain_without_the_reference_audio_says_so(
    tmp_path: Path, store_dir: Path, rng: np.random.Generator, capsys: pytest.CaptureFixture[str]
) -> None:
    store, query = _ingest_old_and_query(tmp_path, store_dir, rng)
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
    # the unrefined span is said too (a custody problem, not a missing item)
    assert "could not be decoded, so its matched span was not refined" in err
