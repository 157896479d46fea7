"""Validation of the duplicated-segments detector (see ``validate_forensics.py``)."""

from __future__ import annotations

import argparse
import dataclasses
from dataclasses import dataclass

import numpy as np
from scipy import signal as sps

import validate_forensics_data as D
from earwitness.fingerprint.selfmatch import self_match
from earwitness.forensics.duplicates import (
    DuplicateMatch,
    DuplicateParams,
    find_duplicates,
    group_occurrences,
)
from validate_forensics_common import frac_overlap, pct, post_process, write_calibration

SR = 16000
ITEM_S = 45.0
POST = ("none", "gain", "lowpass", "eq", "mp3_64", "mp3_96")
FLOOR = 0.3  # matches are collected down to this coherence, then thresholds are swept
GRID = tuple(round(x, 2) for x in (*np.arange(0.35, 0.8, 0.05), *np.arange(0.8, 0.991, 0.01)))


@dataclass
class Item:
    kind: str
    y: np.ndarray
    truth: list[tuple[tuple[float, float], list[tuple[float, float]]]]  # (copy, occurrences)
    post: str


def _positions(rng: np.random.Generator, k: int, length_s: float) -> list[float]:
    while True:
        t = np.sort(rng.uniform(1.0, ITEM_S - length_s - 1.0, k))
        if np.all(np.diff(t) > length_s + 0.5):
            return [float(v) for v in t]


def _audible(snd: np.ndarray) -> tuple[int, int]:
    """First and last sample where the sound's envelope is within 40 dB of its peak."""
    env = np.convolve(np.abs(sps.hilbert(snd)), np.ones(160) / 160, "same")
    idx = np.nonzero(env > env.max() * 0.01)[0]
    return int(idx[0]), int(idx[-1])


def make_sfx_item(rng: np.random.Generator) -> Item:
    sounds = [(n, s) for n, s in D.sfx(SR) if _audible(s)[1] - _audible(s)[0] >= 0.35 * SR]
    name, snd = sounds[int(rng.integers(len(sounds)))]
    bed = D.speech_recording(rng=rng, sr=SR, duration_s=ITEM_S)
    k = int(rng.integers(2, 5))
    at = _positions(rng, k, snd.size / SR)
    y = bed.copy()
    spans = []
    aud = _audible(snd)
    for i, t in enumerate(at):
        s = snd * 10 ** (rng.uniform(-6, 6) / 20)
        if i > 0 and rng.random() < 0.5:  # the copy was processed before pasting
            sos = sps.butter(2, rng.uniform(2500, 6000), "lowpass", fs=SR, output="sos")
            s = sps.sosfilt(sos, s)
        a = int(t * SR)
        y[a : a + s.size] += s.astype(np.float32)
        spans.append(((a + aud[0]) / SR, (a + aud[-1]) / SR))
    truth = [(spans[i], spans[:i]) for i in range(1, k)]
    post = str(rng.choice(POST))
    return Item(kind=f"sfx:{name}", y=post_process(y, SR, post, rng), truth=truth, post=post)


def make_phrase_item(rng: np.random.Generator) -> Item:
    y = D.speech_recording(rng=rng, sr=SR, duration_s=ITEM_S)
    length = float(rng.uniform(0.5, 2.0))
    src, dst = _positions(rng, 2, length)
    if rng.random() < 0.5:
        src, dst = dst, src
    a, b = int(src * SR), int(dst * SR)
    n = int(length * SR)
    y[b : b + n] = y[a : a + n]
    first, second = sorted([(src, src + length), (dst, dst + length)])
    post = str(rng.choice(POST))
    return Item(
        kind="phrase", y=post_process(y, SR, post, rng), truth=[(second, [first])], post=post
    )


def make_clean_items(rng: np.random.Generator, n: int) -> list[Item]:
    items = []
    for i in range(n):
        kind = ("speech", "repeated_digit", "rhythmic")[i % 3]
        if kind == "rhythmic":
            y = D.speech_recording(rng=rng, sr=SR, duration_s=ITEM_S)
            from earwitness.synth.forensics import rhythmic_noise

            y = y + rhythmic_noise(
                sr=SR,
                rng=rng,
                duration_s=ITEM_S,
                period_s=float(rng.uniform(0.3, 1.0)),
                amp=float(rng.uniform(0.05, 0.3)),
            )
        else:
            y = D.speech_recording(
                rng=rng, sr=SR, duration_s=ITEM_S, repeat_digit=kind == "repeated_digit"
            )
        post = str(rng.choice(POST))
        items.append(Item(kind=kind, y=post_process(y, SR, post, rng), truth=[], post=post))
    return items


