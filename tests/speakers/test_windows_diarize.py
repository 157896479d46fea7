from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from earwitness.speakers.diarize import DiarizationParams, cluster_windows, diarize
from earwitness.speakers.windows import (
    WindowEmbeddings,
    WindowParams,
    embed_recording,
    embed_windows_stream,
    mean_vector,
)
from tests.speakers.conftest import SR, BandEmbedder, talker


def two_talkers(rng: np.random.Generator) -> tuple[np.ndarray, list[tuple[float, float, str]]]:
    a = talker(f0=110, duration_s=4.0, rng=rng)
    b = talker(f0=260, duration_s=4.0, rng=rng)
    gap = np.zeros(int(0.5 * SR), np.float32)
    y = np.concatenate([a, gap, b, gap, a[: 3 * SR]])
    truth = [(0.0, 4.0, "A"), (4.5, 8.5, "B"), (9.0, 12.0, "A")]
    return y, truth


def test_two_talkers_are_separated(rng: np.random.Generator) -> None:
    y, truth = two_talkers(rng)
    we = embed_windows_stream(chunks=[y], sr=SR, embedder=BandEmbedder())
    d = diarize(windows=we)
    assert d.speaker_count == 2
    assert [t.speaker for t in d.turns] == ["S1", "S2", "S1"]
    for t, (s, e, _) in zip(d.turns, truth, strict=True):
        assert abs(t.start_s - s) < 0.8 and abs(t.end_s - e) < 0.8
    total = {s.label: s.speech_s for s in d.speakers}
    assert total["S1"] == pytest.approx(7.0, abs=1.0)
    assert total["S2"] == pytest.approx(4.0, abs=1.0)


@settings(max_examples=15, deadline=None)
@given(st.integers(1, 40), st.integers(0, 2**31))
def test_streaming_is_chunk_invariant(chunk_tenths: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    y = talker(f0=150, duration_s=3.3, rng=rng)
    emb = BandEmbedder()
    act = [(0.0, 3.3)]
    whole = embed_windows_stream(chunks=[y], sr=SR, embedder=emb, activity=act)
    n = chunk_tenths * SR // 10
    parts = [y[i : i + n] for i in range(0, len(y), n)]
    streamed = embed_windows_stream(chunks=parts, sr=SR, embedder=emb, activity=act)
    assert np.array_equal(whole.starts, streamed.starts)
    assert np.allclose(whole.vectors, streamed.vectors, atol=1e-6)


def test_windows_skip_silence_and_short_input(rng: np.random.Generator) -> None:
    emb = BandEmbedder()
    y = np.concatenate([np.zeros(3 * SR, np.float32), talker(f0=150, duration_s=2, rng=rng)])
    we = embed_windows_stream(chunks=[y], sr=SR, embedder=emb, params=WindowParams(hop_s=0.5))
    assert len(we) > 0 and we.starts.min() >= 2.0
    short = embed_windows_stream(chunks=[y[-SR // 2 :]], sr=SR, embedder=emb)
    assert len(short) == 1  # shorter than a window: one padded window
    silent = embed_windows_stream(chunks=[np.zeros(2 * SR, np.float32)], sr=SR, embedder=emb)
    assert len(silent) == 0 and diarize(windows=silent).speaker_count == 0
    with pytest.raises(ValueError, match="Hz"):
        embed_windows_stream(chunks=[y], sr=8000, embedder=emb)


def test_embed_recording_rejects_silence(rng: np.random.Generator) -> None:
    emb = BandEmbedder()
    vec, speech_s = embed_recording(y=talker(f0=150, duration_s=2, rng=rng), sr=SR, embedder=emb)
    assert np.linalg.norm(vec) == pytest.approx(1.0, abs=1e-5) and speech_s > 1.5
    with pytest.raises(ValueError, match="no sound"):
        embed_recording(y=np.zeros(SR, np.float32), sr=SR, embedder=emb)


def blobs(rng: np.random.Generator, k: int, n: int, dim: int = 16, spread: float = 0.05):
    centres = rng.standard_normal((k, dim))
    labels = np.repeat(np.arange(k), n)
    v = centres[labels] / np.linalg.norm(centres[labels], axis=1, keepdims=True)
    v = v + spread * rng.standard_normal(v.shape)
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32), labels


def same_partition(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(np.all((a[:, None] == a[None, :]) == (b[:, None] == b[None, :])))


@pytest.mark.parametrize("k", [1, 2, 4])
def test_cluster_windows_recovers_blobs(rng: np.random.Generator, k: int) -> None:
    v, labels = blobs(rng, k, 30)
    got = cluster_windows(vectors=v, params=DiarizationParams(smooth_windows=1))
    assert same_partition(got, labels)


def test_subsampled_clustering_matches_full(rng: np.random.Generator) -> None:
    """Bounded-memory path (cluster a subsample, assign the rest) against the full oracle."""
    v, labels = blobs(rng, 3, 400)
    full = cluster_windows(vectors=v, params=DiarizationParams(smooth_windows=1))
    sub = cluster_windows(
        vectors=v, params=DiarizationParams(smooth_windows=1, max_cluster_windows=150)
    )
    assert same_partition(full, labels) and same_partition(sub, full)


def test_diarize_orders_speakers_by_first_appearance(rng: np.random.Generator) -> None:
    v, _labels = blobs(rng, 2, 10)
    order = np.r_[10:20, 0:10]  # the second blob speaks first
    starts = np.arange(20) * 0.5
    we = WindowEmbeddings(
        starts=starts,
        ends=starts + 1.0,
        vectors=v[order],
        activity=((0.0, 10.5),),
        duration_s=10.5,
    )
    d = diarize(windows=we)
    assert [t.speaker for t in d.turns] == ["S1", "S2"]
    assert d.turns[0].start_s == 0.0 and d.turns[-1].end_s == pytest.approx(10.5)
    assert np.allclose(d.speakers[0].centroid, mean_vector(v[10:20]), atol=1e-6)
