"""The optional learned layer: an AudioSet-class tagger in ONNX, loaded from a local file.

No model ships with earwitness (no AudioSet tagger on PyPI is packaged as an ONNX file under a
licence that allows redistribution). Point the stage at one with a :class:`TaggerConfig`:
the ``.onnx`` file, a labels CSV in AudioSet's ``class_labels_indices.csv`` form
(``index,mid,display_name``) and the model's expected input. Two input conventions are
supported:

- ``"logmel"``: log-mel patches ``[batch, patch_frames, n_mels]`` (YAMNet-style: 16 kHz,
  25 ms window, 10 ms hop, 64 bands 125–7500 Hz, ``log(mel + 0.001)``, 96-frame patches every
  48 frames; Hershey et al., "CNN architectures for large-scale audio classification",
  ICASSP 2017). A 4-D input ``[batch, 1, frames, mels]`` (PANNs CNN14 style: Kong et al.,
  "PANNs: Large-scale pretrained audio neural networks for audio pattern recognition",
  IEEE/ACM TASLP 2020) is handled by adding the channel axis.
- ``"waveform"``: raw samples ``[batch, samples]`` at ``sample_rate`` (PANNs exports that
  include their own front end).

The model's first output must be ``[batch, classes]`` scores (``activation`` says whether a
sigmoid must still be applied). AudioSet class names are mapped onto earwitness labels by
:data:`AUDIOSET_TO_LABEL`; unmapped classes are ignored.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from earwitness.errors import ModelError
from earwitness.events.base import DetectedEvent
from earwitness.events.features import FrameFeatures, segments

AUDIOSET_TO_LABEL: Mapping[str, str] = {
    "Gunshot, gunfire": "gunfire",
    "Machine gun": "gunfire",
    "Fusillade": "gunfire",
    "Cap gun": "gunfire",
    "Artillery fire": "explosion",
    "Explosion": "explosion",
    "Boom": "explosion",
    "Burst, pop": "explosion",
    "Eruption": "explosion",
    "Aircraft": "aircraft",
    "Aircraft engine": "aircraft",
    "Jet engine": "aircraft",
    "Propeller, airscrew": "aircraft",
    "Helicopter": "aircraft",
    "Fixed-wing aircraft, airplane": "aircraft",
    "Vehicle": "vehicle",
    "Car": "vehicle",
    "Truck": "vehicle",
    "Motorcycle": "vehicle",
    "Motor vehicle (road)": "vehicle",
    "Engine": "vehicle",
    "Bus": "vehicle",
    "Crowd": "crowd",
    "Cheering": "crowd",
    "Applause": "crowd",
    "Chatter": "crowd",
    "Hubbub, speech noise, speech babble": "crowd",
    "Chant": "crowd",
    "Music": "music",
    "Singing": "music",
    "Choir": "music",
    "A capella": "music",
    "Vocal music": "music",
    "Religious music": "music",
    "Mantra": "music",
    "Siren": "siren",
    "Civil defense siren": "siren",
}


@dataclass(frozen=True)
class TaggerConfig:
    """Where the model is and what it expects. Recorded in the report's parameters."""

    model_path: str
    labels_csv: str
    input: str = "logmel"  # "logmel" | "waveform"
    sample_rate: int = 16000
    n_mels: int = 64
    win_s: float = 0.025
    hop_s: float = 0.010
    fmin: float = 125.0
    fmax: float = 7500.0
    log_offset: float = 0.001
    patch_frames: int = 96
    patch_hop_frames: int = 48
    window_s: float = 0.96  # waveform input: samples per example
    hop_s_waveform: float = 0.48
    activation: str = "none"  # "none" | "sigmoid"
    threshold: float = 0.3
    min_duration_s: float = 0.0
    label_map: Mapping[str, str] = field(default_factory=lambda: dict(AUDIOSET_TO_LABEL))

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> TaggerConfig:
        known = {f for f in cls.__dataclass_fields__}
        unknown = set(data) - known
        if unknown:
            raise ModelError(f"unknown tagger option(s): {', '.join(sorted(unknown))}")
        return cls(**dict(data))


