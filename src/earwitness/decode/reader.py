"""Chunked decoding to float32 at the rate a stage asks for.

Times are counted from the first *presented* sample: encoder priming and padding are removed
as the container signals them (see :mod:`earwitness.decode.timing`), so sample ``n`` of the
output is at ``n / sr`` seconds of the recording as a listener hears it. Decoding streams
packet by packet: memory is bounded by the chunk size whatever the file's length, and the
resampler keeps its state across chunks, so concatenated chunks equal a whole-file decode.

Pipeline per frame: decode at the native rate -> float32 planar -> place on the timeline by
its timestamp (drop samples before 0, fill timestamp gaps with silence, hold back samples past
a declared end) -> downmix (mean of channels) -> resample (FFmpeg ``aresample``) -> chunks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, cast

import av
import numpy as np

from earwitness.decode.limits import Limits
from earwitness.decode.probe import OPEN_ERRORS, ProbeInfo, probe
from earwitness.decode.timing import TimingPlan
from earwitness.errors import InputError

_GAP_TOLERANCE_S = 0.005  # timestamp rounding (e.g. Matroska's 1 ms) stays below this
_MAX_GAP_FILL_S = 60.0  # larger jumps are recorded but not filled (corrupt timestamps)
_RESAMPLE_BLOCK = 16384  # native samples batched per resampler call (less per-frame overhead)


@dataclass(frozen=True)
class DecodeReport:
    """What decoding did to the first audio stream, for the report and the metadata stage.

    ``native_samples``: samples per channel decoded at the native rate, after alignment.
    ``priming_removed``: leading samples removed (by FFmpeg from the container's signalling,
    or here for frames timestamped before 0). ``padding_removed``: trailing samples removed
    (by FFmpeg, e.g. LAME padding or Opus end trimming, plus those cut here to the declared
    duration). ``gaps``: ``(time_s, duration_s)`` of timestamp gaps filled with silence.
    ``decode_errors``: corrupt packets skipped; ``truncated``: decoding stopped early on an
    error (the decodable part is kept); ``error``: the first error message.
    """

    native_sr: int
    channels: int
    native_samples: int
    priming_removed: int
    padding_removed: int
    gaps: tuple[tuple[float, float], ...]
    overlaps: int
    decode_errors: int
    truncated: bool
    error: str | None
    timing: TimingPlan | None

    @property
    def duration_s(self) -> float:
        return self.native_samples / self.native_sr if self.native_sr else 0.0

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["duration_s"] = self.duration_s
        return d


@dataclass(frozen=True)
class Audio:
    """Decoded samples: shape ``(n,)`` when mono, ``(channels, n)`` otherwise."""

    samples: np.ndarray
    sr: int
    source: str = ""
    report: DecodeReport | None = field(default=None, compare=False)

    @property
    def duration_s(self) -> float:
        return float(self.samples.shape[-1]) / self.sr

    @property
    def channels(self) -> int:
        return 1 if self.samples.ndim == 1 else int(self.samples.shape[0])


_INT_SCALE = {np.dtype(np.int16): 32768.0, np.dtype(np.int32): 2.0**31, np.dtype(np.int64): 2.0**63}


# FFmpeg sample formats (packed and planar) and their numpy types; another format goes
# through PyAV's own ``to_ndarray``
_BASE_DTYPES = {"u8": "u1", "s16": "<i2", "s32": "<i4", "s64": "<i8", "flt": "<f4", "dbl": "<f8"}
_SAMPLE_DTYPES = {
    name: np.dtype(dt) for base, dt in _BASE_DTYPES.items() for name in (base, base + "p")
}


def _frame_array(frame: av.AudioFrame, ch: int) -> np.ndarray:
    """The samples of ``frame`` as a ``(channels, n)`` view of its planes (no conversion).

    The same values as ``frame.to_ndarray()`` (then deinterleaved), without its per-frame
    ``vstack``: a mono or packed frame is one plane. (A plane exports the buffer protocol;
    the casts only tell the type checker.)
    """
    dt = _SAMPLE_DTYPES.get(frame.format.name)
    n = frame.samples
    if dt is None:
        a = frame.to_ndarray()
    elif frame.format.is_planar:
        planes = frame.planes
        if len(planes) == 1:
            return np.frombuffer(cast(bytes, planes[0]), dtype=dt, count=n)[None, :]
        return np.stack([np.frombuffer(cast(bytes, x), dtype=dt, count=n) for x in planes])
    else:
        a = np.frombuffer(cast(bytes, frame.planes[0]), dtype=dt, count=n * ch)[None, :]
    if not frame.format.is_planar:
        a = a.reshape(-1, ch).T
    return a


def _planar_float(frame: av.AudioFrame) -> np.ndarray:
    """``frame`` as a float32 ``(channels, n)`` array in [-1, 1]."""
    a = _frame_array(frame, len(frame.layout.channels))
    if a.dtype == np.uint8:
        return (a.astype(np.float32) - 128.0) / 128.0  # integers: always finite
    if a.dtype in _INT_SCALE:
        out: np.ndarray = (a / _INT_SCALE[a.dtype]).astype(np.float32)
        return out
    out = a.astype(np.float32, copy=False)
    # one float64 sum finds a NaN or infinity: float32 samples cannot overflow it
    if not np.isfinite(out.sum(dtype=np.float64)):
        out = np.nan_to_num(out, nan=0.0, posinf=0.0, neginf=0.0)
    return out


class _Timeline:
    """Places native-rate frames on the presentation timeline and keeps the counts."""

    def __init__(self, info: ProbeInfo, path: str | Path, limits: Limits) -> None:
        self.path = path
        self.limits = limits
        self.sr = int(info.audio.sample_rate or 0)
        self.timing = info.timing
        self.origin: int | None = None  # timestamp (samples) of the first presented sample
        self.first_packet: int | None = None
        self.last_packet_end: int | None = None
        self.pos = 0  # samples emitted so far
        self.priming = 0
        self.gaps: list[tuple[float, float]] = []
        self.overlaps = 0
        self.held: list[np.ndarray] = []  # samples past the declared end, maybe padding
        self.held_n = 0
        self.trimmed_tail = 0
        self.channels = 0
        budget = info.size * limits.max_expansion + limits.expansion_slack_bytes
        self.budget_bytes = budget
        self.size = info.size
        t = self.timing
        self.end = t.declared_samples if t and t.trim_end_to_declared else None
        frame = int(info.audio.frame_size or 1024)
        self.max_trim = 2 * max(frame, 1024)

    def _check(self) -> None:
        if self.pos > self.limits.max_duration_s * self.sr:
            raise InputError(
                self.path,
                f"decodes to more than the duration limit of {self.limits.max_duration_s:.0f} s",
            )
        if self.pos * max(self.channels, 1) * 4 > self.budget_bytes:
            raise InputError(
                self.path,
                f"decodes to far more audio than its size ({self.size} bytes) suggests "
                f"(over {self.limits.max_expansion:g} times as much); refused as a possible "
                "decompression bomb",
            )

    def place(self, arr: np.ndarray, ts: int | None) -> list[np.ndarray]:
        """Return the pieces of ``arr`` (timestamp ``ts`` in samples) to emit, in order."""
        self.channels = arr.shape[0]
        out: list[np.ndarray] = []
        if ts is not None:
            if self.origin is None:
                self.origin = max(ts, 0)
                if self.first_packet is not None:
                    self.priming = max(0, self.origin - self.first_packet)
                    t = self.timing
                    if t and t.exact and abs(self.priming - t.priming_samples) < 0.01 * self.sr:
                        self.priming = t.priming_samples  # exact header value over rounded pts
            rel = ts - self.origin
            if rel < 0 and self.pos == 0:
                drop = min(-rel, arr.shape[1])
                arr = arr[:, drop:]
                rel = 0
            expected = self.pos + self.held_n
            gap = rel - expected
            if gap > _GAP_TOLERANCE_S * self.sr and self.pos > 0:
                self.gaps.append((expected / self.sr, gap / self.sr))
                if gap <= _MAX_GAP_FILL_S * self.sr:  # a wild timestamp is not filled
                    out.append(np.zeros((arr.shape[0], gap), dtype=np.float32))
            elif gap < -_GAP_TOLERANCE_S * self.sr:
                self.overlaps += 1
        elif self.origin is None:
            self.origin = 0
        out.append(arr)
        return self._limit_end(out)

    def _limit_end(self, pieces: list[np.ndarray]) -> list[np.ndarray]:
        emit: list[np.ndarray] = []
        for piece in pieces:
            if not piece.shape[1]:
                continue
            if self.end is None:
                emit.append(piece)
                self.pos += piece.shape[1]
                continue
            room = max(0, self.end - self.pos) if not self.held else 0
            if room:
                emit.append(piece[:, :room])
                self.pos += min(room, piece.shape[1])
                piece = piece[:, room:]
            if piece.shape[1]:
                self.held.append(piece)
                self.held_n += piece.shape[1]
                if self.held_n > self.max_trim:  # not padding: the declared duration is off
                    emit.extend(self.held)
                    self.pos += self.held_n
                    self.held, self.held_n, self.end = [], 0, None
        self._check()
        return emit

    def finish(self) -> None:
        """Drop held-back samples: they are end padding within ``max_trim`` of the end."""
        self.trimmed_tail = self.held_n
        self.held, self.held_n = [], 0


def _resample(
    blocks: list[np.ndarray], resampler: av.AudioResampler, sr: int, layout: str, pts: int
) -> list[np.ndarray]:
    """Push native-rate ``blocks`` (one frame) through the stateful ``resampler``."""
    if not blocks:
        return []
    block = np.concatenate(blocks, axis=1) if len(blocks) > 1 else blocks[0]
    frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(block), format="fltp", layout=layout)
    frame.sample_rate = sr
    frame.pts = pts
    frame.time_base = Fraction(1, sr)
    return [o.to_ndarray().astype(np.float32, copy=False) for o in resampler.resample(frame)]


def _to_samples(ts: int, tb: tuple[int, int]) -> int:
    """``ts * num * sr / den`` rounded half up, in integers (``tb = (num * sr, den)``)."""
    return (2 * ts * tb[0] + tb[1]) // (2 * tb[1])


def iter_audio(
    path: str | Path,
    *,
    sr: int | None = None,
    mono: bool = True,
    chunk_s: float = 30.0,
    limits: Limits | None = None,
    on_report: Callable[[DecodeReport], None] | None = None,
) -> Iterator[np.ndarray]:
    """Yield float32 chunks of ``chunk_s`` seconds (the last one shorter) of the first audio stream.

    ``sr=None`` keeps the native rate. Mono chunks (mean of the channels) have shape ``(n,)``;
    otherwise ``(channels, n)``. Raises :class:`InputError` (naming the file) when the file
    cannot be opened or decoded, decodes to nothing, or breaks ``limits`` (duration, expansion).
    A file that fails part-way (truncated, corrupt tail) yields its decodable part; the
    problem is recorded in the :class:`DecodeReport` passed to ``on_report`` at the end.
    """
    limits = limits or Limits()
    info = probe(path, limits)
    native = int(info.audio.sample_rate or 0)
    target = int(sr or native)
    if target <= 0 or target > limits.max_sample_rate:
        raise ValueError(f"cannot decode to {target} Hz")
    chunk_n = max(1, round(chunk_s * target))
    line = _Timeline(info, path, limits)
    decode_errors = 0
    consecutive = 0
    truncated = False
    first_error: str | None = None
    pending: list[np.ndarray] = []
    pending_n = 0
    resampler: av.AudioResampler | None = None
    layout = "mono"
    res_pts = 0
    batch: list[np.ndarray] = []  # native samples waiting for the resampler
    batch_n = 0
    try:
        container = av.open(str(path))
    except OPEN_ERRORS as exc:
        raise InputError(path, f"cannot open for decoding ({exc})") from exc
    try:
        stream = container.streams[info.audio.index]
        packets = container.demux(stream)
        # integer timestamp -> sample conversion (Fraction arithmetic per frame is slow);
        # PyAV stamps the decoded frames in the stream's time base as well
        tb: tuple[int, int] | None = None
        if stream.time_base is not None:
            tb = (stream.time_base.numerator * native, stream.time_base.denominator)
        while True:
            try:
                packet = next(packets)
            except StopIteration:
                break
            except OPEN_ERRORS as exc:  # the container breaks off: keep what decoded
                truncated, first_error = True, first_error or f"container read error: {exc}"
                break
            if packet.pts is not None and tb is not None:
                start = _to_samples(packet.pts, tb)
                if line.first_packet is None:
                    line.first_packet = start
                dur = _to_samples(packet.duration or 0, tb)
                line.last_packet_end = start + dur
            try:
                frames = packet.decode()
                if packet.size:  # not the final flush packet
                    consecutive = 0
            except OPEN_ERRORS as exc:
                decode_errors += 1
                consecutive += 1
                first_error = first_error or f"corrupt audio packet: {exc}"
                if consecutive > limits.max_consecutive_decode_errors:
                    truncated = True
                    break
                continue
            for frame in frames:
                if not isinstance(frame, av.AudioFrame):
                    continue
                arr = _planar_float(frame)
                ts = None
                if frame.pts is not None and tb is not None:
                    ts = _to_samples(frame.pts, tb)
                blocks = line.place(arr, ts)
                if mono:
                    blocks = [
                        b.mean(axis=0, keepdims=True) if b.shape[0] > 1 else b for b in blocks
                    ]
                if resampler is None and target != native and blocks:
                    layout = "mono" if blocks[0].shape[0] == 1 else frame.layout.name
                    resampler = av.AudioResampler(format="fltp", layout=layout, rate=target)
                if resampler is None:
                    pending.extend(blocks)
                    pending_n += sum(b.shape[1] for b in blocks)
                else:
                    batch.extend(blocks)
                    batch_n += sum(b.shape[1] for b in blocks)
                    if batch_n >= _RESAMPLE_BLOCK:
                        for out in _resample(batch, resampler, native, layout, res_pts):
                            pending.append(out)
                            pending_n += out.shape[1]
                        res_pts += batch_n
                        batch, batch_n = [], 0
                while pending_n >= chunk_n:
                    block = np.concatenate(pending, axis=1) if len(pending) > 1 else pending[0]
                    yield block[0, :chunk_n].copy() if mono else block[:, :chunk_n].copy()
                    rest = block[:, chunk_n:]
                    pending = [rest] if rest.shape[1] else []
                    pending_n = rest.shape[1]
        if consecutive:  # the stream ended on undecodable packets: a damaged tail
            truncated = True
        line.finish()
        if resampler is not None:
            for out in _resample(batch, resampler, native, layout, res_pts):
                pending.append(out)
                pending_n += out.shape[1]
            for tail in resampler.resample(None):
                arr = tail.to_ndarray().astype(np.float32, copy=False)
                pending.append(arr)
                pending_n += arr.shape[1]
    finally:
        container.close()
    if line.pos == 0:
        why = f": {first_error}" if first_error else ""
        raise InputError(path, f"the audio stream decodes to no audio at all{why}")
    while pending_n:
        block = np.concatenate(pending, axis=1) if len(pending) > 1 else pending[0]
        take = min(chunk_n, pending_n)
        yield block[0, :take].copy() if mono else block[:, :take].copy()
        rest = block[:, take:]
        pending = [rest] if rest.shape[1] else []
        pending_n = rest.shape[1]
    if on_report is not None:
        ffmpeg_tail = 0
        if line.last_packet_end is not None and line.origin is not None:
            ffmpeg_tail = max(
                0, line.last_packet_end - (line.origin + line.pos + line.trimmed_tail)
            )
        on_report(
            DecodeReport(
                native_sr=native,
                channels=line.channels,
                native_samples=line.pos,
                priming_removed=line.priming,
                padding_removed=line.trimmed_tail + ffmpeg_tail,
                gaps=tuple(line.gaps),
                overlaps=line.overlaps,
                decode_errors=decode_errors,
                truncated=truncated,
                error=first_error,
                timing=info.timing,
            )
        )


def load_audio(
    path: str | Path,
    *,
    sr: int | None = None,
    mono: bool = True,
    limits: Limits | None = None,
) -> Audio:
    """Decode the whole first audio stream of ``path`` (see :func:`iter_audio`).

    Chunks are copied into one buffer sized from the declared duration (grown if the file
    decodes longer), so the peak memory is about the result's size, not twice it.
    """
    limits = limits or Limits()
    info = probe(path, limits)
    declared = info.duration_s or 0.0
    target = int(sr or info.audio.sample_rate or 0)
    reports: list[DecodeReport] = []
    buf: np.ndarray | None = None
    n = 0
    for chunk in iter_audio(
        path, sr=sr, mono=mono, chunk_s=30.0, limits=limits, on_report=reports.append
    ):
        m = chunk.shape[-1]
        if buf is None:
            cap = int(declared * target * 1.01) + 2 * m
            buf = np.empty((*chunk.shape[:-1], cap), dtype=np.float32)
        if n + m > buf.shape[-1]:
            bigger = np.empty((*buf.shape[:-1], int((n + m) * 1.5)), dtype=np.float32)
            bigger[..., :n] = buf[..., :n]
            buf = bigger
        buf[..., n : n + m] = chunk
        n += m
    assert buf is not None  # iter_audio raises InputError when nothing decodes
    # mono: a contiguous view (the unused tail is at most 1 % + two chunks); else a copy
    samples = buf[:n] if buf.ndim == 1 else np.ascontiguousarray(buf[:, :n])
    report = reports[0] if reports else None
    return Audio(samples=samples, sr=target, source=str(path), report=report)
