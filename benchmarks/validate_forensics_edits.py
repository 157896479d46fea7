"""Validation of the edit-point detector (see ``validate_forensics.py``)."""

from __future__ import annotations

import argparse
import dataclasses
from dataclasses import dataclass

import numpy as np

import validate_forensics_data as D
from earwitness.forensics.edits import EditParams, EditPoint, find_edit_points
from earwitness.synth import forensics as F
from validate_forensics_common import pct, post_process, write_calibration

SR = 16000
ITEM_S = 40.0
TOL_S = 0.5  # a detection within this of a true instant counts as a hit
POST = ("none", "gain", "mp3_96")
KINDS = ("splice", "insert", "deletion_hum", "silence", "dc")
SIGNALS = ("noise_floor_db", "noise_spectrum_db", "dc_offset", "enf_phase_rad", "hum_level_db")
FIELD = {
    "noise_floor_db": "floor_threshold_db",
    "noise_spectrum_db": "spectrum_threshold_db",
    "dc_offset": "dc_threshold",
    "enf_phase_rad": "enf_threshold_rad",
    "hum_level_db": "hum_level_threshold_db",
}
MARGIN = 1.25  # over the largest change seen on calibration controls
LOW = EditParams(
    floor_threshold_db=3.0,
    spectrum_threshold_db=2.5,
    dc_threshold=0.0015,
    enf_threshold_rad=0.3,
    hum_level_threshold_db=4.0,
)


@dataclass
class Item:
    kind: str
    y: np.ndarray
    truth: list[float]
    hum: bool
    post: str


def recording(rng: np.random.Generator, *, hum: bool, duration_s: float = ITEM_S) -> np.ndarray:
    # one quiet-floored FSDD speaker only: the clips' own noise stays >= 15 dB under the
    # continuous background, so an unedited item really has one continuous floor
    level = float(rng.uniform(-50, -30))
    y = D.speech_recording(
        rng=rng, sr=SR, duration_s=duration_s, speaker="lucas", level_db=level, use_long=False
    )
    if hum:  # audible hum: its fundamental 0-15 dB above the broadband noise RMS
        y = y + F.hum(
            sr=SR,
            duration_s=duration_s,
            rng=rng,
            freq=float(rng.choice([50.0, 60.0])),
            amp=10 ** ((level + rng.uniform(0, 15)) / 20) * np.sqrt(2),
            harmonics=int(rng.integers(1, 4)),
        )
    return y


def make_item(rng: np.random.Generator, kind: str) -> Item:
    hum = kind == "deletion_hum" or (kind != "deletion_nohum" and bool(rng.random() < 0.5))
    a = recording(rng, hum=hum, duration_s=ITEM_S + 5)
    t = float(rng.uniform(8, ITEM_S - 8))
    truth: list[float]
    if kind == "splice":
        b = recording(rng, hum=hum and rng.random() < 0.7)
        y, tr = F.splice(a=a, b=b, at_a_s=t, from_b_s=float(rng.uniform(0, 3)), sr=SR)
        truth = [tr.t_s]
    elif kind == "insert":
        c = recording(rng, hum=hum and rng.random() < 0.7, duration_s=8)
        length = float(rng.uniform(2, 5))
        s = float(rng.uniform(0.5, 2.5))
        seg = c[int(s * SR) : int((s + length) * SR)]
        i = int(t * SR)
        y = np.concatenate([a[:i], seg, a[i:]])
        truth = [i / SR, (i + seg.size) / SR]
    elif kind in ("deletion_hum", "deletion_nohum"):
        y, tr = F.delete(y=a, sr=SR, start_s=t, length_s=float(rng.uniform(0.3, 3.0)))
        truth = [tr.t_s]
    elif kind == "silence":
        y, trs = F.insert_silence(y=a, sr=SR, at_s=t, length_s=float(rng.uniform(0.05, 1.0)))
        truth = [x.t_s for x in trs]
    else:
        off = float(rng.uniform(0.005, 0.03)) * float(rng.choice([-1, 1]))
        y, tr = F.dc_jump(y=a, sr=SR, at_s=t, offset=off)
        truth = [tr.t_s]
    y = y[: int(ITEM_S * SR)]
    post = str(rng.choice(POST))
    return Item(kind=kind, y=post_process(y, SR, post, rng), truth=truth, hum=hum, post=post)


def make_clean(rng: np.random.Generator, i: int) -> Item:
    hum = i % 2 == 0
    post = str(rng.choice(POST))
    y = post_process(recording(rng, hum=hum), SR, post, rng)
    return Item(kind="clean", y=y, truth=[], hum=hum, post=post)


def _keep(pt: EditPoint, thr: dict[str, float]) -> bool:
    if "digital_silence" in pt.triggered_by:
        return True
    for s in SIGNALS:
        ev = pt.evidence.get(s)
        if ev is not None and ev["change"] is not None and abs(ev["change"]) >= thr[s]:
            return True
    return False


