"""Fixtures for custody tests: small synthetic recordings with distinct bytes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from earwitness.custody.hooks import HookRegistry
from earwitness.custody.store import EvidenceStore
from earwitness.synth import encode_file, noise, tone

MakeAudio = Callable[..., Path]


@pytest.fixture
def make_audio(tmp_path: Path, rng: np.random.Generator) -> MakeAudio:
    """``make_audio(name, seconds=1.0, sr=16000, codec=None)``: a tone plus seeded noise, so
    every call writes different bytes."""
    src = tmp_path / "in"
    src.mkdir(exist_ok=True)

    def make(name: str, seconds: float = 1.0, sr: int = 16000, codec: str | None = None) -> Path:
        y = tone(freq=float(rng.uniform(200, 2000)), duration_s=seconds, sr=sr) + noise(
            duration_s=seconds, sr=sr, rng=rng, amp=0.05
        )
        return encode_file(src / name, y, sr=sr, codec=codec)

    return make


@pytest.fixture
def store(store_dir: Path) -> Iterator[EvidenceStore]:
    """A fresh store with no ingest hooks (hooks of other domains are tested there)."""
    s = EvidenceStore.open(store_dir, hooks=HookRegistry())
    yield s
    s.close()
