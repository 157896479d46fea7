"""Speaker embedders: one Protocol, an explicit registry, and the built-in Resemblyzer encoder.

An embedder maps fixed-length windows of 16 kHz-ish mono audio to L2-normalised vectors whose
cosine similarity is high for the same talker. Heavy dependencies (torch) are imported lazily,
so earwitness works without the ``speakers`` extra; :func:`get_embedder` then raises
:class:`EmbedderUnavailable` with the reason, and the speakers stage is skipped with it.

The built-in ``resemblyzer-ge2e`` embedder is the GE2E speaker encoder (Wan, Wang, Papir &
Lopez Moreno 2018, "Generalized end-to-end loss for speaker verification", ICASSP) whose
weights ship inside the ``Resemblyzer`` package (``resemblyzer/pretrained.pt``, Apache-2.0,
trained by Resemble AI on LibriSpeech, VoxCeleb 1 and 2). The network (3-layer LSTM, 256 units,
linear projection, ReLU, L2 norm) is rebuilt here and the state dict is loaded with
``torch.load(weights_only=True)``: the ``resemblyzer`` Python package itself is never imported
(its ``webrtcvad`` dependency needs ``pkg_resources``, absent from current setuptools), only
located, and its weights file is pinned by SHA-256.
"""

from __future__ import annotations

import hashlib
import importlib.util
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np

from earwitness.errors import ModelError
from earwitness.speakers.features import mel_power_spectrogram

RESEMBLYZER_SHA256 = "39373b86598fa3da9fcddee6142382efe09777e8d37dc9c0561f41f0070f134e"


class EmbedderUnavailable(ModelError):
    """The embedder's optional dependencies or weights are missing."""


@runtime_checkable
class SpeakerEmbedder(Protocol):
    """Maps audio windows to unit-norm speaker vectors.

    ``sample_rate``: rate the windows must be at. ``window_s``: the window length the model
    was trained on (shorter input is zero-padded). ``dim``: vector size. ``name``/``version``
    identify the model; embeddings from different (name, version) pairs are never compared.
    """

    name: ClassVar[str]
    version: ClassVar[str]
    sample_rate: ClassVar[int]
    window_s: ClassVar[float]
    dim: ClassVar[int]

    def embed_windows(self, windows: Sequence[np.ndarray]) -> np.ndarray:
        """Embed each window; returns float32 ``(len(windows), dim)``, rows of unit norm."""
        ...


class EmbedderRegistry:
    """Embedder factories by name; the factory is called once, on first use."""

    def __init__(self) -> None:
        self._factories: dict[str, Callable[[], SpeakerEmbedder]] = {}
        self._instances: dict[str, SpeakerEmbedder] = {}
        self._lock = threading.Lock()

    def register(
        self, name: str, factory: Callable[[], SpeakerEmbedder], *, replace: bool = False
    ) -> None:
        if name in self._factories and not replace:
            raise ValueError(f"a speaker embedder named {name!r} is already registered")
        self._factories[name] = factory
        self._instances.pop(name, None)

    def unregister(self, name: str) -> None:
        self._factories.pop(name, None)
        self._instances.pop(name, None)

    def names(self) -> list[str]:
        return list(self._factories)

    def get(self, name: str) -> SpeakerEmbedder:
        if name not in self._factories:
            raise EmbedderUnavailable(
                f"no speaker embedder named {name!r} (known: {', '.join(self.names())})"
            )
        with self._lock:
            if name not in self._instances:
                self._instances[name] = self._factories[name]()
            return self._instances[name]


