"""The custody commands through ``earwitness.cli.main.main`` and the installed script."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from earwitness.cli.main import main
from earwitness.synth import encode_file, tone
from tests.custody import badfiles


@pytest.fixture
def inbox(tmp_path: Path, rng: np.random.Generator) -> Path:
    """A folder of releases: three good files (one a copy) in nested folders, two bad ones."""
    d = tmp_path / "inbox"
    (d / "week1").mkdir(parents=True)
    (d / "week2").mkdir()
    for i, (sub, codec) in enumerate([("week1", "mp3"), ("week1", "wav"), ("week2", "ogg")]):
        y = tone(freq=300.0 + 100 * i, duration_s=1.0, sr=16000)
        y = y + 0.01 * rng.standard_normal(y.size).astype(np.float32)
        encode_file(d / sub / f"release{i}.{codec}", y, sr=16000, codec=codec)
    shutil.copyfile(d / "week1" / "release0.mp3", d / "week2" / "reupload.mp3")
    badfiles.garbage(d / "week2" / "broken.mp3", rng)
    badfiles.empty(d / "week1" / "empty.m4a")
    (d / ".DS_Store").write_bytes(b"junk")  # hidden files are skipped
    return d


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_ingest_folder_json_then_resume(tmp_path: Path, inbox: Path, capsys):
    store = str(tmp_path / "store")
    code, out, err = _run(
        capsys, "ingest", str(inbox), "--store", store, "--source", "tg:1", "--json"
    )
    assert code == 1
    rows = json.loads(out)
    by_name = {Path(r["path"]).name: r for r in rows}
    assert len(rows) == 6
    assert {k: v["status"] for k, v in by_name.items()} == {
        "release0.mp3": "added",
        "release1.wav": "added",
        "empty.m4a": "rejected",
        "release2.ogg": "added",
        "reupload.mp3": "duplicate",
        "broken.mp3": "rejected",
    }
    assert by_name["reupload.mp3"]["id"] == by_name["release0.mp3"]["id"]
    assert by_name["release0.mp3"]["sha256"].startswith(by_name["release0.mp3"]["id"])
    assert by_name["release1.wav"]["duration_s"] == pytest.approx(1.0, abs=0.01)
    assert "empty" in by_name["empty.m4a"]["error"]
    assert "broken.mp3" in err and "empty.m4a" in err

    # Re-running (as after an interruption) skips what is already in, and says so.
    code, out, _ = _run(capsys, "ingest", str(inbox), "--store", store, "--source", "tg:1")
    assert code == 1
    assert "3 added" not in out
    assert "6 files: 0 added, 4 duplicate (4 skipped as already ingested), 2 rejected" in out
    assert "rejected" in out and "broken.mp3" in out


def test_ingest_all_good_exits_0_and_limits_flags(tmp_path: Path, inbox: Path, capsys):
    store = str(tmp_path / "store")
    good = inbox / "week1" / "release1.wav"
    code, out, _ = _run(capsys, "ingest", str(good), "--store", store)
    assert code == 0 and out.startswith("added")
    other = inbox / "week1" / "release0.mp3"
    code, out, err = _run(capsys, "ingest", str(other), "--store", store, "--max-duration", "0.5")
    assert code == 1 and "release0.mp3" in err and "duration" in err
    code, out, err = _run(capsys, "ingest", str(other), "--store", store, "--max-bytes", "100")
    assert code == 1 and "100 bytes" in err
    code, out, err = _run(
        capsys, "ingest", str(other), "--store", store, "--collected-at", "yesterday"
    )
    assert code == 1 and "ISO 8601" in err


def test_items_show_verify_export(tmp_path: Path, inbox: Path, capsys):
    store = str(tmp_path / "store")
    _run(capsys, "ingest", str(inbox / "week1"), "--store", store, "--source", "tg:7")
    code, out, _ = _run(capsys, "items", "--store", store, "--json")
    items = json.loads(out)
    assert code == 0 and len(items) == 2
    code, out, _ = _run(capsys, "items", "--store", store)
    assert "release0.mp3" in out and "tg:7" in out and "2 items" in out
    item_id = next(i["id"] for i in items if i["original_name"] == "release0.mp3")

    code, out, _ = _run(capsys, "show", item_id[:8], "--store", store)
    assert code == 0 and item_id in out and "ingest" in out and "mp3" in out
    code, out, _ = _run(capsys, "show", item_id, "--store", store, "--json")
    shown = json.loads(out)
    assert shown["sources"][0]["source"] == "tg:7"
    assert shown["probe"]["format"] == "mp3"
    assert [e["action"] for e in shown["audit"]] == ["ingest"]
    code, _, err = _run(capsys, "show", "0123456789abcdef", "--store", store)
    assert code == 1 and "no such item" in err

    code, out, _ = _run(capsys, "verify", "--store", store)
    assert code == 0 and out.startswith("OK")
    bundle = tmp_path / "bundle"
    code, out, _ = _run(capsys, "export", item_id, "--out", str(bundle), "--store", store)
    assert code == 0
    if shutil.which("sha256sum"):
        check = subprocess.run(
            ["sha256sum", "-c", "SHA256SUMS"], cwd=bundle, check=False, capture_output=True
        )
        assert check.returncode == 0
    code, out, _ = _run(capsys, "verify", "--store", store, "--json")
    assert json.loads(out)["ok"] is True and json.loads(out)["entries_checked"] == 3


def test_verify_fails_naming_entry(tmp_path: Path, inbox: Path, capsys):
    store = tmp_path / "store"
    _run(capsys, "ingest", str(inbox / "week1"), "--store", str(store))
    db = sqlite3.connect(store / "catalog.sqlite")
    db.execute("DROP TRIGGER audit_no_update")
    db.execute("UPDATE audit SET details = '{}' WHERE seq = 1")
    db.commit()
    db.close()
    code, _, err = _run(capsys, "verify", "--store", str(store))
    assert code == 1 and "audit entry 1" in err


@pytest.mark.slow
def test_installed_script(tmp_path: Path, inbox: Path):
    exe = Path(sys.executable).with_name("earwitness")
    if not exe.exists():
        pytest.skip(f"no installed earwitness script next to {sys.executable}")
    env = {**os.environ, "EARWITNESS_STORE": str(tmp_path / "store")}
    res = subprocess.run(
        [
            str(exe),
            "ingest",
            "--json",
            str(inbox / "week1" / "release1.wav"),
            str(inbox / "week2" / "broken.mp3"),
            str(inbox / "week2" / "release2.ogg"),
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert res.returncode == 1, res.stderr
    assert [r["status"] for r in json.loads(res.stdout)] == ["added", "rejected", "added"]
    assert "broken.mp3" in res.stderr
    ok = subprocess.run([str(exe), "verify"], capture_output=True, text=True, env=env, check=False)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "2 originals re-hashed" in ok.stdout


@pytest.mark.parametrize(
    ("maker", "extra", "reason"),
    [
        (lambda d, rng: badfiles.empty(d / "empty.mp3"), [], "empty"),
        (
            lambda d, rng: badfiles.garbage(d / "garbage.mp3", rng),
            [],
            "not a readable audio or video file",
        ),
        (
            lambda d, rng: badfiles.truncated(d / "cut.m4a"),
            [],
            "not a readable audio or video file",
        ),
        (lambda d, rng: badfiles.zero_duration(d / "zero.wav"), [], "decodes to no audio"),
        (lambda d, rng: badfiles.png_image(d / "image.png"), [], "no audio stream"),
        (lambda d, rng: badfiles.absurd_sample_rate(d / "sr.wav"), [], "1 Hz"),
        (
            lambda d, rng: badfiles.silent_flac(d / "bomb.flac", 30.0),
            ["--max-duration", "10"],
            "duration",
        ),
    ],
)
def test_each_bad_input_in_a_batch(tmp_path: Path, inbox: Path, rng, capsys, maker, extra, reason):
    bad = maker(tmp_path, rng)
    good = [inbox / "week1" / "release0.mp3", inbox / "week1" / "release1.wav"]
    code, out, err = _run(
        capsys,
        "ingest",
        str(good[0]),
        str(bad),
        str(good[1]),
        "--store",
        str(tmp_path / "store"),
        "--json",
        *extra,
    )
    assert code == 1
    rows = json.loads(out)
    assert [r["status"] for r in rows] == ["added", "rejected", "added"]
    assert rows[1]["path"] == str(bad)
    assert reason in rows[1]["error"]  # the reason itself, not just the file name
    assert str(bad) in err
