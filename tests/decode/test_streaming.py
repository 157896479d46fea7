"""Chunked decoding: bounded chunks, continuous resampling, chunked == whole decode."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from earwitness.decode import iter_audio, load_audio
from earwitness.decode.reader import DecodeReport
from earwitness.synth.encode import encode_file

SR = 44100


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("stream")
    rng = np.random.default_rng(20261125)
    t = np.arange(int(2.5 * SR)) / SR
    x = (0.3 * np.sin(2 * np.pi * 440 * t) + 0.01 * rng.standard_normal(t.size)).astype(np.float32)
    return {
        "wav": encode_file(d / "s.wav", x, sr=SR),
        "mp3": encode_file(d / "s.mp3", np.stack([x, -x]), sr=SR),
        "ogg": encode_file(d / "s.ogg", x, sr=SR),
    }


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    key=st.sampled_from(["wav", "mp3", "ogg"]),
    rate=st.sampled_from([None, 16000, 22050, 8000]),
    chunk_s=st.floats(min_value=0.013, max_value=3.0),
)
def test_chunked_equals_whole(
    files: dict[str, Path], key: str, rate: int | None, chunk_s: float
) -> None:
    whole = load_audio(files[key], sr=rate).samples
    chunks = list(iter_audio(files[key], sr=rate, chunk_s=chunk_s))
    sr = rate or (48000 if key == "ogg" else SR)
    n = max(1, round(chunk_s * sr))
    assert all(c.shape[0] == n for c in chunks[:-1])
    assert 0 < chunks[-1].shape[0] <= n
    np.testing.assert_array_equal(np.concatenate(chunks), whole)


def test_resampling_is_continuous_across_chunks(files: dict[str, Path]) -> None:
    """A sine decoded at 16 kHz in 0.1 s chunks matches the ideal sine everywhere inside."""
    y = np.concatenate(list(iter_audio(files["wav"], sr=16000, chunk_s=0.1)))
    assert y.shape[0] == int(2.5 * 16000)
    t = np.arange(y.shape[0]) / 16000
    ideal = 0.3 * np.sin(2 * np.pi * 440 * t)
    inner = slice(800, -800)
    assert np.max(np.abs(y[inner] - ideal[inner])) < 0.06  # noise bed 0.01 rms, no steps
    d = np.abs(np.diff(y[inner]))
    assert np.max(d) < 2 * 0.3 * 2 * np.pi * 440 / 16000 + 0.06


def test_stereo_chunks_and_report(files: dict[str, Path]) -> None:
    reports: list[DecodeReport] = []
    chunks = list(iter_audio(files["mp3"], mono=False, chunk_s=1.0, on_report=reports.append))
    assert all(c.shape[0] == 2 for c in chunks)
    joined = np.concatenate(chunks, axis=1)
    np.testing.assert_allclose(joined[0], -joined[1], atol=0.02)
    assert len(reports) == 1
    assert reports[0].channels == 2
    assert reports[0].native_samples == joined.shape[1] == int(2.5 * SR)
    # mono is the mean of the channels: the anti-phase pair cancels
    mono = load_audio(files["mp3"]).samples
    assert np.max(np.abs(mono)) < 0.02
