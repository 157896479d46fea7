"""Fit the speaker score-to-LLR calibration and write src/earwitness/calibration/speaker_llr.json.

Method: linear logistic-regression calibration of cosine scores (Brümmer & du Preez 2006,
"Application-independent evaluation of speaker detection", Computer Speech & Language 20),
with Cllr (same paper) and EER measured on held-out trials. |LLR| is capped at ln(n), n the
number of held-out trials of the scarcer class (no LR beyond n can be checked with n trials).

Data: the Free Spoken Digit Dataset speakers in ../shared/corpus/fsdd (george, jackson, lucas;
English digits, 8 kHz). Single digits are 0.3-0.7 s, so "recordings" are concatenations of
``--group`` clips of one speaker. Split: utterance-disjoint (clip numbers 0-24 fit the
calibration, 25-49 are held out). With only 3 speakers a speaker-disjoint split cannot have
both target and non-target trials, so a leave-one-speaker-out check is reported as well: fit
on the trials not involving speaker X, test on the trials involving X (held-out half). Extra
non-target trials against the other corpus talkers (jfk.flac, hotwords.mp3, both channels of
stereo_diarization.flac) are scored as a cross-corpus check.

Extra different-speaker trials (optional, on by default when present): sentences by 13
Festival voices in 6 languages made by benchmarks/speaker_data.py (sentences 0-5 fit, 6+ held
out). They are synthetic, so they enter only as *different-speaker* trials (voice vs voice and
voice vs FSDD); they widen the non-target population from 3 speaker pairs to over 100.

Usage: .venv/bin/python benchmarks/calibrate_speakers.py [--corpus DIR] [--group 5] [--no-extra]
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from earwitness.decode import load_audio
from earwitness.speakers.calibration import (
    DETECTOR,
    LinearCalibration,
    cllr,
    eer,
    fit_linear_calibration,
    min_cllr,
)
from earwitness.speakers.embedder import get_embedder
from earwitness.speakers.validate import (
    embed_group,
    group_recordings,
    labelled_files,
    trial_scores,
)
from earwitness.speakers.windows import embed_recording

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src" / "earwitness" / "calibration" / f"{DETECTOR}.json"


def clip_number(p: Path) -> int:
    return int(p.stem.split("_")[-1])


def embed_half(files: list[tuple[Path, str]], group: int, seed: int, emb: object):
    groups = group_recordings(files, group=group, seed=seed)
    vecs = np.stack([embed_group(paths, embedder=emb)[0] for _, paths in groups])  # type: ignore[arg-type]
    return vecs, [s for s, _ in groups]


def other_talkers(corpus: Path, emb: object) -> dict[str, list[np.ndarray]]:
    """Speaker vectors of the non-FSDD corpus talkers (2.5 s pieces)."""
    sr = 16000
    out: dict[str, list[np.ndarray]] = {}
    pieces: dict[str, list[np.ndarray]] = {}
    jfk = load_audio(corpus / "jfk.flac", sr=sr).samples
    pieces["jfk"] = [jfk[i : i + int(2.5 * sr)] for i in range(0, len(jfk) - sr, int(2.5 * sr))]
    pieces["hotwords"] = [load_audio(corpus / "hotwords.mp3", sr=sr).samples]
    st = load_audio(corpus / "stereo_diarization.flac", sr=sr, mono=False).samples
    pieces["stereo_ch0"] = [st[0, int(2.6 * sr) : int(4.8 * sr)]]
    pieces["stereo_ch1"] = [st[1, int(0.3 * sr) : int(2.4 * sr)]]
    for name, ys in pieces.items():
        out[name] = [embed_recording(y=y, sr=sr, embedder=emb)[0] for y in ys]  # type: ignore[arg-type]
    return out


def figures(cal, tgt: np.ndarray, non: np.ndarray) -> dict[str, float]:  # type: ignore[no-untyped-def]
    return {
        "eer": eer(target_scores=tgt, nontarget_scores=non),
        "cllr": cllr(target_llrs=cal.llr(tgt), nontarget_llrs=cal.llr(non)),
        "min_cllr": min_cllr(target_scores=tgt, nontarget_scores=non),
        "target_trials": float(len(tgt)),
        "nontarget_trials": float(len(non)),
    }


def extra_nontargets(vx: np.ndarray, lx: list[str], v: np.ndarray) -> np.ndarray:
    """Different-speaker scores: extra voices against each other and against FSDD vectors."""
    if len(vx) == 0:
        return np.zeros(0)
    _, among = trial_scores(vectors=vx, labels=lx)
    return np.concatenate([among, (vx @ v.T).ravel()])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    ap.add_argument("--group", type=int, default=5, help="FSDD clips per recording")
    ap.add_argument("--seed", type=int, default=20261125)
    ap.add_argument("--extra", type=Path, default=ROOT / "benchmarks" / "data" / "festvox")
    ap.add_argument("--no-extra", action="store_true", help="FSDD trials only")
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    emb = get_embedder()
    files = labelled_files(args.corpus / "fsdd")
    fit_files = [(p, s) for p, s in files if clip_number(p) < 25]
    held_files = [(p, s) for p, s in files if clip_number(p) >= 25]
    print(f"embedding {len(files)} FSDD clips in groups of {args.group}...", file=sys.stderr)
    v_fit, l_fit = embed_half(fit_files, args.group, args.seed, emb)
    v_held, l_held = embed_half(held_files, args.group, args.seed + 1, emb)
    t_fit, n_fit = trial_scores(vectors=v_fit, labels=l_fit)
    t_held, n_held = trial_scores(vectors=v_held, labels=l_held)
    fsdd_only = fit_linear_calibration(target_scores=t_fit, nontarget_scores=n_fit)
    fsdd_only_held = figures(fsdd_only, t_held, n_held)

    extra_desc = ""
    if not args.no_extra and args.extra.is_dir():
        xf = labelled_files(args.extra)
        print(f"embedding {len(xf)} extra-voice files...", file=sys.stderr)
        vx = np.stack([embed_group([p], embedder=emb)[0] for p, _ in xf])
        lx = [s for _, s in xf]
        fit_m = np.array([clip_number(p) < 6 for p, _ in xf])
        n_fit = np.concatenate(
            [
                n_fit,
                extra_nontargets(
                    vx[fit_m], [x for x, m in zip(lx, fit_m, strict=True) if m], v_fit
                ),
            ]
        )
        n_held = np.concatenate(
            [
                n_held,
                extra_nontargets(
                    vx[~fit_m], [x for x, m in zip(lx, fit_m, strict=True) if not m], v_held
                ),
            ]
        )
        extra_desc = (
            f"; different-speaker trials also from {len(set(lx))} Festival synthetic voices "
            "(English, Czech, Finnish, Italian, Catalan, Russian; benchmarks/speaker_data.py), "
            "voice vs voice and voice vs FSDD"
        )
    cal0 = fit_linear_calibration(target_scores=t_fit, nontarget_scores=n_fit)
    bound = math.log(min(len(t_held), len(n_held)))
    cal = LinearCalibration(slope=cal0.slope, offset=cal0.offset, bound=bound)
    held = figures(cal, t_held, n_held)
    fit = figures(cal, t_fit, n_fit)

    # Leave one speaker out: fit without any trial of X, test on the held-out trials with X.
    loso: dict[str, dict[str, float]] = {}
    lf, lh = np.asarray(l_fit), np.asarray(l_held)
    for spk in sorted(set(l_fit)):
        keep = lf != spk
        tk, nk = trial_scores(vectors=v_fit[keep], labels=list(lf[keep]))
        c = fit_linear_calibration(target_scores=tk, nontarget_scores=nk)
        s = v_held @ v_held.T
        i, j = np.triu_indices(len(v_held), 1)
        inv = (lh[i] == spk) | (lh[j] == spk)
        same = lh[i] == lh[j]
        tt, nn = s[i, j][inv & same], s[i, j][inv & ~same]
        fig = figures(c, tt, nn)
        loso[spk] = {
            "eer": round(fig["eer"], 4),
            "cllr": round(fig["cllr"], 4),
            "slope": round(c.slope, 4),
            "offset": round(c.offset, 4),
        }

    cross: dict[str, float] = {}
    try:
        others = other_talkers(args.corpus, emb)
        xs = np.array([float(v @ w) for vs in others.values() for v in vs for w in v_held])
        xl = cal.llr(xs)
        cross = {
            "cross_corpus_nontarget_trials": float(len(xs)),
            "cross_corpus_false_support_rate": float(np.mean(xl > 0)),
            "cross_corpus_mean_llr": float(np.mean(xl)),
        }
    except Exception as exc:  # the extra talkers are optional; say so in the output
        print(f"cross-corpus check skipped: {exc}", file=sys.stderr)

    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    dataset = (
        f"Free Spoken Digit Dataset (3 speakers: george, jackson, lucas; English digits, 8 kHz "
        f"upsampled to 16 kHz), recordings of {args.group} concatenated digits (about "
        f"{args.group * 0.45:.0f} s of speech); utterance-disjoint split, clips 0-24 fit / "
        f"25-49 held out{extra_desc}"
    )
    summary = (
        f"On held-out trials (same-speaker: 3 English FSDD talkers, 8 kHz, about "
        f"{args.group * 0.45:.0f} s each; different-speaker: FSDD"
        f"{' and synthetic voices' if extra_desc else ''}) the calibrated LLRs gave EER "
        f"{100 * held['eer']:.1f}% and Cllr {held['cllr']:.3f} bits "
        f"({int(held['target_trials'])} same-speaker, {int(held['nontarget_trials'])} "
        "different-speaker trials); with only 3 real calibration speakers these figures are "
        "indicative, not a validation for casework."
    )
    data = {
        "detector": DETECTOR,
        "summary": summary,
        "figures": {
            **{k: round(v, 5) for k, v in held.items()},
            "fit_eer": round(fit["eer"], 5),
            "fit_cllr": round(fit["cllr"], 5),
            "fsdd_only_eer": round(fsdd_only_held["eer"], 5),
            "fsdd_only_cllr": round(fsdd_only_held["cllr"], 5),
            "loso_max_eer": max(v["eer"] for v in loso.values()),
            "loso_max_cllr": max(v["cllr"] for v in loso.values()),
            **{k: round(v, 5) for k, v in cross.items()},
        },
        "dataset": dataset,
        "produced_by": f"benchmarks/calibrate_speakers.py (git {commit or 'unknown'})",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "params": {
            "slope": round(cal.slope, 6),
            "offset": round(cal.offset, 6),
            "llr_bound": round(bound, 4),
            "llr_base": "natural log",
            "score": "cosine of unit mean GE2E vectors (recording vs recording)",
            "prior": 0.5,
            "method": "linear logistic regression, Brümmer & du Preez 2006",
            "embedder": emb.name,
            "embedder_version": emb.version,
            "group": args.group,
            "seed": args.seed,
            "fsdd_only_fit": {
                "slope": round(fsdd_only.slope, 4),
                "offset": round(fsdd_only.offset, 4),
            },
            "leave_one_speaker_out": loso,
        },
    }
    args.out.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(data["figures"], indent=2))
    print(
        f"slope {cal.slope:.3f} offset {cal.offset:.3f} bound {bound:.2f}; wrote {args.out}",
        file=sys.stderr,
    )
    return 0 if math.isfinite(held["cllr"]) else 1


if __name__ == "__main__":
    sys.exit(main())
