"""Duplicated segments (copy-move): spans of a recording that occur again in the same recording.

Two steps:

1. *Candidates* from spectral-peak landmarks (pairs of time-frequency peaks hashed by their
   frequencies and time gap, after Wang 2003, "An industrial-strength audio search algorithm",
   ISMIR) matched against the recording itself: a pasted copy makes many hash pairs agree on one
   time offset. Stationary components (hum, steady noise) are removed first by subtracting each
   frequency bin's median level, so they cannot vote.
2. *Verification* of the fine structure, which separates "the same recording played twice" from
   "similar sounds": after sample-accurate alignment, the magnitude-squared coherence of the two
   copies' short-time spectra (Carter 1987, "Coherence and time delay estimation", Proc. IEEE
   75(2)) is near 1 in every bin where the pasted sound dominates, even after gain, filtering or
   re-encoding (a linear filter is a per-bin complex gain), while two realisations of the same
   word, or two bursts of rhythmic noise, have unrelated phases and noise, so their coherence stays
   near the random level ``~ 1/sqrt(frames)``. Extents are refined frame by frame with the same
   phase-compensated correlation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from scipy import signal as sps

from earwitness.forensics.dsp import power_db, stft


@dataclass(frozen=True)
class DuplicateParams:
    """Tunable parameters of the copy-move detector (``coherence_threshold`` is calibrated)."""

    sr: int = 16000
    n_fft: int = 512
    hop: int = 256
    min_duration_s: float = 0.3
    min_match_s: float = 0.25
    peak_fg_db: float = 8.0
    peak_size_t: int = 5
    peak_size_f: int = 9
    fanout: int = 5
    max_dt_frames: int = 24
    max_df_bins: int = 48
    bucket_cap: int = 24
    block_frames: int = 16
    min_votes: int = 5
    max_candidates: int = 300
    verify_n_fft: int = 512
    verify_hop: int = 128
    frame_sim_threshold: float = 0.2
    sim_frames: int = 7
    coherence_threshold: float = 0.6
    extend_s: float = 1.0
    fg_ratio: float = 4.0
    min_fg_bins: int = 16


@dataclass(frozen=True)
class DuplicateMatch:
    """One verified repetition: ``copy`` repeats ``src`` (times in seconds)."""

    src_start_s: float
    src_end_s: float
    copy_start_s: float
    copy_end_s: float
    coherence: float
    frame_similarity: float
    gain_db: float
    votes: int
    weighted_coherence: float = 0.0


def _landmarks(*, sdb: np.ndarray, p: DuplicateParams) -> tuple[np.ndarray, np.ndarray]:
    """Hashes and anchor frames of peak pairs in the foreground spectrogram ``sdb`` (dB)."""
    sub = sdb[:: max(1, sdb.shape[0] // 4000)]
    fg = sdb - np.median(sub, axis=0)[None, :]
    floor = float(np.max(sdb)) - 80.0
    mx = ndimage.maximum_filter(fg, size=(p.peak_size_t, p.peak_size_f), mode="nearest")
    mask = (fg >= mx) & (fg > p.peak_fg_db) & (sdb > floor)
    mask[:, :3] = False
    t, f = np.nonzero(mask)  # sorted by t, then f
    n = t.size
    if n < 2:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    hashes: list[np.ndarray] = []
    anchors: list[np.ndarray] = []
    taken = np.zeros(n, dtype=np.int32)
    for k in range(1, 80):
        if k >= n:
            break
        dt = t[k:] - t[:-k]
        df = f[k:] - f[:-k]
        ok = (dt >= 1) & (dt <= p.max_dt_frames) & (np.abs(df) <= p.max_df_bins)
        ok &= taken[:-k] < p.fanout
        idx = np.nonzero(ok)[0]
        if idx.size:
            taken[idx] += 1
            h = (
                f[idx].astype(np.int64) << 13
                | (df[idx] + p.max_df_bins).astype(np.int64) << 5
                | dt[idx].astype(np.int64)
            )
            hashes.append(h)
            anchors.append(t[idx].astype(np.int64))
        if np.all(dt > p.max_dt_frames):
            break
    if not hashes:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(hashes), np.concatenate(anchors)


def _candidates(
    *, hashes: np.ndarray, anchors: np.ndarray, n_frames: int, p: DuplicateParams
) -> list[tuple[int, int, int, int]]:
    """Candidates ``(src_frame0, src_frame1, offset_frames, votes)`` from self-matching."""
    if hashes.size < 2:
        return []
    order = np.lexsort((anchors, hashes))
    h, ta = hashes[order], anchors[order]
    _, inv, counts = np.unique(h, return_inverse=True, return_counts=True)
    keep = counts[inv] <= p.bucket_cap
    h, ta = h[keep], ta[keep]
    min_off = int(np.ceil(p.min_duration_s * p.sr / p.hop))
    offs: list[np.ndarray] = []
    srcs: list[np.ndarray] = []
    for k in range(1, p.bucket_cap):
        if k >= h.size:
            break
        same = h[k:] == h[:-k]
        if not same.any():
            continue
        a, b = ta[:-k][same], ta[k:][same]
        good = (b - a) >= min_off
        offs.append((b - a)[good])
        srcs.append(a[good])
    if not offs:
        return []
    off = np.concatenate(offs)
    src = np.concatenate(srcs)
    nb = n_frames // p.block_frames + 2
    keys, cnt = np.unique(off * nb + src // p.block_frames, return_counts=True)
    if keys.size == 0:
        return []

    def lookup(q: np.ndarray) -> np.ndarray:
        pos = np.clip(np.searchsorted(keys, q), 0, keys.size - 1)
        return np.where(keys[pos] == q, cnt[pos], 0)

    left, right = lookup(keys - nb), lookup(keys + nb)
    combined = cnt + left + right
    sel = (combined >= p.min_votes) & (cnt >= left) & (cnt >= right)
    cells = sorted(
        zip(
            (keys[sel] // nb).tolist(),
            (keys[sel] % nb).tolist(),
            combined[sel].tolist(),
            strict=True,
        )
    )
    spans: list[tuple[int, int, int, int]] = []
    for o, blk, v in cells:
        if spans and spans[-1][2] == o and blk * p.block_frames <= spans[-1][1] + p.block_frames:
            s0, _, _, vv = spans[-1]
            spans[-1] = (s0, (blk + 1) * p.block_frames, o, vv + v)
        else:
            spans.append((blk * p.block_frames, (blk + 1) * p.block_frames, o, v))
    spans.sort(key=lambda s: -s[3])
    return spans[: p.max_candidates]


def _refine_lag(*, y: np.ndarray, s0: int, s1: int, lag: int, radius: int) -> int:
    """Sample lag maximising the normalised cross-correlation of ``y[s0:s1]`` near ``lag``."""
    a = y[s0:s1].astype(np.float64)
    b0 = max(0, s0 + lag - radius)
    b1 = min(y.size, s1 + lag + radius)
    b = y[b0:b1].astype(np.float64)
    if b.size < a.size or a.size == 0:
        return lag
    c = sps.correlate(b, a, mode="valid", method="fft")
    e = np.cumsum(np.concatenate([[0.0], b * b]))
    eb = e[a.size :] - e[: -a.size]
    score = np.abs(c) / np.sqrt(eb + 1e-12)
    return int(b0 + int(np.argmax(score)) - s0)


# The early test in verify_pair counts a frame as below the similarity threshold only when it
# is below by this much: far more than the rounding difference between smoothing a shorter and
# a longer run of the same frames (float32 sums, ~1e-7 relative).
_EARLY_MARGIN = 1e-3


def _stft_rows(*, y: np.ndarray, start: int, r0: int, r1: int, n: int, h: int) -> np.ndarray:
    """Rows ``r0:r1`` of ``stft(y[start:], n_fft=n, hop=h)``, computed alone."""
    return stft(y=y[start + r0 * h : start + (r1 - 1) * h + n], n_fft=n, hop=h)


def _surely_rejected(
    *, sim: np.ndarray, part: slice, trusted: tuple[int, int], sr: int, p: DuplicateParams
) -> bool:
    """Whether the peak or duration test of verify_pair fails for certain, judged from the
    frame similarity ``sim`` of a run of frames around the core (``part``).

    Frames of ``sim`` outside ``trusted`` may differ from the full computation (a smoothing
    neighbour is missing). A frame below the threshold by ``_EARLY_MARGIN`` is below it in
    the full test too, so each run of the other frames that meets the core bounds the extent
    the full test can find there; when every such run is closed by trusted frames and is
    shorter than ``p.min_match_s``, the full test rejects the candidate.
    """
    maybe = sim >= p.frame_sim_threshold - _EARLY_MARGIN
    if not maybe[part].any():
        return True
    run_id = np.cumsum(~maybe)  # constant along each run of ``maybe`` frames
    for r in np.unique(run_id[part][maybe[part]]).tolist():
        idx = np.flatnonzero(maybe & (run_id == r))
        a, b = int(idx[0]), int(idx[-1])
        closed_left = (a == 0 and trusted[0] == 0) or a - 1 >= trusted[0]
        closed_right = (b == sim.size - 1 and trusted[1] == sim.size) or b + 1 < trusted[1]
        if not (closed_left and closed_right):
            return False
        if ((b - a) * p.verify_hop + p.verify_n_fft) / sr >= p.min_match_s:
            return False
    return True


def _frame_similarity(
    *, x1: np.ndarray, x2: np.ndarray, core: slice, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per-frame similarity of two aligned STFTs, phase-compensated on the ``core`` frames.

    Returns the similarity, the cross-spectrum ``x2 conj(x1)`` and both power spectra.
    Complex sums are smoothed over ``k`` frames before the magnitude is taken, so the random
    level falls as 1/sqrt(frames x bins) instead of staying biased upwards.
    """
    cross = x2 * np.conj(x1)
    phase = np.exp(-1j * np.angle(np.sum(cross[core], axis=0)))
    p1 = np.abs(x1) ** 2
    p2 = np.abs(x2) ** 2
    s = np.sum(cross * phase[None, :], axis=1)
    num = np.abs(ndimage.uniform_filter1d(s.real, k) + 1j * ndimage.uniform_filter1d(s.imag, k))
    e1, e2 = np.sum(p1, axis=1), np.sum(p2, axis=1)
    den = np.sqrt(ndimage.uniform_filter1d(e1, k) * ndimage.uniform_filter1d(e2, k)) + 1e-20
    sim: np.ndarray = num / den
    sim[(e1 < 1e-12) | (e2 < 1e-12)] = 0.0
    return sim, cross, p1, p2