def read_labels(path: Path) -> list[str]:
    """Display names from an AudioSet-style ``index,mid,display_name`` CSV (header optional),
    or one name per line."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as e:
        raise ModelError(f"{path}: cannot read labels: {e.strerror or e}") from e
    rows = list(csv.reader(text.splitlines()))
    if rows and rows[0] and rows[0][0].strip().lower() == "index":
        rows = rows[1:]
    names = [r[2].strip() if len(r) >= 3 else r[0].strip() for r in rows if r]
    if not names:
        raise ModelError(f"{path}: no labels found")
    return names


def log_mel(
    *,
    y: np.ndarray,
    sr: int,
    n_mels: int,
    win_s: float,
    hop_s: float,
    fmin: float,
    fmax: float,
    log_offset: float,
) -> np.ndarray:
    """Log-mel spectrogram (frames, n_mels) with a periodic Hann window and a triangular HTK
    mel filterbank, as in the YAMNet/VGGish front end (Hershey et al. 2017)."""
    win = round(win_s * sr)
    hop = round(hop_s * sr)
    n_fft = 1 << max(1, (win - 1).bit_length())
    if y.size < win:
        y = np.pad(y, (0, win - y.size))
    frames = np.lib.stride_tricks.sliding_window_view(y.astype(np.float32), win)[::hop]
    w = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(win) / win)).astype(np.float32)
    mag = np.abs(np.fft.rfft(frames * w, n=n_fft, axis=1))
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sr)
    mel = 1127.0 * np.log1p(np.array([fmin, fmax]) / 700.0)
    pts = 700.0 * (np.exp(np.linspace(mel[0], mel[1], n_mels + 2) / 1127.0) - 1.0)
    fb = np.zeros((freqs.size, n_mels), dtype=np.float32)
    for m in range(n_mels):
        lo, c, hi = pts[m], pts[m + 1], pts[m + 2]
        up = (freqs - lo) / max(c - lo, 1e-9)
        down = (hi - freqs) / max(hi - c, 1e-9)
        fb[:, m] = np.clip(np.minimum(up, down), 0.0, None)
    return np.asarray(np.log(mag @ fb + log_offset), dtype=np.float32)


class OnnxTagger:
    """The learned layer: runs an ONNX AudioSet tagger and maps its classes to our labels."""

    name: ClassVar[str] = "onnx_tagger"
    layer: ClassVar[str] = "tagger"
    labels: ClassVar[tuple[str, ...]] = (
        "gunfire",
        "explosion",
        "aircraft",
        "vehicle",
        "crowd",
        "music",
        "siren",
    )

    def __init__(self, config: TaggerConfig) -> None:
        self.config = config
        path = Path(config.model_path)
        if not path.is_file():
            raise ModelError(f"{path}: tagger model not found")
        try:
            import onnxruntime as ort
        except ImportError as e:  # pragma: no cover - optional extra
            raise ModelError("onnxruntime is not installed (pip install earwitness[tagger])") from e
        try:
            self._session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        except Exception as e:  # onnxruntime raises its own exception types
            raise ModelError(f"{path}: cannot load ONNX model: {e}") from e
        self.class_names = read_labels(Path(config.labels_csv))
        self._input = self._session.get_inputs()[0]
        out_shape = self._session.get_outputs()[0].shape
        n_out = out_shape[-1] if out_shape and isinstance(out_shape[-1], int) else None
        if n_out is not None and n_out != len(self.class_names):
            raise ModelError(
                f"{path}: model has {n_out} classes but {config.labels_csv} "
                f"lists {len(self.class_names)}"
            )
        self._map = {
            i: config.label_map[n] for i, n in enumerate(self.class_names) if n in config.label_map
        }

    def params(self) -> Mapping[str, Any]:
        d = asdict(self.config)
        d.pop("label_map")
        d["mapped_classes"] = len(self._map)
        return d

    def examples(self, *, y: np.ndarray, sr: int) -> tuple[np.ndarray, float, float]:
        """Model inputs for the whole recording, the hop between examples (s) and the
        duration of one example (s)."""
        c = self.config
        if sr != c.sample_rate:
            from scipy import signal as sps

            g = np.gcd(int(sr), c.sample_rate)
            y = sps.resample_poly(y, c.sample_rate // g, int(sr) // g).astype(np.float32)
        if c.input == "waveform":
            n = round(c.window_s * c.sample_rate)
            h = round(c.hop_s_waveform * c.sample_rate)
            if y.size < n:
                y = np.pad(y, (0, n - y.size))
            ex = np.lib.stride_tricks.sliding_window_view(y, n)[::h]
            return np.ascontiguousarray(ex, dtype=np.float32), c.hop_s_waveform, c.window_s
        if c.input != "logmel":
            raise ModelError(f"unknown tagger input kind {c.input!r}")
        lm = log_mel(
            y=y,
            sr=c.sample_rate,
            n_mels=c.n_mels,
            win_s=c.win_s,
            hop_s=c.hop_s,
            fmin=c.fmin,
            fmax=c.fmax,
            log_offset=c.log_offset,
        )
        if lm.shape[0] < c.patch_frames:
            lm = np.pad(
                lm,
                ((0, c.patch_frames - lm.shape[0]), (0, 0)),
                constant_values=float(np.log(c.log_offset)),
            )
        patches = np.lib.stride_tricks.sliding_window_view(lm, c.patch_frames, axis=0)
        patches = np.moveaxis(patches[:: c.patch_hop_frames], -1, 1)
        ex = np.ascontiguousarray(patches, dtype=np.float32)
        if len(self._input.shape or ()) == 4:
            ex = ex[:, None]
        return ex, c.patch_hop_frames * c.hop_s, c.patch_frames * c.hop_s

    def scores(self, *, y: np.ndarray, sr: int) -> tuple[np.ndarray, float, float]:
        """Per-example class scores (examples, classes), example hop and length (s)."""
        ex, hop, length = self.examples(y=y, sr=sr)
        try:
            out = self._session.run(None, {self._input.name: ex})[0]
        except Exception as e:
            raise ModelError(f"{self.config.model_path}: inference failed: {e}") from e
        s = np.asarray(out, dtype=np.float64).reshape(ex.shape[0], -1)
        if self.config.activation == "sigmoid":
            s = 1.0 / (1.0 + np.exp(-s))
        return s, hop, length

    def detect(self, *, feats: FrameFeatures) -> list[DetectedEvent]:
        s, hop, length = self.scores(y=feats.y, sr=feats.sr)
        events: list[DetectedEvent] = []
        by_label: dict[str, list[int]] = {}
        for i, lab in self._map.items():
            by_label.setdefault(lab, []).append(i)
        for lab, cols in sorted(by_label.items()):
            sc = s[:, cols].max(axis=1)
            best = np.asarray(cols)[np.argmax(s[:, cols], axis=1)]
            for a, b in segments(mask=sc >= self.config.threshold, min_len=1, max_gap=0):
                start, end = a * hop, min(feats.duration_s, (b - 1) * hop + length)
                if end - start < self.config.min_duration_s:
                    continue
                k = a + int(np.argmax(sc[a:b]))
                events.append(
                    DetectedEvent(
                        label=lab,
                        start_s=start,
                        end_s=max(start, end),
                        score=float(sc[k]),
                        detector=self.name,
                        layer=self.layer,
                        details={
                            "class": self.class_names[int(best[k])],
                            "model": Path(self.config.model_path).name,
                        },
                    )
                )
        events.sort(key=lambda e: e.start_s)
        return events
