"""Speech: activity detection, transcription, translation, language ID, subtitles, watchlist.

Public API::

    SpeechStage                      the ``speech`` analysis stage
    resolve_model(spec) -> ModelInfo a local model by directory or name (ModelError if none)
    list_models(), install_bundled() the ``earwitness models`` commands
    SpeechBackend, default_backends() the backend role and its registry (faster-whisper built in)
    speech_segments(chunks)          Silero VAD speech spans in seconds, streamed
    Watchlist, find_hits             the analyst's terms and the matcher
    to_srt, to_vtt                   subtitle export
"""

from collections.abc import Iterable

import numpy as np

from earwitness.speech.backend import SpeechBackend, SpeechModel, default_backends
from earwitness.speech.models import install_bundled, list_models, models_dir, resolve_model
from earwitness.speech.options import (
    ACTIVITY_VAD,
    ModelInfo,
    Segment,
    Transcript,
    TranscriptionOptions,
    VadParams,
    Word,
)
from earwitness.speech.stage import SpeechStage
from earwitness.speech.subtitles import to_srt, to_vtt
from earwitness.speech.vad import SAMPLE_RATE, segments_from_probs, speech_probabilities
from earwitness.speech.watchlist import Watchlist, find_hits


def speech_segments(
    chunks: Iterable[np.ndarray], *, params: VadParams = ACTIVITY_VAD
) -> list[tuple[float, float]]:
    """Speech spans (seconds) of 16 kHz mono ``chunks`` by Silero VAD, in bounded memory."""
    probs, n = speech_probabilities(chunks)
    return [
        (s / SAMPLE_RATE, e / SAMPLE_RATE)
        for s, e in segments_from_probs(probs=probs, n_samples=n, params=params)
    ]


__all__ = [
    "ACTIVITY_VAD",
    "ModelInfo",
    "Segment",
    "SpeechBackend",
    "SpeechModel",
    "SpeechStage",
    "Transcript",
    "TranscriptionOptions",
    "VadParams",
    "Watchlist",
    "Word",
    "default_backends",
    "find_hits",
    "install_bundled",
    "list_models",
    "models_dir",
    "resolve_model",
    "speech_segments",
    "to_srt",
    "to_vtt",
]
