"""Real sound effects (fetched by benchmarks/fetch_sfx.py) mixed into real speech.

Skipped cleanly when ``benchmarks/data/sfx`` or the shared corpus is absent (not in CI)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from earwitness.decode import load_audio
from earwitness.events.stage import builtin_detectors, detect_chunked
from earwitness.synth.events import place

SFX = Path(__file__).resolve().parents[2] / "benchmarks" / "data" / "sfx"
SR = 16000


@pytest.fixture
def manifest() -> list[dict[str, str]]:
    path = SFX / "manifest.json"
    if not path.is_file():
        pytest.skip("real sound effects not fetched (python benchmarks/fetch_sfx.py)")
    data: list[dict[str, str]] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _detect(y: np.ndarray) -> list[tuple[str, float]]:
    evs = detect_chunked(registry=builtin_detectors(), y=y, sr=SR, chunk_s=600.0, overlap_s=15.0)
    return [(e.label, e.start_s) for e in evs]


@pytest.mark.slow
@pytest.mark.corpus
def test_real_shots_in_real_speech_are_found(manifest: list[dict[str, str]], corpus: Path) -> None:
    speech = load_audio(corpus / "jfk.flac", sr=SR).samples
    speech = speech + np.float32(1e-3) * np.random.default_rng(0).standard_normal(
        speech.size
    ).astype(np.float32)
    assert _detect(speech) == []
    shots = [m for m in manifest if m["label"] == "gunfire"]
    assert shots, "the fetched manifest lists no gunfire clip: nothing would be tested"
    found = 0
    for m in shots:
        clip = load_audio(SFX / m["file"], sr=SR).samples
        y = place(
            background=speech, event=clip - np.float32(clip.mean()), at_s=5.0, sr=SR, snr_db=10
        )
        hits = [t for lab, t in _detect(y) if lab in ("gunfire", "explosion")]
        found += any(abs(t - 5.0) <= 0.25 for t in hits)
    assert found >= 0.8 * len(shots)
