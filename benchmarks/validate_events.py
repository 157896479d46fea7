"""Calibrate and validate the DSP acoustic-event detectors on real sound effects mixed into
real speech, and write the calibration files the ``acoustic_events`` stage loads.

Data: the clips fetched by ``benchmarks/fetch_sfx.py`` (thirteen Debian game-data packages;
see docs/events.md for files and licences; loading and split in ``events_data.py``) mixed
at 0–15 dB event-to-speech ratio into speech backgrounds made from the shared corpus (jfk,
hotwords, FSDD concatenations) and synthetic babble, over a -60 dBFS noise floor. Gunfire
clips are also repeated into bursts (automatic fire, 0.08–0.6 s intervals). Clips are split
by *source package* into a train half (thresholds are tuned on it) and a validation half
(figures are reported on it). Clean-speech backgrounds without events measure false events per hour.

Matching: a detection matches a ground-truth event of the same label when their onsets differ
by at most 0.25 s (one-to-one, greedy by onset distance).

Usage::

    python benchmarks/fetch_sfx.py
    python benchmarks/validate_events.py [--quick] [--no-write]
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace

import numpy as np

from earwitness.events.base import DetectedEvent, resolve
from earwitness.events.classifier import EventClassifier, TrainedDetector, combine, route
from earwitness.events.features import FrameFeatures, compute_features
from earwitness.events.impulsive import ImpulsiveDetector, ImpulsiveParams
from earwitness.events.music import MusicDetector, MusicParams
from earwitness.events.sustained import SustainedDetector, SustainedParams
from earwitness.synth.events import chant, place
from events_data import (
    ROOT,
    SFX,
    SR,
    backgrounds,
    load_clips,
    make_burst,
    split,
)

CALIB = ROOT / "src" / "earwitness" / "calibration"
TOL = 0.25
#: an event is audible (ground-truth onset) once its level is within this many dB of the
#: mean speech power (see ``audible_onset``)
AUDIBLE_BELOW_SPEECH_DB = 10.0
TARGETS = ("gunfire", "explosion", "aircraft")
LABELS = ("gunfire", "explosion", "aircraft", "vehicle", "crowd", "music")
#: label groups scored as one (detection regardless of the label within the group)
GROUPS = {
    "impulsive_any": ("gunfire", "explosion"),
    "sustained_any": ("aircraft", "vehicle", "crowd"),
}


@dataclass
class Item:
    feats: FrameFeatures
    truth: list[tuple[str, float]]  # (label, onset_s)
    kind: str  # "events" | "clean" | "distractor"
    duration_s: float


def build(
    rng: np.random.Generator,
    clips: dict[str, list[tuple[str, np.ndarray]]],
    bgs: list[np.ndarray],
    reps: int,
) -> list[Item]:
    items: list[Item] = []
    dur = bgs[0].size / SR
    for lab in (*LABELS, "other"):
        for _name, clip in clips.get(lab, []):
            for _ in range(reps):
                bg = bgs[int(rng.integers(len(bgs)))]
                ev = clip[: int(8 * SR)]
                if lab == "gunfire" and rng.random() < 0.5:
                    ev = make_burst(rng, clip)
                at = float(rng.uniform(1.0, max(1.5, dur - ev.size / SR - 0.5)))
                snr = float(rng.uniform(0.0, 15.0))
                y = place(background=bg, event=ev, at_s=at, sr=SR, snr_db=snr)
                on = audible_onset(mixed=y, background=bg, at_s=at)
                truth = [] if lab == "other" else [(lab, on)]
                items.append(
                    Item(
                        compute_features(y=y, sr=SR),
                        truth,
                        "distractor" if lab == "other" else "events",
                        dur,
                    )
                )
    return items


def _onset(x: np.ndarray) -> float:
    """Onset of a clip on its own: first 10 ms frame within 30 dB of its loudest frame."""
    hop = SR // 100
    m = max(1, x.size // hop)
    p = (x[: m * hop].astype(np.float64).reshape(m, hop) ** 2).mean(axis=1)
    return float(np.nonzero(p >= p.max() * 1e-3)[0][0] * hop / SR)


def audible_onset(*, mixed: np.ndarray, background: np.ndarray, at_s: float) -> float:
    """Ground-truth onset (s) of the event placed at ``at_s`` in ``mixed``, where an annotator
    would mark it: the first 10 ms frame at which the event's level (as mixed; the power of
    the last 100 ms, as loudness integrates over about that long) is both within 30 dB of
    its own loudest frame and no more than ``AUDIBLE_BELOW_SPEECH_DB`` below the mean power
    of the speech over the event's span. A shot or an explosion passes at its first frame;
    a fly-by that fades in is labelled where it rises out of the speech, not where its
    first faint sample is."""
    hop = SR // 100
    i = round(at_s * SR)
    ev = (mixed[i:].astype(np.float64) - background[i:].astype(np.float64))[: mixed.size - i]
    m = max(1, ev.size // hop)
    p = (ev[: m * hop].reshape(m, hop) ** 2).mean(axis=1)
    trail = np.convolve(p, np.ones(10) / 10.0)[: p.size]
    keep = p >= p.max() * 1e-3
    last = int(np.nonzero(keep)[0][-1]) + 1 if keep.any() else m
    bg = background[i : i + last * hop].astype(np.float64)
    p_speech = float(np.mean(bg**2)) + 1e-12
    ok = (p >= p.max() * 1e-3) & (trail >= p_speech * 10 ** (-AUDIBLE_BELOW_SPEECH_DB / 10))
    first = int(np.nonzero(ok)[0][0]) if ok.any() else int(np.argmax(p))
    return at_s + first * hop / SR


_CACHE: dict[tuple[int, object], list[DetectedEvent]] = {}


def _cached(
    it: Item, key: tuple[str, object], run: Callable[[FrameFeatures], list[DetectedEvent]]
) -> list[DetectedEvent]:
    """Detections of one detector on one item, memoised on the (frozen, hashable) params."""
    k = (id(it), key)
    if k not in _CACHE:
        _CACHE[k] = run(it.feats)
    return _CACHE[k]


def detect_all(
    items: list[Item],
    imp: ImpulsiveParams,
    sus: SustainedParams,
    mus: MusicParams,
    which: tuple[str, ...] = ("imp", "sus", "mus"),
) -> list[list[tuple[str, float]]]:
    dets = []
    for it in items:
        evs: list[DetectedEvent] = []
        if "imp" in which or "sus" in which:  # sustained results depend on impulses (resolve)
            evs += _cached(it, ("imp", imp), lambda f: ImpulsiveDetector(imp).detect(feats=f))
        if "sus" in which:
            evs += SustainedDetector(sus).detect(feats=it.feats)
        if "mus" in which:
            evs += _cached(it, ("mus", mus), lambda f: MusicDetector(mus).detect(feats=f))
        dets.append([(e.label, e.start_s) for e in resolve(evs)])
    return dets


def detect_trained(
    items: list[Item],
    model: EventClassifier,
    imp: ImpulsiveParams,
    sus: SustainedParams,
    mus: MusicParams,
) -> tuple[list[list[tuple[str, float]]], list[list[tuple[str, float]]]]:
    """Detections of the default configuration (each label from the layer the model's
    routing names, plus the DSP music detector; as in the stage: a trained sustained event
    mostly covered by music is dropped, DSP events are resolved against the music), and of
    the trained layer alone (every label routed to it) for comparison."""
    det = TrainedDetector(model, dsp=(imp, sus))
    routed, alone = [], []
    everything = {lab: "dsp-trained" for lab in det.routing}
    for it in items:
        trained, dsp = det.detect_layers(feats=it.feats)
        music = MusicDetector(mus).detect(feats=it.feats)
        for out, routing in ((routed, det.routing), (alone, everything)):
            evs = route(trained=trained, dsp=dsp, routing=routing)
            mixed = combine(
                [e for e in evs if e.layer == "dsp-trained"],
                resolve([*music, *(e for e in evs if e.layer != "dsp-trained")]),
            )
            out.append([(e.label, e.start_s) for e in mixed])
    return routed, alone


def score(items: list[Item], dets: list[list[tuple[str, float]]]) -> dict[str, dict[str, float]]:
    res: dict[str, dict[str, float]] = {}
    clean_h = sum(it.duration_s for it in items if it.kind == "clean") / 3600.0
    for lab in (*LABELS, *GROUPS):
        members = GROUPS.get(lab, (lab,))
        tp = fp = fn = 0
        clean_fp = distr_fp = 0
        n_distr = sum(1 for it in items if it.kind == "distractor")
        for it, d in zip(items, dets, strict=True):
            gt = [t for lb, t in it.truth if lb in members]
            pr = [t for lb, t in d if lb in members]
            used: set[int] = set()
            pairs = sorted(
                (abs(g - p), gi, pi) for gi, g in enumerate(gt) for pi, p in enumerate(pr)
            )
            matched_g: set[int] = set()
            for dist, gi, pi in pairs:
                if dist <= TOL and gi not in matched_g and pi not in used:
                    matched_g.add(gi)
                    used.add(pi)
            tp += len(matched_g)
            fn += len(gt) - len(matched_g)
            extra = len(pr) - len(used)
            if it.kind == "clean":
                clean_fp += extra
            elif it.kind == "distractor":
                distr_fp += extra
            else:
                fp += extra
        prec = tp / (tp + fp) if tp + fp else 1.0
        rec = tp / (tp + fn) if tp + fn else 1.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        res[lab] = {
            "precision": round(prec, 4),
            "recall": round(rec, 4),
            "f1": round(f1, 4),
            "events": tp + fn,
            "true_positives": tp,
            "false_positives": fp,
            "false_per_hour_clean_speech": round(clean_fp / clean_h, 3) if clean_h else 0.0,
            "false_per_distractor_clip": round(distr_fp / n_distr, 4) if n_distr else 0.0,
        }
    return res


def objective(res: dict[str, dict[str, float]], labels: tuple[str, ...]) -> float:
    f1 = float(np.mean([res[lab]["f1"] for lab in labels]))
    fa = sum(res[lab]["false_per_hour_clean_speech"] for lab in LABELS)
    return f1 - 0.01 * fa


def tune(train: list[Item], quick: bool) -> tuple[ImpulsiveParams, SustainedParams, MusicParams]:
    imp, sus, mus = ImpulsiveParams(), SustainedParams(), MusicParams()
    grid_imp = {
        "min_rise_db": [10.0, 12.0, 14.0],
        "min_band_fraction": [0.8, 0.85, 0.9],
        "min_sharpness_db": [0.0, 10.0, 15.0],
    }
    grid_cls = {
        "explosion_min_sustain": [0.8, 0.82, 0.84, 0.86, 0.88, 0.9],
        "explosion_min_vlf_share": [0.3, 0.45, 0.6, 0.8, 1.01],
    }
    grid_sus = {
        "min_excess_db": [12.0, 15.0, 18.0],
        "max_fluctuation_db": [9.0, 10.0],
        "aircraft_min_glide": [0.05, 1.0],
        "aircraft_min_centroid_hz": [450.0, 550.0, 650.0],
    }
    if quick:
        grid_imp = {k: v[:2] for k, v in grid_imp.items()}
        grid_sus = {k: v[:2] for k, v in grid_sus.items()}
    grid_mus = {
        "min_held_share": [0.1, 0.15, 0.2],
        "min_note_changes": [3, 4],
        "min_voicing": [0.4, 0.45, 0.5],
    }
    for grid, which, labels in (
        (grid_imp, "imp", ("gunfire", "explosion")),
        (grid_cls, "imp", ("gunfire", "explosion")),
        (grid_mus, "mus", ("music",)),
        (grid_sus, "sus", ("aircraft", "vehicle", "crowd")),
    ):
        best = -1e9
        base: object = {"imp": imp, "sus": sus, "mus": mus}[which]
        chosen = base
        for combo in itertools.product(*grid.values()):
            cand = replace(base, **dict(zip(grid.keys(), combo, strict=True)))  # type: ignore[type-var]
            if which == "imp":
                d = detect_all(train, cand, sus, mus, ("imp",))  # type: ignore[arg-type]
            elif which == "mus":
                d = detect_all(train, imp, sus, cand, ("mus",))  # type: ignore[arg-type]
            else:
                d = detect_all(train, imp, cand, mus, ("sus", "mus"))  # type: ignore[arg-type]
            val = objective(score(train, d), labels)
            if val > best:
                best, chosen = val, cand
        if which == "imp":
            imp = chosen  # type: ignore[assignment]
        elif which == "mus":
            mus = chosen  # type: ignore[assignment]
        else:
            sus = chosen  # type: ignore[assignment]
        print(f"tuned {list(grid)}: objective {best:.3f}", file=sys.stderr)
    return imp, sus, mus


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="validate the acoustic-event detectors")
    ap.add_argument("--quick", action="store_true", help="small sets and grids (smoke run)")
    ap.add_argument("--no-write", action="store_true", help="do not write calibration files")
    ap.add_argument("--seed", type=int, default=20261125)
    ap.add_argument(
        "--no-tune",
        action="store_true",
        help="skip the DSP grid search; use the thresholds in calibration/acoustic_events_dsp.json"
        " (tuned on the same train half by an earlier run)",
    )
    ap.add_argument(
        "--tune-only",
        action="store_true",
        help="grid-search the DSP thresholds on the train half and write them (with train-half "
        "figures only) to calibration/acoustic_events_dsp.json; the validation half is not "
        "built. A later --no-tune run scores the validation half with them",
    )
    args = ap.parse_args(argv)
    if not (SFX / "manifest.json").is_file():
        print("run benchmarks/fetch_sfx.py first", file=sys.stderr)
        return 2
    rng = np.random.default_rng(args.seed)
    reps = 2 if args.quick else 6
    dur = 12.0
    clips = load_clips()
    # synthetic chant as the music material in addition to the one real music clip
    clips.setdefault("music", []).extend(
        (f"synth_chant_{i}", chant(sr=SR, rng=rng, duration_s=6.0, f0=float(f0)))
        for i, f0 in enumerate((150, 190, 230, 260))
    )
    tr_clips, va_clips = split(clips)
    n_fsdd = 6 if args.quick else 20
    bgs_tr = backgrounds(rng, n_fsdd, dur)
    bgs_va = backgrounds(rng, n_fsdd, dur)
    train = build(rng, tr_clips, bgs_tr, reps)
    train += [Item(compute_features(y=b, sr=SR), [], "clean", dur) for b in bgs_tr]
    if args.tune_only:
        imp, sus, mus = tune(train, args.quick)
        res_tr = score(train, detect_all(train, imp, sus, mus))
        print(json.dumps({"train_dsp_only": res_tr}, indent=1))
        if not args.no_write:
            CALIB.mkdir(parents=True, exist_ok=True)
            _write(
                "acoustic_events_dsp",
                "DSP thresholds tuned on the train half; validation figures pending (run "
                "benchmarks/validate_events.py --no-tune)",
                {f"train_{lab}_{k}": float(v) for lab in LABELS for k, v in res_tr[lab].items()},
                f"train half only ({len(train)} items); seed {args.seed}",
                dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                {"impulsive": asdict(imp), "sustained": asdict(sus), "music": asdict(mus)},
            )
        return 0
    val = build(rng, va_clips, bgs_va, reps)
    clean_va = backgrounds(rng, 6 * n_fsdd, dur)
    val += [Item(compute_features(y=b, sr=SR), [], "clean", dur) for b in bgs_va + clean_va]
    print(f"train {len(train)} items, validation {len(val)} items", file=sys.stderr)
    if args.no_tune:
        from earwitness.events.stage import calibrated_params

        imp, sus, mus = calibrated_params()
    else:
        imp, sus, mus = tune(train, args.quick)
    res_dsp = score(val, detect_all(val, imp, sus, mus))
    res_dsp_train = score(train, detect_all(train, imp, sus, mus))
    model = EventClassifier.load()
    det_val, det_val_alone = detect_trained(val, model, imp, sus, mus)
    res, res_alone = score(val, det_val), score(val, det_val_alone)
    det_train, det_train_alone = detect_trained(train, model, imp, sus, mus)
    res_train, res_train_alone = score(train, det_train), score(train, det_train_alone)
    routing = TrainedDetector(model, dsp=(imp, sus)).routing
    clean_min = sum(it.duration_s for it in val if it.kind == "clean") / 60.0
    n_events = sum(len(it.truth) for it in val)
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    dataset = (
        f"validation half: {n_events} events from real sound effects "
        f"(openttd-opensfx, teeworlds-data, openarena-data, warzone2100-data, hedgewars-data, "
        f"btanks-data, freedoom, bzflag-data, chromium-bsu-data, alienblaster-data, "
        f"scorched3d-data, warmux-data, gl-117-data; synthetic "
        f"chant for music) "
        f"mixed at 0-15 dB event-to-speech ratio into speech (jfk, hotwords, FSDD, "
        f"babble), plus {clean_min:.1f} min of clean speech; DSP thresholds tuned and the "
        f"event classifier trained on a disjoint train half of the clips (split by source "
        f"package per label); ground-truth onset where the event becomes audible over the "
        f"speech (within {AUDIBLE_BELOW_SPEECH_DB:.0f} dB of its mean power); onset tolerance "
        f"{TOL} s; seed {args.seed}"
    )
    params = {"impulsive": asdict(imp), "sustained": asdict(sus), "music": asdict(mus)}
    params_trained = {
        "classifier": str(model.meta.get("name")),
        "classifier_trained_at": model.meta.get("trained_at"),
        "proposal": dict(model.proposal),
        "routing": dict(routing),
        "routing_selected_on": model.meta.get("routing", {}).get("selected_on"),
        "music": asdict(mus),
    }
    if "dsp" in routing.values():
        params_trained["dsp_params"] = {"impulsive": asdict(imp), "sustained": asdict(sus)}
    out = {
        "validation": res,
        "train": res_train,
        "validation_trained_only": res_alone,
        "train_trained_only": res_train_alone,
        "validation_dsp_only": res_dsp,
        "train_dsp_only": res_dsp_train,
        "params_trained": params_trained,
        "params": params,
        "dataset": dataset,
        "measured_at": now,
        "clean_speech_min": round(clean_min, 2),
    }
    print(json.dumps(out, indent=1))
    if args.no_write:
        return 0
    CALIB.mkdir(parents=True, exist_ok=True)
    figures_all = {
        f"{lab}_{k}": float(v) for lab in (*LABELS, *GROUPS) for k, v in res_dsp[lab].items()
    }
    fa_total = sum(res_dsp[lab]["false_per_hour_clean_speech"] for lab in LABELS)
    _write(
        "acoustic_events_dsp",
        f"on the validation set the DSP event detectors raise {fa_total:.1f} false events "
        f"per hour of clean speech ({round(fa_total * clean_min / 60)} in {clean_min:.0f} min); "
        f"detection of impulsive events (either label) F1 {res_dsp['impulsive_any']['f1']:.2f}; "
        f"gunfire F1 {res_dsp['gunfire']['f1']:.2f}, explosion F1 "
        f"{res_dsp['explosion']['f1']:.2f}, aircraft F1 {res_dsp['aircraft']['f1']:.2f} "
        "(DSP layer alone; the default trained layer has its own figures per label)",
        {**figures_all, "false_per_hour_clean_speech_total": fa_total},
        dataset,
        now,
        params,
    )
    fa_trained = sum(res[lab]["false_per_hour_clean_speech"] for lab in LABELS)
    _write(
        "acoustic_events_trained",
        f"on the validation set the default configuration (per-label routing "
        f"{', '.join(f'{k}: {v}' for k, v in routing.items())}, chosen by grouped CV on the "
        f"train half) raises {fa_trained:.1f} false events "
        f"per hour of clean speech; gunfire F1 {res['gunfire']['f1']:.2f}, explosion F1 "
        f"{res['explosion']['f1']:.2f}, aircraft F1 {res['aircraft']['f1']:.2f} (trained layer "
        f"alone: {res_alone['gunfire']['f1']:.2f}, {res_alone['explosion']['f1']:.2f}, "
        f"{res_alone['aircraft']['f1']:.2f}; DSP layer "
        f"alone: {res_dsp['gunfire']['f1']:.2f}, {res_dsp['explosion']['f1']:.2f}, "
        f"{res_dsp['aircraft']['f1']:.2f})",
        {
            **{f"{lab}_{k}": float(v) for lab in (*LABELS, *GROUPS) for k, v in res[lab].items()},
            **{
                f"trained_only_{lab}_{k}": float(v)
                for lab in (*LABELS, *GROUPS)
                for k, v in res_alone[lab].items()
            },
            "false_per_hour_clean_speech_total": fa_trained,
        },
        dataset,
        now,
        params_trained,
    )
    for lab in LABELS:
        r = res[lab]
        layer = (
            "DSP music detector"
            if lab == "music"
            else "DSP layer (routed by grouped CV on the train half)"
            if routing.get(lab) == "dsp"
            else "trained event layer"
        )
        _write(
            f"acoustic_events_{lab}",
            f"on the validation set the {layer} finds {100 * r['recall']:.0f}% of "
            f"{lab} events (onset within {TOL} s), {100 * r['precision']:.0f}% of its "
            f"{lab} findings are right, and it raises {r['false_per_hour_clean_speech']:.1f} "
            f"false {lab} findings per hour of clean speech "
            f"({round(r['false_per_hour_clean_speech'] * clean_min / 60)} in {clean_min:.0f} min; "
            f"{int(r['events'])} validation events, game/library sound effects)",
            {
                **{k: float(v) for k, v in r.items()},
                **{f"dsp_only_{k}": float(v) for k, v in res_dsp[lab].items()},
                **{f"trained_only_{k}": float(v) for k, v in res_alone[lab].items()},
            },
            dataset,
            now,
            params_trained,
        )
    return 0


def _write(
    name: str,
    summary: str,
    figures: dict[str, float],
    dataset: str,
    now: str,
    params: dict[str, object],
) -> None:
    data = {
        "detector": name,
        "summary": summary,
        "figures": figures,
        "dataset": dataset,
        "produced_by": "benchmarks/validate_events.py",
        "measured_at": now,
        "params": params,
    }
    (CALIB / f"{name}.json").write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    raise SystemExit(main())
