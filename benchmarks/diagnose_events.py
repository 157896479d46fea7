"""Where the trained event layer loses F1, on the train half only (grouped CV).

Reads the proposals collected by ``train_events.py --cache`` (the train half of the
sound-effect clips mixed into speech), computes held-out class probabilities by repeated
grouped 3-fold CV, calibrates the decision offsets as ``train_events.py`` does, and sorts
every miss
and every false alarm of gunfire, explosion and aircraft into one bucket:

- misses (true events without a detection of their label within 0.25 s of the onset):
  ``a_no_proposal`` (no proposal overlaps the event or starts within 0.25 s before it),
  ``b_timing`` (a proposal overlaps the event but none starts within 0.25 s of the onset),
  ``c_background`` / ``c_other_label`` (a proposal at the onset, classified background or as
  another label), ``c_merged`` (a proposal at the onset with the right label, merged into an
  earlier same-label event, so the reported onset is earlier);
- false alarms (detections without a true event of their label within 0.25 s):
  ``b_timing`` (inside an unmatched true event of that label, onset > 0.25 s off),
  ``e_duplicate`` (inside a true event of that label that another detection matched),
  ``c_wrong_label`` (within 0.25 s of the onset of a true event of another label),
  ``e_fragment_other_label`` (later inside a true event of another label), ``d_speech`` (in an event
  item, away from any event), ``d_clean`` (clean speech), ``d_distractor`` (distractor
  effects; not counted in the precision, as in the validation script).

Usage::

    python benchmarks/train_events.py --cache benchmarks/out/train_items.pkl --out /tmp/m.json
    python benchmarks/diagnose_events.py --cache benchmarks/out/train_items.pkl \
        [--folds package|clip] [--repeats 3] [--members 5]
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import events_model
from earwitness.events.base import DetectedEvent
from events_model import CLASSES, TrainItem, fold_probs, folds
from train_events import _trained_events, calibrate
from validate_events import TARGETS, TOL

MISS = ("a_no_proposal", "b_timing", "c_background", "c_other_label", "c_merged")
FALSE = (
    "b_timing",
    "e_duplicate",
    "e_fragment_other_label",
    "c_wrong_label",
    "d_speech",
    "d_clean",
    "d_distractor",
)


class _Unpickler(pickle.Unpickler):
    """A cache written before ``events_model.py`` existed names ``__main__.TrainItem``."""

    def find_class(self, module: str, name: str) -> object:
        if module == "__main__":
            return getattr(events_model, name)
        return super().find_class(module, name)


def load_cache(path: Path) -> tuple[list[TrainItem], dict[str, int]]:
    with path.open("rb") as fh:
        items, hits = _Unpickler(fh).load()
    return items, hits


def _overlaps(ev: DetectedEvent, t: float, end: float) -> bool:
    return ev.start_s < end and ev.end_s > t - TOL


def buckets(
    items: list[TrainItem],
    probs: list[np.ndarray],
    decision: dict[str, object],
) -> dict[str, dict[str, int]]:
    """Misses and false alarms per target label, by cause (module docstring)."""
    _scored, trained = _trained_events(items, probs, decision)
    dummy_bias = decision.get("log_bias", {})
    bias = np.array([float(dummy_bias.get(c, 0.0)) for c in CLASSES])  # type: ignore[union-attr]
    out = {lab: Counter[str]() for lab in TARGETS}
    for it, dets, p in zip(items, trained, probs, strict=True):
        decided = np.argmax(np.log(p + 1e-12) + bias, axis=1) if len(p) else np.zeros(0, int)
        for lab in TARGETS:
            truth = [(t, e) for lb, t, e in it.truth if lb == lab]
            mine = [d for d in dets if d.label == lab]
            # greedy one-to-one matching by onset distance, as validate_events.score
            pairs = sorted(
                (abs(t - d.start_s), gi, di)
                for gi, (t, _e) in enumerate(truth)
                for di, d in enumerate(mine)
            )
            mg: set[int] = set()
            md: set[int] = set()
            for dist, gi, di in pairs:
                if dist <= TOL and gi not in mg and di not in md:
                    mg.add(gi)
                    md.add(di)
            out[lab]["events"] += len(truth)
            out[lab]["tp"] += len(mg)
            for gi, (t, end) in enumerate(truth):
                if gi in mg:
                    continue
                at = [k for k, q in enumerate(it.proposals) if abs(q.start_s - t) <= TOL]
                if at:
                    k = min(at, key=lambda k: abs(it.proposals[k].start_s - t))
                    c = CLASSES[int(decided[k])]
                    cause = (
                        "c_background"
                        if c == "background"
                        else "c_merged"
                        if c == lab
                        else "c_other_label"
                    )
                    if cause == "c_other_label":
                        out[lab][f"miss_as_{c}"] += 1
                elif any(_overlaps(q, t, end) for q in it.proposals):
                    cause = "b_timing"
                else:
                    cause = "a_no_proposal"
                out[lab][f"miss_{cause}"] += 1
            for di, d in enumerate(mine):
                if di in md:
                    continue
                if it.kind == "clean":
                    cause = "d_clean"
                elif it.kind == "distractor":
                    cause = "d_distractor"
                else:
                    own = [gi for gi, (t, end) in enumerate(truth) if t - TOL <= d.start_s < end]
                    other = [
                        (lb, t)
                        for lb, t, end in it.truth
                        if lb != lab and t - TOL <= d.start_s < end
                    ]
                    if own:
                        cause = "e_duplicate" if all(g in mg for g in own) else "b_timing"
                    elif other:
                        olab, ot = other[0]
                        # at the other event's onset: the mirror of a miss as this label;
                        # later inside it: a fragment of that event under another label
                        at_onset = abs(d.start_s - ot) <= TOL
                        cause = "c_wrong_label" if at_onset else "e_fragment_other_label"
                        out[lab][f"false_from_{olab}_{'onset' if at_onset else 'inside'}"] += 1
                    else:
                        cause = "d_speech"
                out[lab][f"false_{cause}"] += 1
    return {lab: dict(sorted(c.items())) for lab, c in out.items()}


def onset_errors(items: list[TrainItem], label: str) -> dict[str, float]:
    """For true events of ``label``: signed error (s) of the nearest proposal onset among the
    proposals overlapping the event (median, share within 0.25 s)."""
    errs = []
    for it in items:
        for lb, t, end in it.truth:
            if lb != label:
                continue
            near = [q.start_s - t for q in it.proposals if _overlaps(q, t, end)]
            if near:
                errs.append(min(near, key=abs))
    e = np.array(errs)
    return {
        "with_overlapping_proposal": int(e.size),
        "median_error_s": round(float(np.median(e)), 3) if e.size else 0.0,
        "within_tol": round(float(np.mean(np.abs(e) <= TOL)), 3) if e.size else 0.0,
        "early_beyond_tol": int(np.sum(e < -TOL)),
        "late_beyond_tol": int(np.sum(e > TOL)),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", type=Path, required=True)
    ap.add_argument("--folds", choices=("clip", "package"), default="package")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--members", type=int, default=1)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--l2", type=float, default=0.001)
    ap.add_argument("--hidden", type=int, default=16)
    args = ap.parse_args(argv)
    items, hits = load_cache(args.cache)
    gnames = [it.group for it in items]
    probs = [
        p
        for r in range(args.repeats)
        for p in fold_probs(
            items,
            folds(gnames, args.folds, args.seed + r),
            args.l2,
            args.hidden,
            args.seed,
            args.members,
        )
    ]
    cv_items = items * args.repeats
    decision, _before, after = calibrate(cv_items, probs)
    out = {
        "items": len(items),
        "proposal_recall": f"{hits['proposed']}/{hits['events']}",
        "cv": f"{args.folds} folds, {args.repeats} repetition(s), {args.members} member(s)",
        "decision": decision,
        "figures_after_offsets": {
            lab: {k: after[lab][k] for k in ("precision", "recall", "f1", "events")}
            for lab in (*TARGETS, "vehicle")
        },
        "false_per_hour_clean": round(
            sum(after[lab]["false_per_hour_clean_speech"] for lab in after if "_" not in lab), 2
        ),
        "buckets": buckets(cv_items, probs, decision),
        "onset_errors": {lab: onset_errors(items, lab) for lab in TARGETS},
    }
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
