"""Speech activity detection with the Silero VAD network shipped inside faster-whisper.

Silero Team, "Silero VAD: pre-trained enterprise-grade Voice Activity Detector", 2021-2024,
https://github.com/snakers4/silero-vad (MIT). The ONNX model (``silero_vad_v6.onnx``) comes
with the ``faster-whisper`` wheel and runs through onnxruntime.

The network sees 512-sample frames (32 ms at 16 kHz) with 64 samples of left context and a
recurrent state. :class:`SileroVad` carries the context and state across calls, so feeding a
recording chunk by chunk gives exactly the probabilities of one call over the whole file, in
bounded memory. :func:`segments_from_probs` turns probabilities into speech segments with the
hysteresis rules of ``silero_vad.get_speech_timestamps`` (as in faster-whisper 1.2's
``faster_whisper.vad``), so its output matches faster-whisper's own VAD filter.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

import numpy as np

from earwitness.errors import ModelError
from earwitness.speech.options import VadParams

SAMPLE_RATE = 16000
FRAME = 512
CONTEXT = 64
VAD_MODEL_FILE = "silero_vad_v6.onnx"


def vad_model_path() -> str:
    """Path of the Silero VAD ONNX file inside the installed faster-whisper package."""
    try:
        from faster_whisper.utils import get_assets_path
    except ImportError as exc:  # pragma: no cover - the asr extra is missing
        raise ModelError(
            "speech activity detection needs faster-whisper (pip install 'earwitness[asr]')"
        ) from exc
    path = os.path.join(get_assets_path(), VAD_MODEL_FILE)
    if not os.path.isfile(path):
        raise ModelError(f"{path}: Silero VAD model not found in the faster-whisper package")
    return path


class SileroVad:
    """Streaming Silero VAD: ``feed(samples)`` returns the speech probability of every
    complete 512-sample frame received so far; ``flush()`` zero-pads the remainder.

    Input is float32 mono at 16 kHz. One instance per recording.
    """

    def __init__(self, model_path: str | None = None) -> None:
        import onnxruntime

        opts = onnxruntime.SessionOptions()
        opts.inter_op_num_threads = 1
        opts.intra_op_num_threads = 1
        opts.enable_cpu_mem_arena = False
        opts.log_severity_level = 4
        self.model_path = model_path or vad_model_path()
        self._session = onnxruntime.InferenceSession(
            self.model_path, providers=["CPUExecutionProvider"], sess_options=opts
        )
        self._h = np.zeros((1, 1, 128), dtype=np.float32)
        self._c = np.zeros((1, 1, 128), dtype=np.float32)
        self._context = np.zeros(CONTEXT, dtype=np.float32)
        self._pending = np.zeros(0, dtype=np.float32)
        self.samples_seen = 0

    def feed(self, samples: np.ndarray) -> np.ndarray:
        x = np.asarray(samples, dtype=np.float32).reshape(-1)
        self.samples_seen += x.shape[0]
        buf = np.concatenate([self._pending, x]) if self._pending.size else x
        n = (buf.shape[0] // FRAME) * FRAME
        self._pending = buf[n:].copy()
        return self._run(buf[:n])

    def flush(self) -> np.ndarray:
        if not self._pending.size:
            return np.zeros(0, dtype=np.float32)
        buf = np.pad(self._pending, (0, FRAME - self._pending.shape[0]))
        self._pending = np.zeros(0, dtype=np.float32)
        return self._run(buf)

    def _run(self, audio: np.ndarray) -> np.ndarray:
        if audio.shape[0] == 0:
            return np.zeros(0, dtype=np.float32)
        frames = audio.reshape(-1, FRAME)
        ctx = np.empty((frames.shape[0], CONTEXT), dtype=np.float32)
        ctx[0] = self._context
        ctx[1:] = frames[:-1, -CONTEXT:]
        self._context = frames[-1, -CONTEXT:].copy()
        batch = np.concatenate([ctx, frames], axis=1)
        outs = []
        for i in range(0, batch.shape[0], 10000):
            out, self._h, self._c = self._session.run(
                None, {"input": batch[i : i + 10000], "h": self._h, "c": self._c}
            )
            outs.append(np.asarray(out, dtype=np.float32).reshape(-1))
        return np.concatenate(outs)


def speech_probabilities(chunks: Iterable[np.ndarray]) -> tuple[np.ndarray, int]:
    """Run :class:`SileroVad` over 16 kHz mono ``chunks``; return (probabilities, n_samples)."""
    vad = SileroVad()
    parts = [vad.feed(c) for c in chunks]
    parts.append(vad.flush())
    probs = np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)
    return probs, vad.samples_seen


def segments_from_probs(
    *, probs: np.ndarray, n_samples: int, params: VadParams, sr: int = SAMPLE_RATE
) -> list[tuple[int, int]]:
    """Speech segments ``[(start_sample, end_sample), ...]`` from per-frame probabilities.

    Implements the hysteresis segmentation of Silero VAD's ``get_speech_timestamps``
    (Silero Team 2021-2024), frame hop 512 samples: speech starts at a frame with probability
    ≥ ``threshold``, ends after ``min_silence_s`` below ``neg_threshold``; runs shorter than
    ``min_speech_s`` are dropped, longer than ``max_speech_s`` are split, and each segment is
    padded by ``pad_s`` (halving the gap when two segments are closer than twice that).
    Segments are sorted, disjoint and within ``[0, n_samples]``.
    """
    threshold = params.threshold
    neg = params.neg_threshold
    if neg is None:
        neg = max(threshold - 0.15, 0.01)
    min_speech = sr * params.min_speech_s
    pad = sr * params.pad_s
    max_speech = sr * params.max_speech_s - FRAME - 2 * pad
    min_silence = sr * params.min_silence_s
    min_silence_at_max = sr * 98 / 1000

    triggered = False
    speeches: list[dict[str, int]] = []
    cur: dict[str, int] = {}
    temp_end = 0
    prev_end = next_start = 0
    for i, p in enumerate(np.asarray(probs, dtype=np.float64).tolist()):
        pos = FRAME * i
        if p >= threshold and temp_end:
            temp_end = 0
            if next_start < prev_end:
                next_start = pos
        if p >= threshold and not triggered:
            triggered = True
            cur["start"] = pos
            continue
        if triggered and pos - cur["start"] > max_speech:
            if prev_end:
                cur["end"] = prev_end
                speeches.append(cur)
                cur = {}
                if next_start < prev_end:
                    triggered = False
                else:
                    cur["start"] = next_start
                prev_end = next_start = temp_end = 0
            else:
                cur["end"] = pos
                speeches.append(cur)
                cur = {}
                prev_end = next_start = temp_end = 0
                triggered = False
                continue
        if p < neg and triggered:
            if not temp_end:
                temp_end = pos
            if pos - temp_end > min_silence_at_max:
                prev_end = temp_end
            if pos - temp_end < min_silence:
                continue
            cur["end"] = temp_end
            if cur["end"] - cur["start"] > min_speech:
                speeches.append(cur)
            cur = {}
            prev_end = next_start = temp_end = 0
            triggered = False
            continue
    if cur and n_samples - cur["start"] > min_speech:
        cur["end"] = n_samples
        speeches.append(cur)

    for i, sp in enumerate(speeches):
        if i == 0:
            sp["start"] = int(max(0, sp["start"] - pad))
        if i != len(speeches) - 1:
            gap = speeches[i + 1]["start"] - sp["end"]
            if gap < 2 * pad:
                sp["end"] += int(gap // 2)
                speeches[i + 1]["start"] = int(max(0, speeches[i + 1]["start"] - gap // 2))
            else:
                sp["end"] = int(min(n_samples, sp["end"] + pad))
                speeches[i + 1]["start"] = int(max(0, speeches[i + 1]["start"] - pad))
        else:
            sp["end"] = int(min(n_samples, sp["end"] + pad))
    return [
        (int(s["start"]), int(min(s["end"], n_samples)))
        for s in speeches
        if min(s["end"], n_samples) > s["start"]
    ]


def segment_scores(*, probs: np.ndarray, segments: list[tuple[int, int]]) -> list[float]:
    """Mean speech probability of the frames inside each segment (the finding's score)."""
    out = []
    for start, end in segments:
        a, b = start // FRAME, max(start // FRAME + 1, -(-end // FRAME))
        window = probs[a:b]
        out.append(float(window.mean()) if window.size else 0.0)
    return out
