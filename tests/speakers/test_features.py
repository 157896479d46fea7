from __future__ import annotations

import importlib.util
import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from earwitness.speakers.features import mel_filterbank, mel_power_spectrogram, speech_activity

SR = 16000


def test_mel_filterbank_shape_and_coverage() -> None:
    fb = mel_filterbank(sr=SR, n_fft=400, n_mels=40)
    assert fb.shape == (40, 201)
    assert np.all(fb >= 0)
    assert np.all(fb.sum(axis=1) > 0)  # every band covers some FFT bins


@pytest.mark.skipif(importlib.util.find_spec("librosa") is None, reason="librosa not installed")
def test_mel_matches_librosa(rng: np.random.Generator) -> None:
    import librosa

    y = (0.1 * rng.standard_normal(SR)).astype(np.float32)
    ref = librosa.feature.melspectrogram(y=y, sr=SR, n_fft=400, hop_length=160, n_mels=40).T
    ours = mel_power_spectrogram(y=y, sr=SR, n_fft=400, hop=160, n_mels=40)
    assert ours.shape == ref.shape
    assert np.max(np.abs(ours - ref)) <= 1e-5 * np.max(ref)


def test_activity_finds_bursts_in_silence(rng: np.random.Generator) -> None:
    truth = [(0.5, 1.5), (2.5, 4.0)]
    y = 0.001 * rng.standard_normal(5 * SR)
    for s, e in truth:
        n = int((e - s) * SR)
        y[int(s * SR) : int(s * SR) + n] += 0.3 * np.sin(2 * np.pi * 220 * np.arange(n) / SR)
    segs = speech_activity(y=y, sr=SR)
    assert len(segs) == 2
    for (s, e), (ts, te) in zip(segs, truth, strict=True):
        assert abs(s - ts) < 0.1 and abs(e - te) < 0.1


def test_activity_of_silence_is_empty() -> None:
    assert speech_activity(y=np.zeros(SR), sr=SR) == []
    assert speech_activity(y=np.zeros(10), sr=SR) == []


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1), st.floats(0.1, 3.0))
def test_activity_segments_are_ordered_and_inside(seed: int, dur: float) -> None:
    y = (
        np.random.default_rng(seed).standard_normal(int(dur * SR))
        * np.repeat(np.random.default_rng(seed + 1).random(int(dur * 10) + 1), SR // 10)[
            : int(dur * SR)
        ]
    )
    segs = speech_activity(y=y, sr=SR)
    for s, e in segs:
        assert 0 <= s < e <= dur + 1e-9
    for (_, e0), (s1, _) in itertools.pairwise(segs):
        assert e0 < s1
