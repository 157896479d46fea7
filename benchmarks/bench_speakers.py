"""Speakers benchmark: diarization accuracy on synthetic conversations, speed and memory.

1. Diarization: conversations of FSDD talkers (turns of 2-6 digits, 0.2-0.6 s pauses, 2 or 3
   talkers, 60 s each), for a grid of merge distances: share of conversations with the right
   speaker count, and the frame error (share of speech frames whose speaker is wrong after the
   best one-to-one mapping of clusters to talkers; a DER without the missed/false speech
   terms, since the activity is the same for every setting).
2. Speed and memory: one long conversation (``--minutes``, default 20) written as FLAC and run
   through the stage's streaming path (``iter_audio`` at 16 kHz -> windows -> clustering); the
   real-time factor and the peak resident memory are reported.

Usage: .venv/bin/python benchmarks/bench_speakers.py [--corpus DIR] [--minutes 20] [--n 12]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment

from earwitness.decode import iter_audio, load_audio
from earwitness.speakers.archive import analyse_chunks
from earwitness.speakers.diarize import DiarizationParams, diarize
from earwitness.speakers.embedder import get_embedder
from earwitness.speakers.validate import labelled_files
from earwitness.speakers.windows import embed_windows_stream
from earwitness.synth import encode_file

ROOT = Path(__file__).resolve().parents[1]
SR = 16000


def load_clips(corpus: Path) -> dict[str, list[np.ndarray]]:
    clips: dict[str, list[np.ndarray]] = {}
    for p, s in labelled_files(corpus / "fsdd"):
        y = load_audio(p, sr=SR).samples
        clips.setdefault(s, []).append((0.05 * y / np.sqrt(np.mean(y**2))).astype(np.float32))
    return clips


def conversation(
    clips: dict[str, list[np.ndarray]],
    speakers: list[str],
    seconds: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Audio and a per-sample label array (-1 = silence)."""
    parts: list[np.ndarray] = []
    labels: list[np.ndarray] = []
    total = 0
    prev = -1
    while total < seconds * SR:
        k = int(rng.integers(len(speakers)))
        if k == prev:
            continue
        prev = k
        for _ in range(int(rng.integers(2, 7))):
            c = clips[speakers[k]][int(rng.integers(len(clips[speakers[k]])))]
            gap = np.zeros(int(rng.uniform(0.05, 0.25) * SR), np.float32)
            parts += [c, gap]
            labels += [np.full(len(c), k), np.full(len(gap), -1)]
            total += len(c) + len(gap)
        pause = np.zeros(int(rng.uniform(0.2, 0.6) * SR), np.float32)
        parts.append(pause)
        labels.append(np.full(len(pause), -1))
        total += len(pause)
    return np.concatenate(parts), np.concatenate(labels)


def frame_error(turns: list[tuple[float, float, str]], truth: np.ndarray, n_true: int) -> float:
    """Share of speech samples given the wrong talker after the best one-to-one mapping of
    clusters to talkers (Hungarian assignment on the confusion matrix)."""
    names = sorted({t[2] for t in turns})
    hyp = np.full(len(truth), -1)
    for s, e, lab in turns:
        hyp[int(s * SR) : int(e * SR)] = names.index(lab)
    speech = truth >= 0
    conf = np.zeros((max(len(names), 1), n_true))
    for h in range(len(names)):
        for t in range(n_true):
            conf[h, t] = np.sum((hyp == h) & (truth == t))
    rows, cols = linear_sum_assignment(-conf)
    return float(1.0 - conf[rows, cols].sum() / max(1, int(speech.sum())))


def bench_diarization(clips, emb, n: int, seed: int) -> dict[str, dict[str, float]]:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    names = sorted(clips)
    cases = []
    for i in range(n):
        spk = names if i % 2 else list(rng.choice(names, 2, replace=False))
        y, truth = conversation(clips, spk, 60.0, rng)
        we = embed_windows_stream(chunks=[y], sr=SR, embedder=emb)
        cases.append((we, truth, len(spk)))
    out: dict[str, dict[str, float]] = {}
    for md in (0.2, 0.25, 0.3, 0.35, 0.4):
        right, errs = 0, []
        for we, truth, n_true in cases:
            d = diarize(windows=we, params=DiarizationParams(merge_distance=md))
            right += int(d.speaker_count == n_true)
            errs.append(
                frame_error([(t.start_s, t.end_s, t.speaker) for t in d.turns], truth, n_true)
            )
        out[str(md)] = {"count_correct": right / len(cases), "frame_error": float(np.mean(errs))}
    return out


def bench_speed(clips, emb, minutes: float, seed: int) -> dict[str, float]:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    out_dir = ROOT / "benchmarks" / "out"
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"speakers_{minutes:g}min.flac"
    if not path.exists():
        y, _ = conversation(clips, sorted(clips), minutes * 60, rng)
        encode_file(path, y, sr=SR, codec="flac")
        del y
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    windows, dia = analyse_chunks(chunks=iter_audio(path, sr=SR, mono=True), embedder=emb)
    elapsed = time.perf_counter() - t0
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    dur = windows.duration_s
    return {
        "audio_s": round(dur, 1),
        "elapsed_s": round(elapsed, 1),
        "real_time_factor": round(elapsed / dur, 4),
        "x_real_time": round(dur / elapsed, 1),
        "windows": float(len(windows)),
        "speakers_found": float(dia.speaker_count),
        "peak_rss_mb_before": round(rss0, 1),
        "peak_rss_mb_after": round(rss1, 1),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    ap.add_argument("--minutes", type=float, default=20.0)
    ap.add_argument("--n", type=int, default=12, help="conversations for the accuracy grid")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    emb = get_embedder()
    emb.embed_windows([np.zeros(SR, np.float32)])  # load torch kernels before timing
    clips = load_clips(args.corpus)
    result = {
        "diarization_by_merge_distance": bench_diarization(clips, emb, args.n, args.seed),
        "speed": bench_speed(clips, emb, args.minutes, args.seed),
        "machine": "2 CPU cores shared with other jobs (figures are pessimistic)",
        "torch_threads": __import__("torch").get_num_threads(),
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