def _locate_resemblyzer_weights() -> Path:
    spec = importlib.util.find_spec("resemblyzer")
    if spec is None or not spec.submodule_search_locations:
        raise EmbedderUnavailable(
            "the speaker embedder needs the optional extra 'speakers' "
            "(pip install 'earwitness[speakers]': resemblyzer and torch)"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "pretrained.pt"
    if not path.is_file():
        raise EmbedderUnavailable(f"{path}: Resemblyzer weights file is missing")
    return path


class ResemblyzerEmbedder:
    """GE2E LSTM encoder (Wan et al. 2018) with the weights shipped in the Resemblyzer package.

    Input: 1.6 s windows at 16 kHz; features: 40-band mel power spectrogram, 25 ms / 10 ms
    (see :func:`earwitness.speakers.features.mel_power_spectrogram`); windows are
    level-normalised to -30 dBFS (raised only), as Resemblyzer's preprocessing does.
    """

    name: ClassVar[str] = "resemblyzer-ge2e"
    version: ClassVar[str] = "0.1.4"
    sample_rate: ClassVar[int] = 16000
    window_s: ClassVar[float] = 1.6
    dim: ClassVar[int] = 256
    n_frames: ClassVar[int] = 160
    batch_size: ClassVar[int] = 64

    def __init__(self, weights: Path | None = None, *, check_hash: bool = True) -> None:
        try:
            import torch
        except ImportError as exc:
            raise EmbedderUnavailable(
                "the speaker embedder needs torch (optional extra 'speakers'): " + str(exc)
            ) from exc
        path = weights or _locate_resemblyzer_weights()
        data = path.read_bytes()
        if check_hash and hashlib.sha256(data).hexdigest() != RESEMBLYZER_SHA256:
            raise ModelError(f"{path}: weights do not match the pinned SHA-256")
        try:
            ckpt = torch.load(path, map_location="cpu", weights_only=True)
            state = {
                k: v for k, v in ckpt["model_state"].items() if k.startswith(("lstm.", "linear."))
            }
        except Exception as exc:
            raise ModelError(f"{path}: cannot load speaker encoder weights ({exc})") from exc
        self._torch: Any = torch
        self._lstm = torch.nn.LSTM(40, 256, 3, batch_first=True)
        self._linear = torch.nn.Linear(256, 256)
        self._lstm.load_state_dict({k[5:]: v for k, v in state.items() if k.startswith("lstm.")})
        self._linear.load_state_dict(
            {k[7:]: v for k, v in state.items() if k.startswith("linear.")}
        )
        self._lstm.eval()
        self._linear.eval()
        self.weights_path = path

    def _mels(self, window: np.ndarray) -> np.ndarray:
        n = int(self.window_s * self.sample_rate)
        w = np.asarray(window, dtype=np.float32)[:n]
        rms = float(np.sqrt(np.mean(w.astype(np.float64) ** 2))) if len(w) else 0.0
        target = 10 ** (-30 / 20)
        if 0 < rms < target:
            w = w * np.float32(target / rms)
        if len(w) < n:
            w = np.pad(w, (0, n - len(w)))
        mel = mel_power_spectrogram(y=w, sr=self.sample_rate, n_fft=400, hop=160, n_mels=40)
        return mel[: self.n_frames]

    def embed_windows(self, windows: Sequence[np.ndarray]) -> np.ndarray:
        torch = self._torch
        out = np.zeros((len(windows), self.dim), dtype=np.float32)
        for b in range(0, len(windows), self.batch_size):
            batch = np.stack([self._mels(w) for w in windows[b : b + self.batch_size]])
            with torch.inference_mode():
                _, (hidden, _) = self._lstm(torch.from_numpy(batch))
                raw = torch.relu(self._linear(hidden[-1]))
                emb = raw / torch.clamp(torch.norm(raw, dim=1, keepdim=True), min=1e-12)
            out[b : b + len(batch)] = emb.numpy()
        return out


_DEFAULT: EmbedderRegistry | None = None
DEFAULT_EMBEDDER = ResemblyzerEmbedder.name


def default_embedders() -> EmbedderRegistry:
    """The process-wide registry with the built-in embedder registered on first use."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = EmbedderRegistry()
        _DEFAULT.register(ResemblyzerEmbedder.name, ResemblyzerEmbedder)
    return _DEFAULT


def get_embedder(name: str = DEFAULT_EMBEDDER) -> SpeakerEmbedder:
    """The named embedder (loaded once per process); raises :class:`EmbedderUnavailable`."""
    return default_embedders().get(name)


def embedder_unavailable_reason(name: str = DEFAULT_EMBEDDER) -> str | None:
    """``None`` when the named embedder can be loaded, else the reason (without loading it)."""
    if name != ResemblyzerEmbedder.name:
        return None if name in default_embedders().names() else f"unknown embedder {name!r}"
    if importlib.util.find_spec("torch") is None:
        return "torch is not installed (optional extra 'speakers')"
    try:
        _locate_resemblyzer_weights()
    except EmbedderUnavailable as exc:
        return str(exc)
    return None
