"""Validate the speech stage on labelled real speech and write its calibration files.

* ``speech_activity`` (Silero VAD, :data:`earwitness.speech.options.ACTIVITY_VAD`): programmes
  of FSDD spoken digits (real recordings, three speakers, trimmed tightly around the word, so
  each clip's extent is the ground-truth speech span) placed at known times in noise of
  varying level, plus speech-free material (white and pink-ish noise, tones, chirps). Frame-
  level recall of true speech, the share of non-speech time flagged (outside a 0.25 s collar
  around true speech, which covers the segmentation padding), and false speech seconds per
  hour of speech-free audio.
* ``transcript`` (Whisper through the stage): word error rate on sequences of six FSDD
  digits, for each model given. Digits written as numerals are spelled out before scoring.
  Arabic accuracy is NOT measured here (no labelled Arabic speech is available offline).

Writes ``src/earwitness/calibration/speech_activity.json`` and ``transcript.json``. Usage::

    nice .venv/bin/python benchmarks/validate_speech.py [--part vad|asr|all]
        [--programmes 20] [--sequences 25] [--models base tiny.en] [--no-write]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from earwitness.decode import load_audio, probe
from earwitness.pipeline import AnalysisContext, AnalyzeOptions
from earwitness.speech import speech_segments
from earwitness.speech.metrics import word_error_rate
from earwitness.speech.models import resolve_model
from earwitness.speech.options import ACTIVITY_VAD
from earwitness.speech.stage import SpeechStage
from earwitness.synth import chirp, encode_file, noise, tone

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
CALIB = ROOT / "src" / "earwitness" / "calibration"
SR = 16000
DIGITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
COLLAR = 0.25
FRAME = 0.01


def fsdd() -> list[tuple[int, Path]]:
    return [(int(p.name.split("_")[0]), p) for p in sorted((CORPUS / "fsdd").glob("*.flac"))]


def clip(path: Path, level: float) -> np.ndarray:
    y = load_audio(path, sr=SR).samples
    return (y / (np.abs(y).max() + 1e-9) * level).astype(np.float32)


def vad_programme(rng: np.random.Generator, files: list[tuple[int, Path]], noise_amp: float):
    """~60 s of noise with digits at random times; returns samples and true spans (s)."""
    n = 60 * SR
    y = (rng.standard_normal(n) * noise_amp).astype(np.float32)
    spans = []
    t = int(rng.uniform(0.5, 2.0) * SR)
    while True:
        _, p = files[int(rng.integers(len(files)))]
        c = clip(p, float(rng.uniform(0.2, 0.6)))
        if t + c.shape[0] >= n:
            break
        y[t : t + c.shape[0]] += c
        spans.append((t / SR, (t + c.shape[0]) / SR))
        t += c.shape[0] + int(rng.uniform(0.4, 4.0) * SR)
    return y, spans


def frame_mask(spans: list[tuple[float, float]], n_frames: int, pad: float = 0.0) -> np.ndarray:
    m = np.zeros(n_frames, dtype=bool)
    for s, e in spans:
        m[max(0, int((s - pad) / FRAME)) : min(n_frames, int(np.ceil((e + pad) / FRAME)))] = True
    return m


def validate_vad(args: argparse.Namespace, rng: np.random.Generator) -> dict:
    files = fsdd()
    tp = fn = fa = neg = 0
    for i in range(args.programmes):
        amp = [0.002, 0.01, 0.03, 0.06][i % 4]
        y, truth = vad_programme(rng, files, amp)
        found = speech_segments([y])
        nf = int(y.shape[0] / SR / FRAME)
        t, d = frame_mask(truth, nf), frame_mask(found, nf)
        collar = frame_mask(truth, nf, COLLAR)
        tp += int((t & d).sum())
        fn += int((t & ~d).sum())
        fa += int((d & ~collar).sum())
        neg += int((~collar).sum())
    free_s = 0.0
    false_s = 0.0
    for k in range(args.programmes):
        sigs = [
            noise(duration_s=30.0, sr=SR, rng=rng, amp=0.05 * (1 + k % 3)),
            tone(freq=float(rng.uniform(100, 2000)), duration_s=15.0, sr=SR, amp=0.3),
            chirp(f0=200.0, f1=4000.0, duration_s=15.0, sr=SR, amp=0.3),
        ]
        for sgl in sigs:
            free_s += sgl.shape[0] / SR
            false_s += sum(e - s for s, e in speech_segments([sgl.astype(np.float32)]))
    recall = tp / max(1, tp + fn)
    fa_rate = fa / max(1, neg)
    per_hour = false_s / free_s * 3600
    return {
        "detector": "speech_activity",
        "summary": (
            f"on {args.programmes} minutes of real spoken digits (FSDD, 3 speakers) in noise "
            f"this detector covers {recall:.0%} of speech time and flags {fa_rate:.1%} of the "
            f"non-speech time as speech; on speech-free noise, tones and chirps it reports "
            f"{per_hour:.0f} s of speech per hour"
        ),
        "figures": {
            "frame_recall": round(recall, 4),
            "nonspeech_flagged": round(fa_rate, 4),
            "false_speech_s_per_hour_speech_free": round(per_hour, 2),
        },
        "dataset": (
            f"{args.programmes} x 60 s programmes: FSDD digits (george, jackson, lucas) at "
            "random times in white noise of 4 levels (amp 0.002-0.06), 10 ms frames, "
            f"{COLLAR} s collar; {free_s / 60:.0f} min of noise/tones/chirps"
        ),
        "params": ACTIVITY_VAD.to_dict(),
    }


def spell(text: str) -> str:
    return "".join(f" {DIGITS[int(c)]} " if c.isdigit() else c for c in text)


def validate_asr(args: argparse.Namespace, rng: np.random.Generator) -> dict:
    files = fsdd()
    seqs = []
    with tempfile.TemporaryDirectory(prefix="val-asr-") as tmp:
        for i in range(args.sequences):
            picks = [files[int(j)] for j in rng.choice(len(files), size=6, replace=False)]
            parts = []
            for _, p in picks:
                parts += [clip(p, 0.5), np.zeros(int(0.35 * SR), np.float32)]
            y = np.concatenate([np.zeros(int(0.5 * SR), np.float32), *parts])
            y += (rng.standard_normal(y.shape[0]) * 0.002).astype(np.float32)
            path = encode_file(Path(tmp) / f"seq{i}.flac", y, sr=SR, codec="flac")
            seqs.append((path, " ".join(DIGITS[d] for d, _ in picks)))
        figures: dict[str, float] = {}
        models = {}
        for name in args.models:
            info = resolve_model(name)
            models[name] = info.sha256
            errs, words = 0.0, 0
            for path, ref in seqs:
                ctx = AnalysisContext(
                    path=path,
                    probe=probe(path),
                    sha256="0" * 64,
                    item_id="val",
                    options=AnalyzeOptions(asr_model=info.path, translate=False),
                )
                res = SpeechStage().run(ctx)
                hyp = " ".join(f.details["text"] for f in res.findings if f.kind == "transcript")
                n = len(ref.split())
                errs += word_error_rate(reference=ref, hypothesis=spell(hyp)) * n
                words += n
            figures[f"wer_{name}"] = round(errs / max(1, words), 4)
    wers = ", ".join(f"{v:.0%} with {k[4:]}" for k, v in figures.items())
    return {
        "detector": "transcript",
        "summary": (
            f"word error rate on {args.sequences} sequences of six spoken English digits "
            f"(FSDD): {wers}; accuracy on Arabic has not been measured"
        ),
        "figures": figures,
        "dataset": (
            f"{args.sequences} sequences of 6 FSDD digits (george, jackson, lucas), 0.35 s "
            "pauses, light noise; digits written as numerals spelled out before scoring"
        ),
        "params": {"models": models, "decoding": "TranscriptionOptions defaults"},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--part", choices=["vad", "asr", "all"], default="all")
    ap.add_argument("--programmes", type=int, default=20)
    ap.add_argument("--sequences", type=int, default=25)
    ap.add_argument("--models", nargs="+", default=["base", "tiny.en"])
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    rng = np.random.default_rng(20261125)
    now = datetime.now(UTC).isoformat(timespec="seconds")
    results = []
    if args.part in ("vad", "all"):
        results.append(validate_vad(args, rng))
    if args.part in ("asr", "all"):
        results.append(validate_asr(args, rng))
    for data in results:
        data.update(produced_by="benchmarks/validate_speech.py", measured_at=now)
        if not args.no_write:
            path = CALIB / f"{data['detector']}.json"
            path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
        print(json.dumps(data, indent=1))


if __name__ == "__main__":
    main()
