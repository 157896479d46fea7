"""MDCT frame-grid trace: zeroed coefficients that line up with an AAC encoder's frame grid.

A transform codec quantises the MDCT coefficients of each frame; at any bit-rate many of them
(whole scale-factor bands, or single small coefficients) are quantised to zero. Decoding is the
inverse MDCT with overlap-add, which is time-domain-alias-cancelling: the MDCT of the decoded
samples taken *on the encoder's frame grid, with the encoder's window* returns the dequantised
coefficients exactly (up to the rounding of the PCM output), so the zeros come back as values
at the rounding-noise level. Off the grid (or with another window) the same samples give dense,
ordinary coefficients. A fraction of near-zero coefficients that stands out at one grid offset
against the other offsets is therefore a trace of an earlier MDCT codec, even when the codec
kept the full audio band (FFmpeg's AAC encoder at 128 kbit/s mono and above).

This is the frame-grid / "inverse decoder" idea of the compression-history literature: Yang,
Shi & Huang 2009, "Defeating fake-quality MP3", ACM MM&Sec (quantised MDCT coefficients of a
re-encoded MP3 are counted on the aligned frame grid), and Moehrs, Herre & Geiger 2002,
"Analysing decompressed audio with the 'inverse decoder' -- towards an operative algorithm",
AES 112th Convention, paper 5576 (search the frame alignment and filterbank of the earlier
codec, then read its quantisation from the decoded signal). Implemented here for AAC-LC's
long-window filterbank: 2048-sample frames, hop 1024, Kaiser-Bessel-derived (alpha 4) or sine
window (ISO/IEC 14496-3, 4.6.11), and Vorbis's 2048-sample long block and window.

Cost: the offset is searched on a few frames (``coarse_frames`` x 1024 offsets x 3 windows,
one DCT-IV each), then the best offsets are verified on other frames against offsets off the
grid; this is independent of the file's length apart from choosing the frames.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import scipy.fft as sfft
from scipy.signal.windows import kaiser

HOP = 1024  # AAC-LC long-window hop; frames are 2 * HOP samples
LSB16 = 1.0 / 32768.0
WINDOWS = ("kbd", "sine", "vorbis")


@dataclass(frozen=True)
class GridParams:
    """Parameters of the frame-grid search (the decision threshold lives in CompressionParams)."""

    coarse_frames: int = 4
    verify_frames: int = 32
    candidates: int = 3
    null_offsets: int = 16
    zero_lsb: float = 1.0
    min_hz: float = 1000.0


@dataclass(frozen=True)
class GridTrace:
    """Best-aligned near-zero fraction versus off-grid offsets, on the verification frames."""

    offset: int | None
    window: str | None
    zero_fraction: float
    null_zero_fraction: float
    excess: float
    frames: int
    band_hz: tuple[float, float]


@cache
def codec_window(*, shape: str, n: int = 2 * HOP) -> np.ndarray:
    """Long MDCT window of ``n`` samples: ``"kbd"``, ``"sine"`` (AAC) or ``"vorbis"``.

    AAC's two shapes follow ISO/IEC 14496-3 4.6.11 (the KBD window is the square root of the
    normalised cumulative sum of a Kaiser window of length n/2 + 1, beta = pi * alpha, alpha 4);
    the Vorbis window sin(pi/2 sin^2(pi (i + 1/2) / n)) follows the Vorbis I specification 4.3.1.
    """
    if shape == "vorbis":
        w = np.sin(np.pi / 2 * np.sin(np.pi * (np.arange(n) + 0.5) / n) ** 2)
    elif shape == "sine":
        w = np.sin(np.pi * (np.arange(n) + 0.5) / n)
    elif shape == "kbd":
        k = kaiser(n // 2 + 1, np.pi * 4.0)
        c = np.sqrt(np.cumsum(k[: n // 2]) / np.sum(k))
        w = np.concatenate([c, c[::-1]])
    else:
        raise ValueError(f"unknown window shape {shape!r}; known: {WINDOWS}")
    return w.astype(np.float32)


def mdct(*, frames: np.ndarray, window: np.ndarray) -> np.ndarray:
    """Orthonormal MDCT of ``frames`` (``(..., 2N)``) under ``window``: ``(..., N)`` coefficients.

    X_k = sqrt(2/N) sum_n w_n x_n cos(pi/N (n + 1/2 + N/2)(k + 1/2)) (Princen & Bradley 1986,
    "Analysis/synthesis filter bank design based on time domain aliasing cancellation", IEEE
    Trans. ASSP 34(5)), computed by folding to N samples and one DCT-IV.
    """
    z = frames * window
    q = z.shape[-1] // 4
    a, b, c, d = (z[..., i * q : (i + 1) * q] for i in range(4))
    u = np.concatenate([-c[..., ::-1] - d, a - b[..., ::-1]], axis=-1)
    return sfft.dct(u, type=4, norm="ortho", axis=-1, workers=1)  # type: ignore[no-any-return]


def _frame_energy(y: np.ndarray) -> np.ndarray:
    """Energy of every hop-aligned 2-hop frame that leaves room for a full offset search."""
    n_blocks = (y.size - 3 * HOP) // HOP
    if n_blocks < 1:
        return np.zeros(0)
    blocks = y[: (n_blocks + 1) * HOP].reshape(-1, HOP)
    b = np.einsum("ij,ij->i", blocks, blocks).astype(np.float64)
    return b[:-1] + b[1:]  # type: ignore[no-any-return]


def _frame_starts(e: np.ndarray, count: int, skip: frozenset[int]) -> list[int]:
    """Up to ``count`` hop-aligned frame starts among the louder half, spread over the file."""
    if e.size == 0:
        return []
    act = np.nonzero(e >= max(float(np.percentile(e, 50)), 1e-14))[0]
    act = act[~np.isin(act, list(skip))]
    if act.size == 0:
        return []
    pick = act[np.unique(np.linspace(0, act.size - 1, min(count, act.size)).astype(int))]
    return [int(j) * HOP for j in pick]


def _zero_fraction(
    y: np.ndarray,
    starts: list[int],
    offsets: np.ndarray,
    window: np.ndarray,
    band: slice,
    thr: float,
) -> np.ndarray:
    """Near-zero fraction of the MDCT coefficients in ``band`` per offset, over ``starts``."""
    counts = np.zeros(offsets.size)
    total = 0
    for s in starts:
        seg = y[s : s + offsets.max() + 2 * HOP]
        fr = np.lib.stride_tricks.sliding_window_view(seg, 2 * HOP)[offsets]
        x = np.abs(mdct(frames=fr, window=window)[:, band])
        counts += np.count_nonzero(x < thr, axis=1)
        total += x.shape[1]
    return counts / max(1, total)


def grid_trace(
    *, y: np.ndarray, sr: int, top_hz: float, params: GridParams | None = None
) -> GridTrace:
    """Search the AAC long-window frame grid of mono ``y`` for aligned near-zero coefficients.

    ``top_hz`` bounds the band analysed (the cutoff or effective bandwidth: above a codec's
    low-pass every offset gives zeros). Coefficients below ``zero_lsb`` 16-bit steps count as
    zero. The offset (0..1023) and window are chosen on ``coarse_frames`` frames; the best
    ``candidates`` are measured on ``verify_frames`` other frames, together with
    ``null_offsets`` offsets at least 8 samples off every candidate, whose median is the
    off-grid level; ``excess`` is the best candidate's fraction minus that level.
    """
    p = params or GridParams()
    y = np.asarray(y, dtype=np.float32)
    k_lo = int(p.min_hz / (sr / 2) * HOP)
    k_hi = int(min(top_hz, 0.98 * sr / 2) / (sr / 2) * HOP)
    band_hz = (k_lo * sr / 2 / HOP, k_hi * sr / 2 / HOP)
    empty = GridTrace(None, None, 0.0, 0.0, 0.0, 0, band_hz)
    if k_hi - k_lo < 32:
        return empty
    energy = _frame_energy(y)
    coarse = _frame_starts(energy, p.coarse_frames, frozenset())
    if len(coarse) < 2:
        return empty
    verify = _frame_starts(energy, p.verify_frames, frozenset(s // HOP for s in coarse))
    if len(verify) < 2:
        return empty
    thr = p.zero_lsb * LSB16
    band = slice(k_lo, k_hi)
    every = np.arange(HOP)
    cands: list[tuple[int, str]] = []
    for shape in WINDOWS:
        w = codec_window(shape=shape)
        z = _zero_fraction(y, coarse, every, w, band, thr)
        for o in np.argsort(z)[::-1][: p.candidates]:
            cands.append((int(o), shape))
    offs = np.array(sorted({o for o, _ in cands}))
    far = [o for o in every if np.min(np.abs((o - offs + HOP // 2) % HOP - HOP // 2)) >= 8]
    null = np.array(far)[np.linspace(0, len(far) - 1, p.null_offsets).astype(int)]
    best: tuple[float, float, float, int, str] | None = None  # excess, z, null, offset, window
    for shape in WINDOWS:
        w = codec_window(shape=shape)
        mine = np.array(sorted({o for o, s in cands if s == shape}))
        zf = _zero_fraction(y, verify, np.concatenate([mine, null]), w, band, thr)
        level = float(np.median(zf[mine.size :]))
        for o, v in zip(mine, zf[: mine.size], strict=True):
            if best is None or v - level > best[0]:
                best = (float(v) - level, float(v), level, int(o), shape)
    assert best is not None
    return GridTrace(
        offset=best[3],
        window=best[4],
        zero_fraction=best[1],
        null_zero_fraction=best[2],
        excess=best[0],
        frames=len(verify),
        band_hz=band_hz,
    )
