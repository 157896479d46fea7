"""Window embeddings streamed from audio chunks, and recording-level speaker vectors.

The recording is cut into windows of the embedder's length (1.6 s for GE2E) every ``hop_s``;
only windows that are mostly speech are embedded. Audio arrives in chunks (e.g. from
``ctx.chunks(sr=16000)``) and is never held whole, so a 2-hour recording runs in bounded memory:
the buffer holds one window plus one chunk, and the output holds one 256-float vector per
window (9,000 windows, about 9 MB, per hour at a 0.4 s hop).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from earwitness.speakers.embedder import SpeakerEmbedder
from earwitness.speakers.features import ActivityParams, speech_activity


@dataclass(frozen=True)
class WindowParams:
    """How windows are laid and selected (recorded in the report's provenance)."""

    hop_s: float = 0.4
    min_speech_fraction: float = 0.5
    batch: int = 64


@dataclass(frozen=True)
class WindowEmbeddings:
    """``starts``/``ends`` in seconds (float64, ``(n,)``) and unit ``vectors`` ``(n, dim)``.

    ``activity`` is the list of speech stretches used to select windows; ``duration_s`` the
    length of audio seen.
    """

    starts: np.ndarray
    ends: np.ndarray
    vectors: np.ndarray
    activity: tuple[tuple[float, float], ...]
    duration_s: float

    def __len__(self) -> int:
        return int(self.starts.shape[0])


def _overlap(a: float, b: float, segs: Sequence[tuple[float, float]]) -> float:
    total = 0.0
    for s, e in segs:
        if e <= a:
            continue
        if s >= b:
            break
        total += min(b, e) - max(a, s)
    return total


def embed_windows_stream(
    *,
    chunks: Iterable[np.ndarray],
    sr: int,
    embedder: SpeakerEmbedder,
    activity: Sequence[tuple[float, float]] | None = None,
    params: WindowParams | None = None,
    activity_params: ActivityParams | None = None,
) -> WindowEmbeddings:
    """Embed the speech windows of a chunked mono signal at ``sr`` (= the embedder's rate).

    ``activity``: speech stretches from elsewhere (e.g. the speech stage); when ``None`` each
    chunk gets the energy detector of :func:`speech_activity`. A recording shorter than one
    window yields one zero-padded window if it has any activity. Sliding-window embedding as
    in the d-vector diarization of Wang et al. (2018), "Speaker diarization with LSTM", ICASSP.
    """
    p = params or WindowParams()
    if sr != embedder.sample_rate:
        raise ValueError(f"chunks are at {sr} Hz, the embedder needs {embedder.sample_rate} Hz")
    win = round(embedder.window_s * sr)
    hop = max(1, round(p.hop_s * sr))
    given = activity is not None
    segs: list[tuple[float, float]] = sorted(activity) if activity is not None else []
    buf = np.zeros(0, dtype=np.float32)
    buf_start = 0
    next_start = 0
    seen = 0
    pending: list[np.ndarray] = []
    starts: list[float] = []
    vecs: list[np.ndarray] = []

    def flush() -> None:
        if pending:
            vecs.append(embedder.embed_windows(pending))
            pending.clear()

    def take(start: int, w: np.ndarray) -> None:
        t0 = start / sr
        if _overlap(t0, t0 + win / sr, segs) >= p.min_speech_fraction * min(win, len(w)) / sr:
            pending.append(w)
            starts.append(t0)
            if len(pending) >= p.batch:
                flush()

    for chunk in chunks:
        chunk = np.asarray(chunk, dtype=np.float32)
        if chunk.ndim != 1:
            raise ValueError("embed_windows_stream needs mono chunks")
        if not given and len(chunk):
            off = seen / sr
            segs.extend(
                (s + off, e + off)
                for s, e in speech_activity(y=chunk, sr=sr, params=activity_params)
            )
        seen += len(chunk)
        buf = np.concatenate([buf, chunk])
        while next_start + win <= buf_start + len(buf):
            i = next_start - buf_start
            take(next_start, buf[i : i + win].copy())
            next_start += hop
        drop = next_start - buf_start
        if drop > 0:
            buf = buf[drop:]
            buf_start = next_start
    if 0 < seen < win:
        take(0, buf.copy())
    flush()
    st = np.asarray(starts, dtype=np.float64)
    vectors = np.concatenate(vecs) if vecs else np.zeros((0, embedder.dim), np.float32)
    return WindowEmbeddings(
        starts=st,
        ends=np.minimum(st + win / sr, seen / sr),
        vectors=vectors,
        activity=tuple(segs),
        duration_s=seen / sr,
    )


def mean_vector(vectors: np.ndarray) -> np.ndarray:
    """The unit-norm mean of unit vectors (GE2E's speaker centroid, Wan et al. 2018)."""
    if len(vectors) == 0:
        raise ValueError("no vectors to average")
    m = np.asarray(vectors, dtype=np.float64).mean(axis=0)
    n = float(np.linalg.norm(m))
    out: np.ndarray = (m / n if n > 0 else m).astype(np.float32)
    return out


def active_speech(
    *, y: np.ndarray, sr: int, activity_params: ActivityParams | None = None
) -> np.ndarray:
    """The active stretches of ``y`` (:func:`speech_activity`) joined end to end, as
    Resemblyzer's preprocessing trims long silences. A short clip without measurable silence
    is kept whole. Raises ``ValueError`` when nothing is above the noise floor."""
    segs = speech_activity(y=y, sr=sr, params=activity_params)
    if not segs and len(y):
        # A clip trimmed tightly around one short word has no floor to measure against.
        level = 10 * np.log10(float(np.mean(np.asarray(y, np.float64) ** 2)) + 1e-12)
        if level > (activity_params or ActivityParams()).min_level_dbfs:
            segs = [(0.0, len(y) / sr)]
    if not segs:
        raise ValueError("no sound above the noise floor")
    return np.concatenate([y[int(s * sr) : int(e * sr)] for s, e in segs])


def normalise_level(*, y: np.ndarray, rms: float = 0.05) -> np.ndarray:
    """Scale ``y`` to the given RMS (so clips recorded at different levels weigh alike)."""
    cur = float(np.sqrt(np.mean(np.asarray(y, np.float64) ** 2))) if len(y) else 0.0
    if cur <= 0:
        raise ValueError("silent")
    out: np.ndarray = (np.asarray(y, np.float32) * np.float32(rms / cur)).astype(np.float32)
    return out


def embed_recording(
    *,
    y: np.ndarray,
    sr: int,
    embedder: SpeakerEmbedder,
    hop_s: float = 0.8,
    activity_params: ActivityParams | None = None,
) -> tuple[np.ndarray, float]:
    """One speaker vector for a single-talker recording, and the seconds of speech it used.

    The active speech (:func:`active_speech`) is windowed every ``hop_s`` and the window
    vectors averaged (Wan et al. 2018). Several reference clips of one voice should be joined
    (level-normalised) into one ``y`` rather than embedded one by one and averaged: the
    calibration was fitted on joined clips, and sub-window clips embed poorly on their own.
    Raises ``ValueError`` when no speech is found.
    """
    speech = active_speech(y=y, sr=sr, activity_params=activity_params)
    we = embed_windows_stream(
        chunks=[speech],
        sr=sr,
        embedder=embedder,
        activity=[(0.0, len(speech) / sr)],
        params=WindowParams(hop_s=hop_s),
    )
    if len(we) == 0:
        raise ValueError("no window with enough speech")
    return mean_vector(we.vectors), len(speech) / sr
