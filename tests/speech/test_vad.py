"""Silero VAD: streaming equals one-shot, and the segmentation equals faster-whisper's."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from faster_whisper import vad as fw_vad
from hypothesis import given, settings
from hypothesis import strategies as st

from earwitness.speech import speech_segments
from earwitness.speech.options import ACTIVITY_VAD, VadParams
from earwitness.speech.vad import FRAME, segment_scores, segments_from_probs, speech_probabilities
from earwitness.synth import noise, tone


def _oracle(probs: np.ndarray, n: int, params: VadParams, monkeypatch: pytest.MonkeyPatch):
    """faster-whisper's own get_speech_timestamps, fed our probabilities."""
    monkeypatch.setattr(fw_vad, "get_vad_model", lambda: lambda audio: probs)
    opts = fw_vad.VadOptions(
        threshold=params.threshold,
        neg_threshold=params.neg_threshold,
        min_speech_duration_ms=round(params.min_speech_s * 1000),
        max_speech_duration_s=params.max_speech_s,
        min_silence_duration_ms=round(params.min_silence_s * 1000),
        speech_pad_ms=round(params.pad_s * 1000),
    )
    return [(d["start"], d["end"]) for d in fw_vad.get_speech_timestamps(np.zeros(n), opts)]


def test_streamed_probabilities_equal_one_call(jfk16: np.ndarray) -> None:
    whole, n = speech_probabilities([jfk16])
    parts = [jfk16[i : i + 7777] for i in range(0, jfk16.shape[0], 7777)]
    streamed, n2 = speech_probabilities(parts)
    assert n == n2 == jfk16.shape[0]
    assert whole.shape == streamed.shape == (-(-n // FRAME),)
    np.testing.assert_allclose(whole, streamed, atol=1e-6)


@pytest.mark.parametrize("params", [VadParams(), ACTIVITY_VAD])
def test_segments_match_faster_whisper_on_speech(jfk16: np.ndarray, params: VadParams) -> None:
    audio = np.concatenate([np.zeros(3 * 16000, np.float32), jfk16, jfk16])
    ref = fw_vad.get_speech_timestamps(
        audio,
        fw_vad.VadOptions(
            min_speech_duration_ms=int(params.min_speech_s * 1000),
            min_silence_duration_ms=int(params.min_silence_s * 1000),
            speech_pad_ms=int(params.pad_s * 1000),
        ),
    )
    probs, n = speech_probabilities([audio])
    ours = segments_from_probs(probs=probs, n_samples=n, params=params)
    assert ours == [(d["start"], d["end"]) for d in ref]
    assert ours, "jfk has speech"


@settings(max_examples=60, deadline=None)
@given(
    raw=st.lists(st.floats(0, 1), min_size=1, max_size=400),
    threshold=st.sampled_from([0.3, 0.5, 0.7]),
    min_silence=st.sampled_from([0.05, 0.3, 2.0]),
    pad=st.sampled_from([0.0, 0.1, 0.4]),
    max_speech=st.sampled_from([float("inf"), 1.0, 3.0]),
    min_speech=st.sampled_from([0.0, 0.25]),
)
def test_segmentation_equals_oracle_and_is_well_formed(
    raw: list[float],
    threshold: float,
    min_silence: float,
    pad: float,
    max_speech: float,
    min_speech: float,
) -> None:
    probs = np.asarray(raw, dtype=np.float32)
    n = probs.shape[0] * FRAME - 100
    params = VadParams(
        threshold=threshold,
        min_silence_s=min_silence,
        pad_s=pad,
        max_speech_s=max_speech,
        min_speech_s=min_speech,
    )
    ours = segments_from_probs(probs=probs, n_samples=n, params=params)
    with pytest.MonkeyPatch.context() as mp:
        assert ours == [seg for seg in _oracle(probs, n, params, mp) if seg[1] > seg[0]]
    assert all(0 <= s < e <= n for s, e in ours)
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(ours))
    scores = segment_scores(probs=probs, segments=ours)
    assert all(0.0 <= x <= 1.0 for x in scores)


def test_no_speech_in_tone_and_noise(rng: np.random.Generator) -> None:
    sr = 16000
    audio = np.concatenate(
        [
            tone(freq=440.0, duration_s=3.0, sr=sr, amp=0.3),
            noise(duration_s=3.0, sr=sr, rng=rng, amp=0.05),
        ]
    ).astype(np.float32)
    assert speech_segments([audio]) == []


def test_speech_segments_in_seconds_cover_jfk(jfk16: np.ndarray) -> None:
    segs = speech_segments([jfk16])
    assert segs[0][0] < 0.5 and segs[-1][1] > 10.0
    assert all(e > s for s, e in segs)
