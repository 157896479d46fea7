"""Shared fixtures: a seeded rng, a throw-away store, and the shared corpus (skip if absent)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20261125)


@pytest.fixture
def corpus() -> Path:
    """The shared corpus of real recordings; tests using it skip cleanly when it is absent."""
    if not CORPUS.is_dir():
        pytest.skip(f"shared corpus not found at {CORPUS}")
    return CORPUS


@pytest.fixture
def store_dir(tmp_path: Path) -> Path:
    return tmp_path / "store"
