"""Look up a recording in the archive index and report verified, calibrated matches.

Score: each verified alignment has ``n_landmarks`` distinct query anchors on one line
``ref_t = offset + speed * query_t``. A null model measured on *unrelated* speech (the
calibration script ``benchmarks/calibrate_match.py``) gives the expected number of chance
alignments with at least that many landmarks, per query of 10 s, per hour of indexed audio:
``rate(n) = exp(log_rate - slope * n)``. The reported figure of merit is

    expected_false_matches = rate(n) * (query_s / 10) * max(archive_h, min_archive_h)

i.e. how many unrelated items this strong a match would be expected to produce by chance for
this query against an archive of the current size. ``score = -log10(expected_false_matches)``.
A match is listed when ``expected_false_matches <= max_expected`` and the matched query span
is at least ``min_duration_s`` (stock phrases and short recitations recur in unrelated
releases; shorter spans are near-misses, listed only on request).

Two-stage decision: when the query's audio and the references' audio are at hand
(``references``), the best near-misses with at least ``verify.min_landmarks`` landmarks are
verified on the spectrograms along their fitted line (``verify.py``). One that scores at least
``verify.min_score``, whose span refined on the audio (``refine.py``) is at least
``min_duration_s`` long and whose expected number of false matches, the landmark expectation
times the measured chance of a chance alignment scoring as high, is at most ``max_expected``
is listed as a match with ``decision = "verified_on_audio"`` (``"landmarks"`` otherwise).
Imported fingerprints (no audio) keep the landmark-only decision.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, replace
from importlib import resources
from typing import Any

import numpy as np
from scipy import signal as sps

from earwitness.fingerprint.align import Alignment, AlignParams, Hits, align_hits
from earwitness.fingerprint.features import QueryTolerance, Triplets, expand_query, fingerprint
from earwitness.fingerprint.index import ArchiveIndex, IndexedItem
from earwitness.fingerprint.verify import (
    QuerySpectrum,
    ReferenceAudio,
    VerifyNull,
    VerifyParams,
    query_spectrum,
    verify_span,
)


@dataclass(frozen=True)
class NullModel:
    """Chance-alignment rate per 10 s query per indexed hour, as a log-linear tail."""

    log_rate: float = 6.0
    slope: float = 0.9
    min_archive_h: float = 10.0
    source: str = "default (uncalibrated)"

    def expected(self, *, n_landmarks: int, query_s: float, archive_h: float) -> float:
        rate = math.exp(self.log_rate - self.slope * n_landmarks)
        return rate * max(query_s, 1.0) / 10.0 * max(archive_h, self.min_archive_h)


# Archive matching's own alignment search (self-matching in forensics builds its own);
# each change was chosen on the development splits (docs/benchmarks/matching.md):
# - 8-frame (0.13 s) coarse offset bins at 9 speeds (step 0.0175) instead of 32 frames at 5:
#   in a noisy 40 s query a 0.5 s bin gathers 30+ chance anchors and the true line (15-20
#   anchors within 2 frames) never reaches the 24 candidates tried; an eighth of a second
#   (a bin and its neighbour: 16 frames) cuts the chance count while a line at a speed half
#   a step off stays inside it; 16-frame bins still left the true line of 6-17 anchors at
#   rank 50-240 in 6 missed noisy queries of the development splits, 8-frame bins at 0-82;
# - lines from 4 anchors (not 5): weaker lines are the near-misses verified on the audio
#   (the landmark-only decision needs ``min_landmarks`` anyway); 3 found the same on the
#   development splits at twice the alignment time;
# - the fine Hough counts anchors, each of the 8 strongest items' best candidate is tried
#   first, and only a line of about the same speed vetoes a candidate.
ARCHIVE_ALIGN = AlignParams(
    min_hits=4,
    coarse_bin=8,
    coarse_speed_step=0.0175,
    fine_count_anchors=True,
    per_item_first=8,
    veto_same_speed=True,
)


@dataclass(frozen=True)
class MatchParams:
    """Decision and search parameters (recorded in reports)."""

    max_expected: float = 0.01
    min_duration_s: float = 3.0
    min_landmarks: int = 8
    max_postings: int = 4000
    max_hits: int = 60_000
    near_miss_expected: float = 10.0
    align: AlignParams = field(default_factory=lambda: ARCHIVE_ALIGN)
    tolerance: QueryTolerance = field(default_factory=QueryTolerance)
    null: NullModel = field(default_factory=NullModel)
    verify: VerifyParams = field(default_factory=VerifyParams)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def load_match_params() -> MatchParams:
    """Built-in parameters, with the null model and threshold from the calibration file."""
    try:
        text = (resources.files("earwitness") / "calibration" / "archive_match.json").read_text(
            encoding="utf-8"
        )
    except (FileNotFoundError, OSError):
        return MatchParams()
    params = json.loads(text).get("params", {})
    null = params.get("null_model")
    vnull = params.get("verify_null")
    vmin = params.get("verify_min_score")
    verify = VerifyParams(null=VerifyNull(**vnull)) if vnull else VerifyParams()
    if vmin is not None:
        verify = replace(verify, min_score=float(vmin))
    return MatchParams(
        max_expected=float(params.get("max_expected", 0.01)),
        min_duration_s=float(params.get("min_duration_s", 3.0)),
        min_landmarks=int(params.get("min_landmarks", 8)),
        null=NullModel(**null) if null else NullModel(),
        verify=verify,
    )


@dataclass(frozen=True)
class ArchiveMatch:
    """One span of the query found in one indexed item."""

    item_id: str
    sha256: str
    score: float
    expected_false_matches: float
    query_start_s: float
    query_end_s: float
    ref_start_s: float
    ref_end_s: float
    speed: float
    n_landmarks: int
    n_hits: int
    above_threshold: bool
    refined: bool = False
    decision: str = "landmarks"  # or "verified_on_audio"
    verify_score: float | None = None
    alignment: Alignment | None = field(default=None, repr=False, compare=False)

    @property
    def matched_duration_s(self) -> float:
        return self.query_end_s - self.query_start_s

    def to_dict(self) -> dict[str, Any]:
        return {
            "item_id": self.item_id,
            "sha256": self.sha256,
            "score": round(self.score, 3),
            "query_start_s": round(self.query_start_s, 3),
            "query_end_s": round(self.query_end_s, 3),
            "ref_start_s": round(self.ref_start_s, 3),
            "ref_end_s": round(self.ref_end_s, 3),
            "speed": round(self.speed, 4),
            "expected_false_matches": float(f"{self.expected_false_matches:.3g}"),
            "matched_duration_s": round(self.matched_duration_s, 3),
            "landmarks": self.n_landmarks,
            "span_refined": self.refined,
            "decision": self.decision,
            "verification_score": None
            if self.verify_score is None or not math.isfinite(self.verify_score)
            else round(self.verify_score, 3),
        }


@dataclass(frozen=True)
class MatchResult:
    """Matches above the threshold (best first) and near-misses below it."""

    matches: tuple[ArchiveMatch, ...]
    near_misses: tuple[ArchiveMatch, ...]
    query_duration_s: float
    archive_hours: float
    n_query_triplets: int
    n_hits: int
    params: MatchParams
    query: Triplets | None = field(default=None, repr=False, compare=False)
    hits: Hits | None = field(default=None, repr=False, compare=False)


def _overlaps(m: ArchiveMatch, n: ArchiveMatch) -> bool:
    """``n`` lies (more than half) over a query span of the same item as ``m``."""
    return m.item_id == n.item_id and min(m.query_end_s, n.query_end_s) - max(
        m.query_start_s, n.query_start_s
    ) > 0.5 * (n.query_end_s - n.query_start_s)


def _verify(
    cands: list[ArchiveMatch],
    matches: list[ArchiveMatch],
    *,
    audio: np.ndarray,
    references: ReferenceAudio,
    items: dict[str, IndexedItem],
    index: ArchiveIndex,
    p: MatchParams,
) -> list[ArchiveMatch]:
    """The near-misses ``cands`` that pass verification on the audio, as matches."""
    from earwitness.fingerprint.refine import refine_match  # refine imports this module

    vp, fp = p.verify, index.params
    cands = sorted(cands, key=lambda m: -m.n_landmarks)
    cands = [c for c in cands if not any(_overlaps(m, c) for m in matches)]
    qspec: QuerySpectrum | None = None
    out: list[ArchiveMatch] = []
    for c in cands[: vp.max_candidates]:
        a = c.alignment
        if a is None:
            continue
        if qspec is None:
            qspec = query_spectrum(y=audio, params=fp, verify=vp)
        score, r_y, first = verify_span(
            query=qspec,
            references=references,
            item_id=c.item_id,
            speed=a.speed,
            offset=a.offset,
            q_start=a.q_start,
            q_end=a.q_end,
            params=fp,
            verify=vp,
        )
        if r_y is None or not math.isfinite(score) or score < vp.min_score:
            continue
        expected = c.expected_false_matches * vp.null.exceedance(score)
        if expected > p.max_expected:
            continue
        m = refine_match(
            c,
            q_y=audio,
            r_y=r_y,
            params=fp,
            r_first=first,
            r_duration_s=items[c.item_id].duration_s,
        )
        if m.query_end_s - m.query_start_s < p.min_duration_s:
            continue
        out.append(
            replace(
                m,
                score=-math.log10(max(expected, 1e-300)),
                expected_false_matches=expected,
                above_threshold=True,
                decision="verified_on_audio",
                verify_score=score,
            )
        )
    return out


def match_fingerprint(
    *,
    query: Triplets,
    index: ArchiveIndex,
    params: MatchParams | None = None,
    exclude: frozenset[str] = frozenset(),
    audio: np.ndarray | None = None,
    references: ReferenceAudio | None = None,
) -> MatchResult:
    """Match a query fingerprint (made with ``query=True``) against ``index``.

    With the query's samples ``audio`` (at ``index.params.sr``) and ``references``, the best
    near-misses are verified on the audio (two-stage decision, see the module docstring).
    """
    p = params or load_match_params()
    fp = query.params
    frame_s = fp.frame_s
    q_s = query.n_frames * frame_s
    archive_h = index.total_duration_s() / 3600.0
    hashes, trip_row = (
        expand_query(trip=query, tol=p.tolerance)
        if query.hashes.size
        else (np.zeros(0, np.uint32), np.zeros(0, np.int64))
    )
    priority = query.strength[trip_row] if query.strength is not None else None
    found = index.lookup(
        hashes, max_postings=p.max_postings, max_hits=p.max_hits, priority=priority
    )
    tr = trip_row[found.rows]
    keep = np.ones(tr.size, dtype=bool)
    if exclude:
        bad = np.array([it.item_id in exclude for it in found.items], dtype=bool)
        if bad.any():
            keep = ~bad[found.item]
    tr = tr[keep]
    items_k = found.item[keep].astype(np.int64)
    ref_k = found.ref_t[keep].astype(np.int64)
    hits = Hits(
        q_t=query.t1[tr].astype(np.float64),
        q_end=(query.t1[tr].astype(np.float64) + query.dt[tr]),
        item=items_k,
        ref_t=ref_k.astype(np.float64),
    )
    aligns = align_hits(hits=hits, params=p.align, frame_s=frame_s)
    matches: list[ArchiveMatch] = []
    near: list[ArchiveMatch] = []
    to_verify: list[ArchiveMatch] = []
    for a in aligns:
        it = found.items[a.item]
        expected = p.null.expected(n_landmarks=a.n_landmarks, query_s=q_s, archive_h=archive_h)
        q0, q1 = a.q_start * frame_s, a.q_end * frame_s
        r0 = max(0.0, a.ref_start * frame_s)
        r1 = min(it.duration_s, a.ref_end * frame_s)
        ok = (
            expected <= p.max_expected
            and (q1 - q0) >= p.min_duration_s
            and a.n_landmarks >= p.min_landmarks
        )
        m = ArchiveMatch(
            item_id=it.item_id,
            sha256=it.sha256,
            score=-math.log10(max(expected, 1e-300)),
            expected_false_matches=expected,
            query_start_s=q0,
            query_end_s=min(q1, q_s),
            ref_start_s=r0,
            ref_end_s=r1,
            speed=a.speed,
            n_landmarks=a.n_landmarks,
            n_hits=a.n_hits,
            above_threshold=ok,
            alignment=a,
        )
        if ok:
            matches.append(m)
        else:
            if a.n_landmarks >= p.verify.min_landmarks:
                to_verify.append(m)
            if expected <= p.near_miss_expected:
                near.append(m)
    if audio is not None and references is not None and to_verify:
        items = {it.item_id: it for it in found.items}
        verified = _verify(
            to_verify, matches, audio=audio, references=references, items=items, index=index, p=p
        )
        matches += verified
        promoted = {id(v.alignment) for v in verified}
        near = [n for n in near if id(n.alignment) not in promoted]
    matches.sort(key=lambda m: -m.score)

    # a weaker line over the same query span of the same item is not a separate finding
    near = sorted(
        (n for n in near if not any(_overlaps(m, n) for m in matches)), key=lambda m: -m.score
    )
    return MatchResult(
        matches=tuple(matches),
        near_misses=tuple(near),
        query_duration_s=q_s,
        archive_hours=archive_h,
        n_query_triplets=int(query.hashes.size),
        n_hits=int(hits.size),
        params=p,
        query=query,
        hits=hits,
    )


def match_audio(
    *,
    y: np.ndarray,
    sr: int,
    index: ArchiveIndex,
    params: MatchParams | None = None,
    exclude: frozenset[str] = frozenset(),
    references: ReferenceAudio | None = None,
) -> MatchResult:
    """Fingerprint mono samples and match them against ``index``; with ``references`` (the
    indexed items' audio, where available) near-misses are verified on the audio."""
    fp = index.params
    x = np.asarray(y, dtype=np.float32)
    if references is not None and sr != fp.sr:
        g = np.gcd(int(sr), int(fp.sr))
        x = sps.resample_poly(x, fp.sr // g, int(sr) // g).astype(np.float32)
        sr = fp.sr
    q = fingerprint(y=x, sr=sr, params=fp, query=True)
    return match_fingerprint(
        query=q,
        index=index,
        params=params,
        exclude=exclude,
        audio=x if references is not None else None,
        references=references,
    )
