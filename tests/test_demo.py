"""The demo's staged recording has the ground truth it claims."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from earwitness.decode import load_audio, probe
from earwitness.demo import gunshot, staged_recording, write_demo_recording


def test_gunshot_is_impulsive(rng: np.random.Generator) -> None:
    y = gunshot(sr=22050, rng=rng)
    peak = int(np.argmax(np.abs(y)))
    assert peak < int(0.005 * 22050)  # peak within 5 ms of the onset
    early = np.sum(y[: int(0.05 * 22050)] ** 2)
    assert early / np.sum(y**2) > 0.7  # most energy in the first 50 ms
    # ...with a reverberant tail still audible at 0.3-0.4 s, so a pasted copy spans >= 0.3 s
    tail = y[int(0.3 * 22050) : int(0.4 * 22050)]
    tail_db = 20 * np.log10(np.sqrt(np.mean(tail**2)) / 0.9)
    assert -60.0 < tail_db < -25.0
    assert np.max(np.abs(y)) == pytest.approx(0.9, abs=1e-3)


def test_staged_recording_matches_its_truth(rng: np.random.Generator) -> None:
    y, truth = staged_recording(rng=rng)
    sr = truth.sr
    assert y.shape == (int(truth.duration_s * sr),)
    frame = int(0.01 * sr)
    env = np.sqrt(np.mean(y[: y.size // frame * frame].reshape(-1, frame) ** 2, axis=1))
    loudest = sorted(np.argsort(env)[-3:] * 0.01)
    for got, want in zip(loudest, truth.gunshot_starts_s, strict=True):
        assert got == pytest.approx(want, abs=0.05)
    floor = [
        np.percentile(env[int(a * 100) : int(b * 100)], 5)
        for a, b in ((0.0, truth.splice_s), (truth.splice_s, truth.duration_s))
    ]
    assert 20 * np.log10(floor[1] / floor[0]) > 6.0
    assert truth.noise_floor_jump_db > 6.0


def test_demo_recording_file(tmp_path: Path) -> None:
    path = tmp_path / "demo.m4a"
    truth = write_demo_recording(path)
    info = probe(path)
    assert info.audio.codec == "aac"
    assert info.tags.get("title") == "Statement (earwitness demo)"
    assert load_audio(path).duration_s == pytest.approx(truth.duration_s, abs=0.05)
    assert (tmp_path / "demo.truth.json").is_file()
