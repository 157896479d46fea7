"""The ``archive_match`` analysis stage: is this recording (partly) in the archive already?"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from earwitness.findings import Finding, load_error_rates
from earwitness.fingerprint.archive import StoreReferences, refine_with_store, store_index
from earwitness.fingerprint.matcher import ArchiveMatch, load_match_params, match_audio
from earwitness.pipeline.context import AnalysisContext
from earwitness.pipeline.stage import StageResult

METHOD = (
    "landmark-triplet fingerprint + offset/speed Hough alignment (Panako-style); "
    "near-misses verified on the audio by band-spectrum correlation along the alignment"
)


def match_finding(m: ArchiveMatch, *, advisory: bool = False) -> Finding:
    """An ``archive_match`` finding: start_s/end_s is the query span."""
    return Finding(
        kind="archive_match",
        start_s=m.query_start_s,
        end_s=m.query_end_s,
        score=m.score,
        label=(
            f"{'near-miss: ' if advisory else ''}matches item {m.item_id} "
            f"{m.ref_start_s:.2f}-{m.ref_end_s:.2f} s (speed {m.speed:.3f})"
        ),
        details={
            "item_id": m.item_id,
            "sha256": m.sha256,
            "ref_start_s": round(m.ref_start_s, 3),
            "ref_end_s": round(m.ref_end_s, 3),
            "speed": round(m.speed, 4),
            "score_meaning": (
                "-log10 of the expected number of unrelated items matching this "
                "strongly by chance for this query at the archive's size"
            ),
            "expected_false_matches": m.expected_false_matches,
            "matched_duration_s": round(m.matched_duration_s, 3),
            "landmarks": m.n_landmarks,
            "above_threshold": m.above_threshold,
            "span_refined": m.refined,
            "decision": m.decision,
            "verification_score": None if m.verify_score is None else round(m.verify_score, 3),
        },
        method=METHOD,
        error_rates=load_error_rates("archive_match"),
        advisory=advisory,
    )


class ArchiveMatchStage:
    name: ClassVar[str] = "archive_match"
    version: ClassVar[str] = "2"
    description: ClassVar[str] = (
        "Looks the recording up in the store's archive fingerprint index (re-uploads and "
        "reused segments, also re-encoded, noisy, sped up or pitch-shifted)."
    )
    requires: ClassVar[tuple[str, ...]] = ()

    def params(self) -> Mapping[str, Any]:
        p = load_match_params()
        return {
            "max_expected_false_matches": p.max_expected,
            "min_duration_s": p.min_duration_s,
            "min_landmarks": p.min_landmarks,
            "speed_range": [p.align.min_speed, p.align.max_speed],
            "null_model": p.null.source,
            "verify_min_landmarks": p.verify.min_landmarks,
            "verify_min_score": p.verify.min_score,
            "verify_null": p.verify.null.source,
        }

    def enabled(self, ctx: AnalysisContext) -> str | None:
        if ctx.store is None:
            return "no evidence store (archive index) available"
        return None

    def run(self, ctx: AnalysisContext) -> StageResult:
        assert ctx.store is not None
        index = store_index(ctx.store)
        p = load_match_params()
        audio = ctx.audio(sr=index.params.sr, mono=True)
        problems: list[str] = []
        res = match_audio(
            y=audio.samples,
            sr=audio.sr,
            index=index,
            params=p,
            exclude=frozenset({ctx.item_id}),
            references=StoreReferences(ctx.store, problems=problems),
        )
        matches = refine_with_store(
            ctx.store, res.matches, q_y=audio.samples, params=index.params, problems=problems
        )
        findings = [match_finding(m) for m in matches]
        if ctx.options.show_near_misses:
            findings += [match_finding(m, advisory=True) for m in res.near_misses]
        return StageResult(
            findings=tuple(findings),
            params=self.params(),
            summary={
                "archive_items": len(index.items()) - (1 if ctx.item_id in index else 0),
                "archive_hours": round(res.archive_hours, 3),
                "matches": len(res.matches),
                "near_misses": len(res.near_misses),
            },
            limitations=(
                "Only the store's own archive is searched; absence of a match is not proof "
                "that the audio is new.",
                f"Matches shorter than {p.min_duration_s:g} s are not reported (stock phrases "
                "and recitations recur across unrelated releases).",
                "Speed, tempo and pitch changes beyond about 5 % are not searched.",
                *(msg[:1].upper() + msg[1:] + "." for msg in problems),
            ),
        )