def verify_pair(
    *,
    y: np.ndarray,
    sr: int,
    src: tuple[int, int],
    lag: int,
    bin_floor: np.ndarray,
    p: DuplicateParams,
) -> DuplicateMatch | None:
    """Verify that ``y[src]`` recurs ``lag`` samples later, refine both extents and score it.

    ``bin_floor`` is the per-bin stationary power (linear) of the recording at
    ``p.verify_n_fft``; only power above it counts as foreground. Returns ``None`` when the
    fine structure does not repeat over at least ``p.min_duration_s``.
    """
    n, h = p.verify_n_fft, p.verify_hop
    ext = int(p.extend_s * sr)
    lo = max(0, src[0] - ext, -lag)
    hi = min(y.size - n, src[1] + ext, y.size - lag - n)
    if hi - lo < n * 2:
        return None
    core = slice(max(0, (src[0] - lo) // h), max(1, (src[1] - lo) // h))
    m = 1 + (hi - lo) // h  # frames of both STFTs
    k = p.sim_frames
    if core.start < core.stop <= m:
        # Early rejection on the frames around the core: most candidates fail the peak or
        # the duration test there, and the rest of their +-extend_s is never transformed.
        # The STFT rows are the same numbers whichever run of frames they are computed in,
        # so the full test below reuses them.
        reach = int(np.ceil((p.min_match_s * sr - n) / h)) + 2 + k // 2
        c0, c1 = max(0, core.start - reach), min(m, core.stop + reach)
        a1 = _stft_rows(y=y, start=lo, r0=c0, r1=c1, n=n, h=h)
        a2 = _stft_rows(y=y, start=lo + lag, r0=c0, r1=c1, n=n, h=h)
        part = slice(core.start - c0, core.stop - c0)
        sim, _, _, _ = _frame_similarity(x1=a1, x2=a2, core=part, k=k)
        trusted = (0 if c0 == 0 else k // 2, sim.size if c1 == m else sim.size - k // 2)
        if _surely_rejected(sim=sim, part=part, trusted=trusted, sr=sr, p=p):
            return None
        x1, x2 = (
            np.concatenate(
                [
                    _stft_rows(y=y, start=start, r0=0, r1=c0, n=n, h=h),
                    middle,
                    _stft_rows(y=y, start=start, r0=c1, r1=m, n=n, h=h),
                ]
            )
            for start, middle in ((lo, a1), (lo + lag, a2))
        )
    else:
        x1 = stft(y=y[lo : hi + n], n_fft=n, hop=h)
        x2 = stft(y=y[lo + lag : hi + lag + n], n_fft=n, hop=h)
    m = min(x1.shape[0], x2.shape[0])
    x1, x2 = x1[:m], x2[:m]
    sim, cross, p1, p2 = _frame_similarity(x1=x1, x2=x2, core=core, k=k)
    peak = core.start + int(np.argmax(sim[core])) if core.stop > core.start else 0
    if sim[peak] < p.frame_sim_threshold:
        return None
    above = sim >= p.frame_sim_threshold
    a = peak
    while a > 0 and above[a - 1]:
        a -= 1
    b = peak
    while b < m - 1 and above[b + 1]:
        b += 1
    start = lo + a * h
    end = lo + b * h + n
    if (end - start) / sr < p.min_match_s:
        return None
    sel = slice(a, b + 1)
    fg1 = np.maximum(p1[sel] - bin_floor[None, :], 0.0).sum(axis=0)
    fg2 = np.maximum(p2[sel] - bin_floor[None, :], 0.0).sum(axis=0)
    w = np.sqrt(fg1 * fg2)
    if w.sum() <= 1e-12:
        return None
    coh = np.abs(np.sum(cross[sel], axis=0)) / (
        np.sqrt(p1[sel].sum(axis=0) * p2[sel].sum(axis=0)) + 1e-20
    )
    # the median over foreground bins, not an energy-weighted mean: a steady voiced vowel said
    # twice can be coherent in its few strong harmonic bins, but only a copy is coherent in
    # the weak bins between them as well
    fg = (p1[sel].mean(axis=0) > p.fg_ratio * bin_floor) & (
        p2[sel].mean(axis=0) > p.fg_ratio * bin_floor
    )
    if int(fg.sum()) < p.min_fg_bins:
        return None
    coherence = float(np.median(coh[fg]))
    weighted = float(np.sum(w * coh) / np.sum(w))
    gain = 10 * np.log10((p2[sel].sum() + 1e-20) / (p1[sel].sum() + 1e-20))
    return DuplicateMatch(
        src_start_s=start / sr,
        src_end_s=end / sr,
        copy_start_s=(start + lag) / sr,
        copy_end_s=(end + lag) / sr,
        coherence=coherence,
        weighted_coherence=weighted,
        frame_similarity=float(np.mean(sim[sel])),
        gain_db=float(gain),
        votes=0,
    )


def _overlap(a: tuple[float, float], b: tuple[float, float]) -> float:
    inter = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
    return inter / max(1e-9, min(a[1] - a[0], b[1] - b[0]))


def find_duplicates(
    *,
    y: np.ndarray,
    sr: int,
    params: DuplicateParams | None = None,
    candidates: list[tuple[float, float, float]] | None = None,
) -> list[DuplicateMatch]:
    """All verified repetitions in mono ``y`` at rate ``sr`` (should equal ``params.sr``).

    ``candidates`` optionally supplies extra ``(src_start_s, src_end_s, lag_s)`` candidates
    (e.g. from the archive matcher's self-matching); they are verified the same way. Matches
    are de-duplicated; each returned match has ``src`` before ``copy``.
    """
    p = params or DuplicateParams()
    y = np.asarray(y, dtype=np.float32)
    if y.size < int(2 * p.min_duration_s * sr) + p.n_fft:
        return []
    spec = stft(y=y, n_fft=p.n_fft, hop=p.hop)
    sdb = power_db(spec=spec)
    hashes, anchors = _landmarks(sdb=sdb, p=p)
    cands = _candidates(hashes=hashes, anchors=anchors, n_frames=sdb.shape[0], p=p)
    # the verification STFT has the same n_fft, so the stationary floor per bin is shared
    sub = sdb[:: max(1, sdb.shape[0] // 4000)]
    bin_floor = (
        2.0 * 10 ** (np.median(sub, axis=0) / 10.0)
        if p.verify_n_fft == p.n_fft
        else (np.zeros(p.verify_n_fft // 2 + 1))
    )
    work: list[tuple[int, int, int, int]] = [
        (f0 * p.hop, f1 * p.hop + p.n_fft, off * p.hop, v) for f0, f1, off, v in cands
    ]
    for s0, s1, lag_s in candidates or []:
        work.append((int(s0 * sr), int(s1 * sr), round(lag_s * sr), 0))
    found: list[DuplicateMatch] = []
    for s0, s1, lag, votes in work:
        if any(
            _overlap((s0 / sr, s1 / sr), (m.src_start_s, m.src_end_s)) > 0.8
            and abs((m.copy_start_s - m.src_start_s) - lag / sr) < 0.05
            for m in found
        ):
            continue
        lag = _refine_lag(y=y, s0=s0, s1=s1, lag=lag, radius=2 * p.hop)
        if lag < int(p.min_duration_s * sr * 0.5):
            continue
        m = verify_pair(y=y, sr=sr, src=(s0, s1), lag=lag, bin_floor=bin_floor, p=p)
        if m is None or m.coherence < p.coherence_threshold:
            continue
        found.append(DuplicateMatch(**{**m.__dict__, "votes": votes}))
    return found


@dataclass(frozen=True)
class Occurrence:
    """One copy reported to the user, with the earliest occurrence as its source."""

    start_s: float
    end_s: float
    source_start_s: float
    source_end_s: float
    coherence: float
    gain_db: float
    group: int
    n_occurrences: int


def group_occurrences(matches: list[DuplicateMatch]) -> list[Occurrence]:
    """Cluster matched spans into groups of the same material; earliest span is the source."""
    spans: list[tuple[float, float]] = []
    parent: list[int] = []

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def add(span: tuple[float, float]) -> int:
        for i, s in enumerate(spans):
            if _overlap(s, span) > 0.5:
                return i
        spans.append(span)
        parent.append(len(parent))
        return len(spans) - 1

    pair_score: dict[tuple[int, int], DuplicateMatch] = {}
    for m in matches:
        i = add((m.src_start_s, m.src_end_s))
        j = add((m.copy_start_s, m.copy_end_s))
        if i == j:
            continue
        parent[find(j)] = find(i)
        pair_score[(min(i, j), max(i, j))] = m
    groups: dict[int, list[int]] = {}
    for i in range(len(spans)):
        groups.setdefault(find(i), []).append(i)
    out: list[Occurrence] = []
    for gi, members in enumerate(sorted(groups.values(), key=lambda g: min(spans[i] for i in g))):
        if len(members) < 2:
            continue
        members.sort(key=lambda i: spans[i][0])
        src = members[0]
        for j in members[1:]:
            found = pair_score.get((min(src, j), max(src, j)))
            if found is None:  # copy matched only via another copy: best pair involving it
                found = max((v for k, v in pair_score.items() if j in k), key=lambda v: v.coherence)
            m = found
            out.append(
                Occurrence(
                    start_s=spans[j][0],
                    end_s=spans[j][1],
                    source_start_s=spans[src][0],
                    source_end_s=spans[src][1],
                    coherence=m.coherence,
                    gain_db=m.gain_db if m.src_start_s <= spans[j][0] else -m.gain_db,
                    group=gi,
                    n_occurrences=len(members),
                )
            )
    return sorted(out, key=lambda o: o.start_s)
