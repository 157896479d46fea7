"""Train the event classifier of the ``dsp-trained`` layer (``events/classifier.py``).

Training data: ONLY the train half of the sound-effect clips (the same split as
``benchmarks/validate_events.py``: by source package for gunfire, explosion, aircraft and
vehicle, so no package gives clips of a label to both halves), plus synthetic shots, bursts,
explosions and aircraft fly-bys from ``earwitness.synth.events``, mixed at 0–15 dB
event-to-speech ratio into speech backgrounds (FSDD, jfk, hotwords, babble), with channel EQ,
gain changes and MP3 / Ogg re-encoding as augmentation. Clean speech and distractor clips
("other": horns, animals, machinery, ...) give the ``background`` class, as do DSP proposals
that do not match a true onset within 0.25 s.

Candidates are the proposals of the DSP detectors run with loose thresholds (recorded in the
model as ``proposal``). The classifier is a class-weighted one-hidden-layer perceptron with
L2 penalty (L-BFGS), by default a bagged ensemble of them merged into one network
(``events_model.py``); its size and penalty (``--grid``) and then its decision offsets and
layer routing are chosen on the event-level figures of repeated 3-fold cross-validation on
the train half, grouped by source package (``--folds package``, as the validation split) or
by source clip. Output: ``src/earwitness/events/models/event_classifier.json``.

Usage::

    python benchmarks/fetch_sfx.py
    python benchmarks/train_events.py [--quick]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import pickle
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from earwitness.events.base import DetectedEvent, resolve
from earwitness.events.classifier import (
    BACKGROUND,
    FORMAT,
    MODEL_PATH,
    ROUTE_LAYERS,
    ROUTED_LABELS,
    TrainedDetector,
    event_features,
    propose,
    route,
)
from earwitness.events.features import compute_features
from earwitness.events.impulsive import ImpulsiveDetector
from earwitness.events.segment_features import FEATURE_NAMES
from earwitness.events.stage import calibrated_params
from earwitness.events.sustained import SustainedDetector
from earwitness.synth.events import burst, chant, drone, explosion, gunshot, place
from events_augment import reencode, vary_source
from events_model import (
    CLASSES,
    PROPOSAL,
    WEIGHT_POWER,
    TrainItem,
    arrays,
    as_classifier,
    bagged,
    fold_probs,
    folds,
    macro_f1,
    predict,
)
from validate_events import (
    LABELS,
    SFX,
    SR,
    TARGETS,
    TOL,
    Item,
    audible_onset,
    backgrounds,
    load_clips,
    make_burst,
    objective,
    score,
    split,
)

#: the shipped recipe: one network, offsets and routing from one 3-fold CV grouped by clip.
#: Bagged ensembles (``--members``), source-variation augmentation (``--vary-sources``) and
#: repeated CV grouped by source package (``--folds package --repeats 3``) were measured on
#: 2026-12-03 and not adopted (docs/benchmarks/events.md)
MEMBERS = 1
REPEATS = 1


def synthetic(rng: np.random.Generator) -> list[tuple[str, str, np.ndarray]]:
    """(label, group, samples) of synthetic events (no validation clip is involved)."""
    out: list[tuple[str, str, np.ndarray]] = []
    for i in range(6):
        out.append(("gunfire", f"syn_shot{i}", gunshot(sr=SR, rng=rng, crack=bool(i % 2))))
        b = burst(sr=SR, rng=rng, n_shots=int(rng.integers(3, 8)), interval_s=0.08 + 0.05 * i)
        out.append(("gunfire", f"syn_burst{i}", b.samples))
        out.append(("explosion", f"syn_expl{i}", explosion(sr=SR, rng=rng, decay_s=0.8 + 0.3 * i)))
        kind = "jet" if i % 2 else "propeller"
        out.append(
            (
                "aircraft",
                f"syn_air{i}",
                drone(sr=SR, rng=rng, kind=kind, duration_s=5.0, f0=float(rng.uniform(60, 140))),
            )
        )
    return out


def label_of(ev_start: float, truth: list[tuple[str, float, float]]) -> str | None:
    """The true label of a proposal at ``ev_start``; ``None`` (left out of training) for a
    proposal inside a true event but not at its onset (a later shot of a burst, a change
    within a fly-by): the detector merges those into the event."""
    for lab, t, end in truth:
        if abs(ev_start - t) <= TOL:
            return lab
        if t < ev_start <= end:
            return None
    return BACKGROUND


def collect(
    rng: np.random.Generator,
    events: list[tuple[str, str, np.ndarray]],
    bgs: list[np.ndarray],
    clean: list[np.ndarray],
    reps: int,
    tmp: Path,
    vary: np.random.Generator | None = None,
) -> tuple[list[TrainItem], dict[str, int]]:
    """Every mixed item with its proposals, features and labels, plus proposal recall counts.
    ``clean`` backgrounds are added without events (false events on speech). ``vary``: an
    rng of its own (the placements stay those of ``rng``) for :func:`vary_source` on every
    placement of a real clip (events and distractors)."""
    hits = {"events": 0, "proposed": 0}
    dur = bgs[0].size / SR
    mixed: list[tuple[str, str, np.ndarray, list[tuple[str, float, float]]]] = []
    for lab, group, clip in events:
        for _ in range(reps):
            bg = bgs[int(rng.integers(len(bgs)))]
            src = clip if vary is None or group.startswith("syn") else vary_source(vary, clip)
            ev = src[: int(8 * SR)]
            if lab == "gunfire" and not group.startswith("syn") and rng.random() < 0.5:
                ev = make_burst(rng, src)
            at = float(rng.uniform(1.0, max(1.5, dur - ev.size / SR - 0.5)))
            y = place(background=bg, event=ev, at_s=at, sr=SR, snr_db=float(rng.uniform(0, 15)))
            on = audible_onset(mixed=y, background=bg, at_s=at)
            truth = [] if lab == "other" else [(lab, on, at + ev.size / SR)]
            mixed.append(("distractor" if lab == "other" else "events", group, y, truth))
    for k, bg in enumerate([*bgs, *clean]):
        mixed.append(("clean", f"clean{k}", bg, []))
    items: list[TrainItem] = []
    imp, sus, _mus = calibrated_params()
    for kind, group, y, truth in mixed:
        feats = compute_features(y=reencode(rng, y, tmp), sr=SR)
        props = propose(feats=feats, proposal=PROPOSAL)
        dsp = resolve(
            [
                *ImpulsiveDetector(imp).detect(feats=feats),
                *SustainedDetector(sus).detect(feats=feats),
            ]
        )
        hits["events"] += len(truth)
        hits["proposed"] += sum(
            any(abs(p.start_s - t) <= TOL for p in props) for _lb, t, _e in truth
        )
        labels = [label_of(p.start_s, truth) for p in props]
        x = (
            np.stack([event_features(feats=feats, ev=p) for p in props])
            if props
            else np.zeros((0, len(FEATURE_NAMES)))
        )
        items.append(
            TrainItem(
                group,
                kind,
                truth,
                y.size / SR,
                props,
                x,
                [None if lb is None else CLASSES.index(lb) for lb in labels],
                dsp,
            )
        )
    return items, hits


def event_scores(
    items: list[TrainItem], probs: list[np.ndarray], decision: dict[str, object]
) -> dict[str, dict[str, float]]:
    """Event-level figures (as in the validation script) of the trained layer's decisions on
    the items, from given class probabilities."""
    scored, trained = _trained_events(items, probs, decision)
    return score(scored, [[(e.label, e.start_s) for e in t] for t in trained])


def _trained_events(
    items: list[TrainItem], probs: list[np.ndarray], decision: dict[str, object]
) -> tuple[list[Item], list[list[DetectedEvent]]]:
    """The items as scored by the validation script, and the trained layer's events on each
    from given class probabilities and ``decision``."""
    dummy = as_classifier((np.zeros(len(FEATURE_NAMES)), np.ones(len(FEATURE_NAMES)), []), decision)
    det = TrainedDetector(dummy)
    scored = [
        Item(None, [(lb, t) for lb, t, _e in it.truth], it.kind, it.duration_s)  # type: ignore[arg-type]
        for it in items
    ]
    trained = [
        det.label(events=it.proposals, prob=p) if len(p) else []
        for it, p in zip(items, probs, strict=True)
    ]
    return scored, trained


def select_routing(
    items: list[TrainItem], probs: list[np.ndarray], decision: dict[str, object]
) -> dict[str, object]:
    """Per-label choice of layer (trained classifier or DSP detectors alone), by the
    event-level figures on the train half: the trained layer's events from the held-out
    grouped-CV probabilities with the calibrated decision, the DSP layer's from its
    calibrated thresholds. A label's F1 and false events depend only on the layer it is
    routed to, so the validation objective (mean F1 of gunfire/explosion/aircraft minus
    0.01 per false event per hour of clean speech) separates per label: a target label
    contributes F1/3 - 0.01 x false/h, another label -0.01 x false/h (ties broken by its
    F1, then in favour of the trained layer). Labels without train-half events (crowd)
    cannot be assessed and stay on the trained layer. Returns the model's ``routing``
    block: the choice and the CV figures behind it."""
    scored, trained = _trained_events(items, probs, decision)

    def run(routing: dict[str, str]) -> dict[str, dict[str, float]]:
        dets = [
            [(e.label, e.start_s) for e in route(trained=t, dsp=it.dsp, routing=routing)]
            for it, t in zip(items, trained, strict=True)
        ]
        return score(scored, dets)

    by_layer = {layer: run({lab: layer for lab in ROUTED_LABELS}) for layer in ROUTE_LAYERS}
    keys = ("precision", "recall", "f1", "events", "false_per_hour_clean_speech")
    cv: dict[str, dict[str, dict[str, float]]] = {}
    choice: dict[str, str] = {}
    for lab in ROUTED_LABELS:
        cv[lab] = {layer: {k: by_layer[layer][lab][k] for k in keys} for layer in ROUTE_LAYERS}

        def merit(layer: str, lab: str = lab) -> tuple[float, float, int]:
            r = cv[lab][layer]
            w = 1.0 / len(TARGETS) if lab in TARGETS else 0.0
            return (
                round(w * r["f1"] - 0.01 * r["false_per_hour_clean_speech"], 6),
                r["f1"],
                int(layer == "dsp-trained"),
            )

        has_events = cv[lab]["dsp-trained"]["events"] > 0
        choice[lab] = max(ROUTE_LAYERS, key=merit) if has_events else "dsp-trained"
    # A label's figures do not show events that duplicate another label's (a DSP "vehicle"
    # on an aircraft the trained layer already reports): keep a move off the trained layer
    # only if it does not lower the CV F1 of the label's group (impulsive / sustained).
    groups = {"gunfire": "impulsive_any", "explosion": "impulsive_any"}
    chosen = run(choice)
    reverted: list[str] = []
    for lab in ROUTED_LABELS:
        if choice[lab] == "dsp-trained":
            continue
        group = groups.get(lab, "sustained_any")
        alt = run({**choice, lab: "dsp-trained"})
        if alt[group]["f1"] > chosen[group]["f1"]:
            choice[lab] = "dsp-trained"
            chosen = alt
            reverted.append(lab)
    summary = {
        name: {
            **{
                lab: {k: res[lab][k] for k in ("precision", "recall", "f1")}
                for lab in (*ROUTED_LABELS, "impulsive_any", "sustained_any")
            },
            "false_per_hour_clean_speech": round(
                sum(res[lab]["false_per_hour_clean_speech"] for lab in LABELS), 2
            ),
            "objective": round(objective(res, TARGETS), 4),
        }
        for name, res in (
            ("all_trained", by_layer["dsp-trained"]),
            ("all_dsp", by_layer["dsp"]),
            ("selected", chosen),
        )
    }
    return {
        "labels": choice,
        "selected_on": (
            "grouped 3-fold CV on the train half (trained layer: held-out probabilities "
            "with the calibrated decision offsets; DSP layer: calibrated thresholds); per "
            "label the layer with the larger share of the validation objective (F1/3 - "
            "0.01 x false/h clean speech for gunfire/explosion/aircraft, -0.01 x false/h "
            "otherwise; ties: F1, then the trained layer); labels without train-half "
            "events stay on the trained layer; a move off the trained layer is kept only "
            "if it does not lower the CV F1 of the label's group (impulsive or sustained "
            "events, any label), which catches events that duplicate another label's"
        ),
        "reverted_by_group_check": reverted,
        "cv_by_label_and_layer": cv,
        "cv_figures": summary,
        "produced_by": "benchmarks/train_events.py",
    }


def calibrate(
    items: list[TrainItem], probs: list[np.ndarray]
) -> tuple[dict[str, object], dict[str, dict[str, float]], dict[str, dict[str, float]]]:
    """Decision offsets (log-probability bias per class) and the restatement window, chosen
    by coordinate ascent of the validation objective (mean F1 of gunfire, explosion and
    aircraft minus 0.01 per false event per hour of clean speech) on the held-out CV
    probabilities of the train half. Returns the decision and the figures before/after."""
    decision: dict[str, object] = {"log_bias": {c: 0.0 for c in CLASSES}, "restate_s": 0.0}
    before = event_scores(items, probs, decision)
    best = objective(before, TARGETS)
    for _ in range(2):
        for key in (*CLASSES, "restate_s"):
            values = (0.0, 0.3, 0.6, 1.0) if key == "restate_s" else (-1.0, -0.5, 0.0, 0.5, 1.0)
            for v in values:
                cand: dict[str, object] = {
                    "log_bias": dict(decision["log_bias"]),  # type: ignore[call-overload]
                    "restate_s": decision["restate_s"],
                }
                if key == "restate_s":
                    cand["restate_s"] = v
                else:
                    cand["log_bias"][key] = v  # type: ignore[index]
                val = objective(event_scores(items, probs, cand), TARGETS)
                if val > best + 1e-6:
                    best, decision = val, cand
    decision["calibrated_on"] = (
        "held-out probabilities of grouped 3-fold CV on the train half (objective: mean F1 "
        "of gunfire/explosion/aircraft minus 0.01 per false event per hour of clean speech)"
    )
    return decision, before, event_scores(items, probs, decision)


def _collected(
    rng: np.random.Generator,
    cache: Path | None,
    events: list[tuple[str, str, np.ndarray]],
    bgs: list[np.ndarray],
    clean: list[np.ndarray],
    reps: int,
    vary: np.random.Generator | None,
) -> tuple[list[TrainItem], dict[str, int]]:
    """:func:`collect`, or its result from ``cache`` when that pickle exists (written after
    collecting when it does not)."""
    if cache is not None and cache.is_file():
        with cache.open("rb") as fh:
            items, hits = pickle.load(fh)
        if items and not hasattr(items[0], "dsp"):
            raise SystemExit(f"{cache} predates the DSP-layer detections; delete it")
        return items, hits
    with tempfile.TemporaryDirectory() as td:
        items, hits = collect(rng, events, bgs, clean, reps, Path(td), vary)
    if cache is not None:
        with cache.open("wb") as fh:
            pickle.dump((items, hits), fh)
    return items, hits


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="train the acoustic-event classifier")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--grid", action="store_true", help="cross-validate l2 and hidden size")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", type=Path, default=MODEL_PATH)
    ap.add_argument(
        "--cache", type=Path, help="pickle of the collected proposals (reused when it exists)"
    )
    ap.add_argument(
        "--members", type=int, default=MEMBERS, help="bagged ensemble size (1: one network)"
    )
    ap.add_argument(
        "--folds",
        choices=("package", "clip"),
        default="clip",
        help="CV folds grouped by source package (as the validation split) or by clip",
    )
    ap.add_argument("--repeats", type=int, default=REPEATS, help="CV repetitions (fold seeds)")
    ap.add_argument(
        "--vary-sources",
        action="store_true",
        help="playback-rate and room augmentation of the real clips (vary_source)",
    )
    ap.add_argument(
        "--sustained-onset-db",
        type=float,
        help="onset_within_db of the sustained proposer (default: SustainedParams' own)",
    )
    args = ap.parse_args(argv)
    if args.sustained_onset_db is not None:
        PROPOSAL["sustained"]["onset_within_db"] = args.sustained_onset_db
    if not (SFX / "manifest.json").is_file():
        print("run benchmarks/fetch_sfx.py first", file=sys.stderr)
        return 2
    rng = np.random.default_rng(args.seed)
    PROPOSAL["impulsive"] = dict(asdict(calibrated_params()[0]))
    clips = load_clips()
    clips.setdefault("music", []).extend(
        (f"synth_chant_{i}", chant(sr=SR, rng=rng, duration_s=6.0, f0=float(f0)))
        for i, f0 in enumerate((150, 190, 230, 260))
    )
    tr_clips, va_clips = split(clips)
    va_files = {f for items in va_clips.values() for f, _ in items}
    events = [
        (lab, f, x)
        for lab, items in tr_clips.items()
        for f, x in items
        if f not in va_files and lab != "music"  # single-clip labels: validation only
    ]
    events += synthetic(rng)
    reps = 3 if args.quick else 10
    n_bg = 6 if args.quick else 24
    bgs = backgrounds(rng, n_bg, 12.0)
    clean = backgrounds(rng, n_bg, 12.0)  # extra clean speech: false events on speech
    # the augmented collection (--vary-sources) replays the same placements (a copy of the
    # rng) on varied clips: the models learn from it, the CV scores the plain items
    state = rng.bit_generator.state
    items, hits = _collected(rng, args.cache, events, bgs, clean, reps, None)
    train_items = items
    if args.vary_sources:
        rng.bit_generator.state = state
        vcache = None if args.cache is None else args.cache.with_name(args.cache.stem + "_vary.pkl")
        vary = np.random.default_rng(args.seed + 99)
        train_items, _ = _collected(rng, vcache, events, bgs, clean, reps, vary)
        if [it.group for it in train_items] != [it.group for it in items]:
            print("augmented collection does not pair with the plain one", file=sys.stderr)
            return 2
    x, y, groups = arrays(train_items)
    print(
        f"{len(items)} items, {len(y)} proposals; class counts "
        f"{np.bincount(y, minlength=len(CLASSES))}; proposal recall on train "
        f"{hits['proposed']}/{hits['events']}",
        file=sys.stderr,
    )
    # repeated grouped 3-fold CV: each repetition has its own fold assignment (fold seeds
    # seed, seed + 1, ...); the decision offsets and routing are chosen on all repetitions
    # (the items once per repetition), which steadies them against one lucky split
    gnames = [it.group for it in items]
    fold_sets = [folds(gnames, args.folds, args.seed + r) for r in range(args.repeats)]
    cv_items = items * args.repeats
    cv: dict[str, float] = {}
    cv_probs: dict[str, list[np.ndarray]] = {}
    # (l2, hidden) chosen by the event-level objective of grouped 3-fold CV on the train half
    grid = [(l2, hid) for l2 in (0.001, 0.01) for hid in (16, 32)] if args.grid else [(0.001, 16)]
    no_decision = {"log_bias": {}, "restate_s": 0.0}
    for l2, hid in grid:
        key = f"{l2}/{hid}"
        cv_probs[key] = [
            p
            for fold in fold_sets
            for p in fold_probs(items, fold, l2, hid, args.seed, args.members, train_items)
        ]
        res = event_scores(cv_items, cv_probs[key], no_decision)
        cv[key] = round(objective(res, TARGETS), 4)
        print(f"l2 {l2} hidden {hid}: grouped-CV event objective {cv[key]}", file=sys.stderr)
    best_key = max(cv, key=lambda k: cv[k])
    l2_best, hid_best = float(best_key.split("/")[0]), int(best_key.split("/")[1])
    decision, res_before, res_after = calibrate(cv_items, cv_probs[best_key])
    for name, res in (("before", res_before), ("after", res_after)):
        print(
            f"CV {name} decision calibration: "
            + ", ".join(
                f"{lab} P {res[lab]['precision']:.2f} R {res[lab]['recall']:.2f} "
                f"F1 {res[lab]['f1']:.2f}"
                for lab in (*TARGETS, "vehicle")
            )
            + "; false/h clean "
            + f"{sum(res[lab]['false_per_hour_clean_speech'] for lab in LABELS):.1f}",
            file=sys.stderr,
        )
    print(f"decision: {decision}", file=sys.stderr)
    routing = select_routing(cv_items, cv_probs[best_key], decision)
    print(f"routing: {routing['labels']}", file=sys.stderr)
    print(json.dumps(routing["cv_by_label_and_layer"]), file=sys.stderr)
    print(json.dumps(routing["cv_figures"]), file=sys.stderr)
    mean, scale, layers = bagged(x, y, groups, l2_best, hid_best, args.seed, args.members)
    train_f1 = macro_f1(y, predict((mean, scale, layers), x))
    model = {
        "format": FORMAT,
        "name": "event_classifier",
        "classes": list(CLASSES),
        "feature_names": list(FEATURE_NAMES),
        "mean": mean.round(6).tolist(),
        "scale": scale.round(6).tolist(),
        "layers": [
            {"weights": w.round(6).tolist(), "bias": b.round(6).tolist()} for w, b in layers
        ],
        "proposal": PROPOSAL,
        "decision": decision,
        "routing": routing,
        "training": {
            "data": (
                "train half of the sound-effect clips (split by source package per label as "
                "in benchmarks/validate_events.py; validation packages excluded) from "
                "Debian game-data packages (see docs/events.md), plus synthetic shots, "
                "bursts, explosions and fly-bys; mixed at 0-15 dB event-to-speech ratio "
                "into speech (FSDD, jfk, hotwords, babble); EQ (30% low-pass 3-7 kHz, 20% "
                "high-pass 100-300 Hz); gain -20..+3 dB; 35% MP3, 25% Ogg re-encoding at "
                "32/64/128 kbit/s; background class = clean speech, distractor effects and "
                "proposals without a true (audible) onset within 0.25 s (proposals inside a "
                "true event but not at its onset are left out)"
                + (
                    "; the models learn from the same placements of varied clips (70% "
                    "playback rate 0.8-1.25, 50% synthetic room RT60 0.2-0.8 s, DRR -3..10 "
                    "dB) and are cross-validated on the plain ones"
                    if args.vary_sources
                    else ""
                )
            ),
            "vary_sources": bool(args.vary_sources),
            "train_files": sorted({g for g in groups if not g.startswith("clean")}),
            "proposals": len(y),
            "class_counts": {
                c: int(n)
                for c, n in zip(CLASSES, np.bincount(y, minlength=len(CLASSES)), strict=True)
            },
            "proposal_recall_train": f"{hits['proposed']}/{hits['events']}",
            "model": "perceptron, one tanh hidden layer, softmax; class weights "
            f"(inverse frequency)^{WEIGHT_POWER}; L2; L-BFGS"
            + (
                f"; bagged ensemble of {args.members} such networks (bootstrap samples of "
                "the source clips, shared standardisation), logits averaged into one "
                f"network of {args.members * hid_best} hidden units"
                if args.members > 1
                else ""
            ),
            "l2": l2_best,
            "hidden": hid_best,
            "members": args.members,
            "cv": (
                f"grouped 3-fold CV by source {args.folds}, {args.repeats} repetition(s) "
                f"(fold seeds {args.seed}..{args.seed + args.repeats - 1})"
            ),
            "cv_event_objective_by_l2_hidden": cv,
            "cv_event_figures": {
                lab: {k: res_after[lab][k] for k in ("precision", "recall", "f1")}
                for lab in (*TARGETS, "vehicle")
            },
            "cv_false_per_hour_clean_speech": round(
                sum(res_after[lab]["false_per_hour_clean_speech"] for lab in LABELS), 2
            ),
            "train_macro_f1": round(train_f1, 4),
            "repetitions_per_clip": reps,
            "seed": args.seed,
        },
        "trained_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "produced_by": "benchmarks/train_events.py",
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(model, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out} ({best_key}, CV event objective {cv[best_key]})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
