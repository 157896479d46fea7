"""Fixtures for the speakers tests: a tiny deterministic embedder, synthetic talkers, a store.

The fake embedder maps a window to its normalised energy in 16 bands, so two synthetic
"talkers" with different pitch and formants give clearly different vectors; it lets the
stage, library and archive logic be tested in milliseconds. The real GE2E embedder is tested
in ``test_real_model.py`` (marked ``speakers``; skipped when torch/resemblyzer are absent).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest

from earwitness.custody.hooks import HookRegistry
from earwitness.custody.store import EvidenceStore
from earwitness.speakers.embedder import default_embedders, embedder_unavailable_reason

SR = 16000


class BandEmbedder:
    name: ClassVar[str] = "test-bands"
    version: ClassVar[str] = "1"
    sample_rate: ClassVar[int] = SR
    window_s: ClassVar[float] = 1.0
    dim: ClassVar[int] = 16

    def embed_windows(self, windows: Sequence[np.ndarray]) -> np.ndarray:
        out = np.zeros((len(windows), self.dim), np.float32)
        edges = np.geomspace(80, 4000, self.dim + 1)
        for i, w in enumerate(windows):
            spec = np.abs(np.fft.rfft(np.asarray(w, np.float64), n=SR)) ** 2
            f = np.fft.rfftfreq(SR, 1 / SR)
            bands = np.array([spec[(f >= a) & (f < b)].sum() for a, b in itertools.pairwise(edges)])
            v = np.sqrt(bands)
            out[i] = v / (np.linalg.norm(v) or 1.0)
        return out


def talker(
    *, f0: float, duration_s: float, rng: np.random.Generator, amp: float = 0.3
) -> np.ndarray:
    """A voiced 'talker': harmonics of ``f0`` with syllable-rate amplitude modulation."""
    t = np.arange(int(duration_s * SR)) / SR
    f = f0 * (1 + 0.02 * np.sin(2 * np.pi * 0.7 * t))
    phase = 2 * np.pi * np.cumsum(f) / SR
    y = sum(np.sin(k * phase) / k for k in range(1, 6))
    env = 0.6 + 0.4 * np.sin(2 * np.pi * 4 * t) ** 2
    y = y * env + 0.01 * rng.standard_normal(len(t))
    return (amp * y / np.max(np.abs(y))).astype(np.float32)


@pytest.fixture
def band_embedder() -> Iterator[BandEmbedder]:
    reg = default_embedders()
    reg.register(BandEmbedder.name, BandEmbedder, replace=True)
    yield reg.get(BandEmbedder.name)  # type: ignore[misc]
    reg.unregister(BandEmbedder.name)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[EvidenceStore]:
    # No ingest hooks: these tests are about the speakers domain only.
    with EvidenceStore.open(tmp_path / "store", hooks=HookRegistry()) as s:
        yield s


@pytest.fixture(scope="session")
def real_embedder():  # type: ignore[no-untyped-def]
    reason = embedder_unavailable_reason()
    if reason:
        pytest.skip(reason)
    from earwitness.speakers.embedder import get_embedder

    return get_embedder()
