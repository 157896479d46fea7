"""Frozen options and results of speech detection and transcription.

Every value that can change a result is a field here, so the report's methods section records
it verbatim (``to_dict``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class VadParams:
    """Parameters of the Silero VAD segmentation (Silero Team 2021/2024, ``silero-vad``).

    ``threshold``: a 32 ms frame with speech probability at or above it starts or continues
    speech; ``neg_threshold`` (None = ``max(threshold - 0.15, 0.01)``): below it, silence.
    ``min_speech_s``: shorter speech runs are dropped. ``min_silence_s``: silence needed to
    close a run. ``pad_s``: padding added on each side. ``max_speech_s``: longer runs are split
    at their last silence of ≥ 98 ms. The defaults are faster-whisper's ``VadOptions`` defaults,
    so the ASR windows equal those of ``WhisperModel.transcribe(vad_filter=True)``.
    """

    threshold: float = 0.5
    neg_threshold: float | None = None
    min_speech_s: float = 0.0
    min_silence_s: float = 2.0
    pad_s: float = 0.4
    max_speech_s: float = float("inf")

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        if d["max_speech_s"] == float("inf"):
            d["max_speech_s"] = None
        return d


#: Finer segmentation used for the ``speech_activity`` findings and the speaker stage.
ACTIVITY_VAD = VadParams(threshold=0.5, min_speech_s=0.25, min_silence_s=0.3, pad_s=0.1)


@dataclass(frozen=True)
class TranscriptionOptions:
    """How the speech model decodes; defaults are faster-whisper's except where noted.

    ``backend`` names a registered :class:`~earwitness.speech.backend.SpeechBackend`.
    ``compute_type``/``cpu_threads`` are CTranslate2 settings (``cpu_threads=0``: the backend
    picks, and the value used is recorded). ``language`` None = detect. ``word_timestamps`` is
    on (faster-whisper's default is off): the watchlist uses word times. ``block_s``: the
    longest span of audio handed to the model at once (bounded memory for long recordings);
    recordings shorter than ``in_memory_s`` are decoded once and shared with other stages.
    """

    backend: str = "faster-whisper"
    compute_type: str = "int8"
    cpu_threads: int = 0
    language: str | None = None
    beam_size: int = 5
    best_of: int = 5
    patience: float = 1.0
    temperatures: tuple[float, ...] = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
    compression_ratio_threshold: float | None = 2.4
    log_prob_threshold: float | None = -1.0
    no_speech_threshold: float | None = 0.6
    condition_on_previous_text: bool = True
    word_timestamps: bool = True
    vad: VadParams = field(default_factory=VadParams)
    block_s: float = 600.0
    in_memory_s: float = 1200.0

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["temperatures"] = list(self.temperatures)
        d["vad"] = self.vad.to_dict()
        return d


@dataclass(frozen=True)
class Word:
    """One word with its time span (seconds of the recording) and the model's probability."""

    word: str
    start: float
    end: float
    probability: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "word": self.word,
            "start": round(self.start, 3),
            "end": round(self.end, 3),
            "probability": round(self.probability, 4),
        }


@dataclass(frozen=True)
class Segment:
    """One decoded segment: times in seconds of the recording, text, words, decoder scores."""

    start: float
    end: float
    text: str
    words: tuple[Word, ...] = ()
    avg_logprob: float = 0.0
    no_speech_prob: float = 0.0
    compression_ratio: float = 0.0
    temperature: float | None = None


@dataclass(frozen=True)
class ModelInfo:
    """A resolved local model: where it is, what it is, and the SHA-256 of its weights.

    ``pinned`` is True when ``sha256`` was checked against a hash earwitness ships with.
    """

    name: str
    path: str
    sha256: str
    multilingual: bool
    source: str = ""
    licence: str = ""
    pinned: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Transcript:
    """The result of one task (``transcribe`` or ``translate``) over a recording."""

    task: str
    language: str
    language_probability: float
    segments: tuple[Segment, ...]
    model: ModelInfo
    options: TranscriptionOptions
    language_top: tuple[tuple[str, float], ...] = ()
    cpu_threads: int = 0
    notes: tuple[str, ...] = ()  # problems met while decoding, with the times they concern

    @property
    def text(self) -> str:
        return " ".join(s.text.strip() for s in self.segments if s.text.strip())
