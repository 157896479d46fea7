"""The speech-backend role and its explicit registry.

A backend turns a resolved local model (:class:`ModelInfo`) into a :class:`SpeechModel` that
decodes 16 kHz mono audio. The built-in faster-whisper backend registers itself through
:func:`register_builtin_backends` exactly as a third-party backend would, with
``default_backends().register(MyBackend())``. The backend used is chosen by the explicit name
in :attr:`TranscriptionOptions.backend`, never by looking at model names.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import ClassVar, Protocol, runtime_checkable

import numpy as np

from earwitness.errors import NotFoundError
from earwitness.speech.options import ModelInfo, Segment, TranscriptionOptions


@dataclass(frozen=True)
class BlockInfo:
    """What the model says about one block before decoding it: the language used (detected
    or given), its probability, and the most probable languages when it was detected."""

    language: str
    language_probability: float
    language_top: tuple[tuple[str, float], ...] = ()
    note: str | None = None  # e.g. word timestamps unavailable for this block, and why


@runtime_checkable
class SpeechModel(Protocol):
    """A loaded model. ``transcribe`` decodes the ``speech`` spans (sample offsets into
    ``audio``, 16 kHz mono float32) of one block and yields segments whose times are seconds
    from the start of ``audio``. ``task`` is ``"transcribe"`` or ``"translate"`` (to
    English); ``language`` None = detect; ``initial_prompt`` carries the previous block's text.
    """

    info: ModelInfo
    cpu_threads: int

    def transcribe(
        self,
        audio: np.ndarray,
        *,
        speech: Sequence[tuple[int, int]],
        task: str,
        language: str | None,
        initial_prompt: str | None,
        options: TranscriptionOptions,
    ) -> tuple[BlockInfo, Iterator[Segment]]: ...


@runtime_checkable
class SpeechBackend(Protocol):
    """A speech-to-text engine. ``available()`` returns None when usable, else the reason."""

    name: ClassVar[str]

    def available(self) -> str | None: ...

    def load(self, model: ModelInfo, options: TranscriptionOptions) -> SpeechModel: ...


class SpeechBackendRegistry:
    """Speech backends by name; registering a name twice is an error unless ``replace``."""

    def __init__(self) -> None:
        self._backends: dict[str, SpeechBackend] = {}

    def register(self, backend: SpeechBackend, *, replace: bool = False) -> SpeechBackend:
        if not isinstance(backend, SpeechBackend):
            raise TypeError(f"{backend!r} does not implement the SpeechBackend protocol")
        if backend.name in self._backends and not replace:
            raise ValueError(f"a speech backend named {backend.name!r} is already registered")
        self._backends[backend.name] = backend
        return backend

    def get(self, name: str) -> SpeechBackend:
        try:
            return self._backends[name]
        except KeyError:
            raise NotFoundError(
                f"no speech backend named {name!r} (registered: {', '.join(self.names())})"
            ) from None

    def names(self) -> list[str]:
        return list(self._backends)


_DEFAULT: SpeechBackendRegistry | None = None


def register_builtin_backends(registry: SpeechBackendRegistry) -> None:
    from earwitness.speech.faster_whisper_backend import FasterWhisperBackend

    registry.register(FasterWhisperBackend())


def default_backends() -> SpeechBackendRegistry:
    """The process-wide backend registry, with the built-in backends on first use."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = SpeechBackendRegistry()
        register_builtin_backends(_DEFAULT)
    return _DEFAULT