def score(items: list[Item], points: list[list[EditPoint]]) -> dict[str, float]:
    tp = fn = fp = 0
    errs: list[float] = []
    for it, pts in zip(items, points, strict=True):
        free = list(pts)
        for t in it.truth:
            best = min(free, key=lambda p: abs(p.t_s - t), default=None)
            if best is not None and abs(best.t_s - t) <= TOL_S:
                tp += 1
                errs.append(abs(best.t_s - t))
                free.remove(best)
            else:
                fn += 1
        fp += len(free)
    return {
        "tp": tp,
        "fn": fn,
        "fp": fp,
        "recall": tp / max(1, tp + fn),
        "precision": tp / max(1, tp + fp),
        "median_error_s": float(np.median(errs)) if errs else float("nan"),
        "p90_error_s": float(np.percentile(errs, 90)) if errs else float("nan"),
    }


def run(args: argparse.Namespace) -> None:
    rng = np.random.default_rng(args.seed + 1)
    n_per_kind = max(2, int(16 * args.scale))
    n_clean = max(4, int(90 * args.scale))
    manip = [make_item(rng, k) for _ in range(n_per_kind) for k in KINDS]
    extra = [make_item(rng, "deletion_nohum") for _ in range(max(1, n_per_kind // 2))]
    for it in extra:  # a cut inside one recording with no hum: reported separately
        it.kind = "deletion_nohum"
    clean = [make_clean(rng, i) for i in range(n_clean)]
    val_m = manip[1::2]  # the edited calibration half is not needed to set thresholds
    cal_c, val_c = clean[0::2], clean[1::2]
    # 1. thresholds from the calibration half: no false finding from any signal on clean items
    low_pts = [find_edit_points(y=it.y, sr=SR, params=LOW)[0] for it in cal_c]
    thr: dict[str, float] = {}
    for s in SIGNALS:
        vals = [
            abs(p.evidence[s]["change"])
            for pts in low_pts
            for p in pts
            if s in p.evidence and p.evidence[s]["change"] is not None
        ]
        base = getattr(LOW, FIELD[s])
        thr[s] = float(max([base, *vals]) * MARGIN)
    params = dataclasses.replace(EditParams(), **{FIELD[s]: round(thr[s], 4) for s in SIGNALS})
    # 2. held-out figures with the chosen parameters
    pts_m = [find_edit_points(y=it.y, sr=SR, params=params)[0] for it in val_m]
    pts_c = [find_edit_points(y=it.y, sr=SR, params=params)[0] for it in val_c]
    pts_x = [find_edit_points(y=it.y, sr=SR, params=params)[0] for it in extra]
    sm = score(val_m, pts_m)
    sc = score(val_c, pts_c)
    minutes = len(val_c) * ITEM_S / 60
    per10 = sc["fp"] / minutes * 10
    figures: dict[str, float] = {
        "recall": sm["recall"],
        "precision": sm["precision"],
        "false_per_10min_clean": per10,
        "false_findings_clean_heldout": sc["fp"],
        "clean_minutes_heldout": minutes,
        "median_localisation_error_s": sm["median_error_s"],
        "p90_localisation_error_s": sm["p90_error_s"],
        "true_edit_points_heldout": sm["tp"] + sm["fn"],
        "recall[deletion_nohum]": score(extra, pts_x)["recall"],
    }
    for k in KINDS:
        idx = [i for i, it in enumerate(val_m) if it.kind == k]
        s = score([val_m[i] for i in idx], [pts_m[i] for i in idx])
        figures[f"recall[{k}]"] = s["recall"]
        figures[f"median_error_s[{k}]"] = s["median_error_s"]
    summary = (
        f"On the held-out validation set this detector finds {pct(sm['recall'])} of edit points "
        f"(splices, inserts, cuts under mains hum, inserted silence, DC jumps; median "
        f"localisation error {1000 * sm['median_error_s']:.0f} ms) and raises {per10:.2f} false "
        f"findings per 10 minutes of unedited speech. Cuts inside one recording without hum "
        f"were found {pct(figures['recall[deletion_nohum]'])} of the time."
    )
    dataset = (
        f"{len(manip)} edited 40 s items ({n_per_kind} each of {KINDS}) and {n_clean} unedited "
        f"40 s items of real speech (FSDD speaker lucas, whose clip noise is >= 15 dB under "
        f"the bed) over continuous noise at -50..-30 dBFS, half "
        f"with audible 50/60 Hz hum (wandering ENF, fundamental 0-15 dB above the noise "
        f"RMS); whole-file post-processing one of {POST}. "
        f"Thresholds: the smallest with no false finding on the even (calibration) clean "
        f"items ({len(cal_c) * ITEM_S / 60:.0f} min); figures on the odd items. "
        f"{D.SPEECH_LICENCE}."
    )
    write_calibration(
        "edit_points",
        summary=summary,
        figures=figures,
        dataset=dataset,
        params=params,
        write=not args.no_write,
    )