def _score(items: list[Item], matches: list[list[DuplicateMatch]], thr: float) -> dict[str, float]:
    tp = fn = fp = 0
    loc: list[float] = []
    for it, ms in zip(items, matches, strict=True):
        occ = group_occurrences([m for m in ms if m.coherence >= thr])
        used = [False] * len(occ)
        for copy, earlier in it.truth:
            hit = None
            for j, o in enumerate(occ):
                if frac_overlap((o.start_s, o.end_s), copy) > 0.5 and any(
                    frac_overlap((o.source_start_s, o.source_end_s), e) > 0.5 for e in earlier
                ):
                    hit = j
                    break
            if hit is None:
                fn += 1
            else:
                tp += 1
                used[hit] = True
                loc.append(abs(occ[hit].start_s - copy[0]))
        # a finding that matches a copy of a true group but is not itself listed (e.g. copy 3
        # sourced from copy 2) is not false; only findings on no truth span are
        for j, o in enumerate(occ):
            if used[j]:
                continue
            # a finding inside pasted material (e.g. a sample that repeats itself internally)
            # is a real repetition the labels do not list: neither a hit nor a false finding
            spans = [c for c, _ in it.truth] + [e for _, es in it.truth for e in es]
            inside = any(frac_overlap((o.start_s, o.end_s), s) > 0 for s in spans) and any(
                frac_overlap((o.source_start_s, o.source_end_s), s) > 0 for s in spans
            )
            if not inside:
                fp += 1
    return {
        "tp": tp,
        "fn": fn,
        "fp": fp,
        "recall": tp / max(1, tp + fn),
        "precision": tp / max(1, tp + fp),
        "median_start_error_s": float(np.median(loc)) if loc else float("nan"),
    }


def _detect(items: list[Item], p: DuplicateParams, use_sm: bool) -> list[list[DuplicateMatch]]:
    out = []
    for it in items:
        extra = []
        if use_sm:
            for m in self_match(y=it.y, sr=SR, min_duration_s=p.min_duration_s):
                if abs(m.speed - 1.0) < 1e-3:
                    extra.append((m.src_start_s, m.src_end_s, m.copy_start_s - m.src_start_s))
        out.append(find_duplicates(y=it.y, sr=SR, params=p, candidates=extra))
    return out


def run(args: argparse.Namespace) -> None:
    rng = np.random.default_rng(args.seed)
    n_man = max(4, int(60 * args.scale))
    n_clean = max(6, int(120 * args.scale))
    manip = [make_sfx_item(rng) if i % 3 else make_phrase_item(rng) for i in range(n_man)]
    clean = make_clean_items(rng, n_clean)
    base = dataclasses.replace(DuplicateParams(), coherence_threshold=FLOOR)
    m_own = _detect(manip, base, use_sm=False)
    m_sm = _detect(manip, base, use_sm=True)
    c_sm = _detect(clean, base, use_sm=True)
    cal = slice(0, None, 2)
    val = slice(1, None, 2)
    hours_cal = len(clean[cal]) * ITEM_S / 3600
    hours_val = len(clean[val]) * ITEM_S / 3600
    # threshold: the lowest on the grid with no false finding on the calibration controls
    # and on the calibration manipulations outside the truth
    chosen = GRID[-1]
    for thr in GRID:
        fa = _score(clean[cal], c_sm[cal], thr)["fp"]
        if fa == 0 and _score(manip[cal], m_sm[cal], thr)["fp"] == 0:
            chosen = thr
            break
    sv = _score(manip[val], m_sm[val], chosen)
    so = _score(manip[val], m_own[val], chosen)
    fa_val = _score(clean[val], c_sm[val], chosen)["fp"]
    fa_all = _score(clean, c_sm, chosen)["fp"]
    per_post = {}
    for post in POST:
        idx = [i for i in range(1, n_man, 2) if manip[i].post == post]
        if idx:
            per_post[f"recall[{post}]"] = _score(
                [manip[i] for i in idx], [m_sm[i] for i in idx], chosen
            )["recall"]
    per_kind = {}
    for kind in ("sfx", "phrase"):
        idx = [i for i in range(1, n_man, 2) if manip[i].kind.startswith(kind)]
        if idx:
            per_kind[f"recall[{kind}]"] = _score(
                [manip[i] for i in idx], [m_sm[i] for i in idx], chosen
            )["recall"]
    fph = fa_val / hours_val
    figures = {
        "recall": sv["recall"],
        "precision": sv["precision"],
        "false_per_hour_clean": fph,
        "false_findings_clean_heldout": fa_val,
        "clean_hours_heldout": hours_val,
        "false_findings_clean_all": fa_all,
        "clean_hours_all": len(clean) * ITEM_S / 3600,
        "copies_heldout": sv["tp"] + sv["fn"],
        "median_copy_start_error_s": sv["median_start_error_s"],
        "recall_own_landmarks_only": so["recall"],
        **per_kind,
        **per_post,
    }
    params = dataclasses.replace(DuplicateParams(), coherence_threshold=chosen)
    summary = (
        f"On the held-out validation set this detector finds {pct(sv['recall'])} of pasted "
        f"segments ({sv['tp'] + sv['fn']} copies of gunshots, explosions and speech phrases, "
        f"incl. gain, filtering and MP3 re-encoding) with {pct(sv['precision'])} precision, "
        f"and raises {fph:.1f} false findings per hour of clean speech "
        f"({fa_val} in {hours_val:.2f} h, incl. repeated words and rhythmic noise)."
    )
    dataset = (
        f"{n_man} manipulated 45 s items (2/3 teeworlds-data weapon/explosion samples pasted "
        f"2-4 times at +-6 dB, half the copies low-passed, over real speech; 1/3 speech phrases "
        f"0.5-2 s copied within the recording), whole-file post-processing one of {POST}; "
        f"{n_clean} clean 45 s items (FSDD+JFK speech over continuous noise; a third the same "
        f"speaker repeating one digit in different takes; a third with rhythmic machine noise). "
        f"Threshold chosen on even items ({hours_cal:.2f} h clean), figures on odd items. "
        f"{D.SPEECH_LICENCE}; {D.SFX_LICENCE}."
    )
    write_calibration(
        "duplicated_segments",
        summary=summary,
        figures=figures,
        dataset=dataset,
        params=params,
        write=not args.no_write,
    )
