"""Speech stage speed: earwitness vs calling faster-whisper directly, and memory on 2 hours.

1. Overhead and real-time factor. A test programme of real speech is built from the shared
   corpus (jfk, hotwords, the stereo diarization clip mixed down, and FSDD digit sequences,
   separated by 0.5-3 s of quiet noise) and encoded as 16 kHz FLAC. For each model it times,
   alternately and ``--repeats`` times, (a) faster-whisper directly: ``decode_audio(path)``
   then ``WhisperModel.transcribe(vad_filter=True, word_timestamps=True, beam_size=5,
   temperature=0)``, segments consumed; (b) the earwitness ``speech`` stage on the same file
   with the same options (probe, decode, Silero VAD for findings and windows, the same
   decoding, findings, watchlist, SRT/VTT; translation off). Models are loaded once
   beforehand. Reported: median times, overhead (b/a - 1), real-time factor (processing
   time / audio duration), whether the two transcripts are identical, and the CPU time of
   the non-model work of each side.
2. Bounded memory. ``--long-hours H`` builds an H-hour MP3 (quiet noise with jfk every ten
   minutes) and runs the stage on it in a fresh process, reporting its peak RSS next to the
   size of the decoded recording.

Writes docs/benchmarks/speech.md (raw results in benchmarks/out/bench_asr.json; `--render-only`
re-writes the doc from them, e.g. after the calibration files change). Usage::

    nice .venv/bin/python benchmarks/bench_asr.py [--seconds 180] [--repeats 3]
        [--threads 2] [--models tiny.en base] [--long-hours 2] [--no-write]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from earwitness.decode import load_audio, probe
from earwitness.pipeline import AnalysisContext, AnalyzeOptions
from earwitness.speech.models import resolve_model
from earwitness.speech.stage import SpeechStage
from earwitness.synth import encode_file

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
DOC = ROOT / "docs" / "benchmarks" / "speech.md"
RAW = ROOT / "benchmarks" / "out" / "bench_asr.json"
CALIB = ROOT / "src" / "earwitness" / "calibration"
SR = 16000


def programme(seconds: float, rng: np.random.Generator) -> np.ndarray:
    """Real speech from the corpus separated by quiet noise, at least ``seconds`` long.

    jfk, hotwords and the diarization clip once each, then sequences of six FSDD digits (no
    clip repeats). Both sides decode at temperature 0 only: the digit runs otherwise trip
    Whisper's compression-ratio check into sampling at higher temperatures, which is random
    and would make the two runs decode different text and do different work.
    """
    clips = [load_audio(CORPUS / n, sr=SR).samples for n in ("jfk.flac", "hotwords.mp3")]
    clips.append(load_audio(CORPUS / "stereo_diarization.flac", sr=SR).samples)
    fsdd = sorted((CORPUS / "fsdd").glob("*.flac"))
    order = rng.permutation(len(fsdd))
    out: list[np.ndarray] = []
    total = 0
    k = 0
    while total < seconds * SR:
        if clips:
            clip = clips.pop(0)
        else:
            seq = []
            for i in order[k : k + 6]:
                d = load_audio(fsdd[int(i)], sr=SR).samples
                seq += [d / (np.abs(d).max() + 1e-9) * 0.5, np.zeros(int(0.25 * SR), np.float32)]
            k += 6
            clip = np.concatenate(seq)
        gap = rng.standard_normal(int(rng.uniform(0.5, 3.0) * SR)) * 0.002
        out += [gap.astype(np.float32), clip.astype(np.float32)]
        total += gap.shape[0] + clip.shape[0]
    out.append((rng.standard_normal(SR) * 0.002).astype(np.float32))  # no word cut at the end
    return np.concatenate(out)


def run_direct(model: Any, path: Path, threads: int) -> tuple[str, float, float]:
    from faster_whisper import decode_audio

    c0, t0 = time.process_time(), time.perf_counter()
    audio = decode_audio(str(path), sampling_rate=SR)
    segments, _ = model.transcribe(
        audio, beam_size=5, word_timestamps=True, vad_filter=True, temperature=0.0
    )
    text = " ".join(s.text.strip() for s in segments)
    return text, time.perf_counter() - t0, time.process_time() - c0


def run_stage(path: Path, model_dir: str, threads: int) -> tuple[str, float, float]:
    c0, t0 = time.process_time(), time.perf_counter()
    ctx = AnalysisContext(
        path=path,
        probe=probe(path),
        sha256="0" * 64,
        item_id="bench",
        options=AnalyzeOptions(
            asr_model=model_dir,
            translate=False,
            extra={"speech": {"cpu_threads": threads, "temperatures": [0.0]}},
        ),
    )
    result = SpeechStage().run(ctx)
    text = " ".join(f.details["text"] for f in result.findings if f.kind == "transcript")
    return text, time.perf_counter() - t0, time.process_time() - c0


def bench_model(name: str, path: Path, duration: float, threads: int, repeats: int) -> dict:
    from faster_whisper import WhisperModel

    info = resolve_model(name)
    direct_model = WhisperModel(info.path, device="cpu", compute_type="int8", cpu_threads=threads)
    run_direct(direct_model, path, threads)  # warm-up
    run_stage(path, info.path, threads)  # warm-up, loads the stage's cached model
    d_times, s_times, d_cpu, s_cpu = [], [], [], []
    d_text = s_text = ""
    for _ in range(repeats):
        d_text, dt, dc = run_direct(direct_model, path, threads)
        s_text, st, sc = run_stage(path, info.path, threads)
        d_times.append(dt)
        s_times.append(st)
        d_cpu.append(dc)
        s_cpu.append(sc)
    d, s = statistics.median(d_times), statistics.median(s_times)
    dc, sc = statistics.median(d_cpu), statistics.median(s_cpu)
    return {
        "model": name,
        "sha256": info.sha256,
        "direct_s": d,
        "stage_s": s,
        "overhead": s / d - 1.0,
        "direct_cpu_s": dc,
        "stage_cpu_s": sc,
        "overhead_cpu": sc / dc - 1.0,
        "rtf_direct": d / duration,
        "rtf_stage": s / duration,
        "identical": d_text == s_text,
        "direct_all": d_times,
        "stage_all": s_times,
    }


def components(path: Path, repeats: int) -> dict:
    """CPU time of the non-model work each side does: decoding and the Silero VAD pass."""
    from faster_whisper import decode_audio
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    from earwitness.speech.vad import speech_probabilities

    def cpu(fn: Any) -> float:
        c0 = time.process_time()
        for _ in range(repeats):
            fn()
        return (time.process_time() - c0) / repeats

    audio = load_audio(path, sr=SR).samples
    return {
        "fw_decode": cpu(lambda: decode_audio(str(path), sampling_rate=SR)),
        "ew_decode": cpu(lambda: load_audio(path, sr=SR)),
        "fw_vad": cpu(lambda: get_speech_timestamps(audio, VadOptions())),
        "ew_vad": cpu(lambda: speech_probabilities([audio])),
    }


LONG_CHILD = """
import json, sys, time
from pathlib import Path
from earwitness.decode import probe
from earwitness.pipeline import AnalysisContext, AnalyzeOptions
from earwitness.speech.stage import SpeechStage
p = Path(sys.argv[1])
t0 = time.perf_counter()
ctx = AnalysisContext(path=p, probe=probe(p), sha256="0" * 64, item_id="long",
    options=AnalyzeOptions(asr_model=sys.argv[2], translate=False,
                           extra={"speech": {"cpu_threads": int(sys.argv[3])}}))
r = SpeechStage().run(ctx)
print(json.dumps({"elapsed_s": time.perf_counter() - t0,
    "peak_rss_mb": [int(l.split()[1]) / 1024 for l in open("/proc/self/status")
                    if l.startswith("VmHWM")][0],
    "segments": r.summary.get("segments"), "speech_s": r.summary.get("speech_s")}))
"""


def bench_long(hours: float, tmp: Path, model: str, threads: int) -> dict:
    rng = np.random.default_rng(7)
    jfk = load_audio(CORPUS / "jfk.flac", sr=SR).samples
    n = int(hours * 3600 * SR)
    y = (rng.standard_normal(n) * 0.002).astype(np.float32)
    for start in range(60 * SR, n - jfk.shape[0], 600 * SR):
        y[start : start + jfk.shape[0]] += jfk
    path = encode_file(tmp / "long.mp3", y, sr=SR, codec="mp3", bitrate=32000)
    del y
    out = subprocess.run(
        [sys.executable, "-c", LONG_CHILD, str(path), resolve_model(model).path, str(threads)],
        check=True,
        capture_output=True,
        text=True,
    )
    res = json.loads(out.stdout.strip().splitlines()[-1])
    res.update(hours=hours, decoded_mb=n * 4 / 1e6, model=model)
    return dict(res)


def accuracy_section() -> list[str]:
    """The speech calibration files (written by validate_speech.py), quoted verbatim."""
    lines = ["", "## Accuracy (from the calibration files)", ""]
    found = False
    for name in ("speech_activity", "transcript"):
        path = CALIB / f"{name}.json"
        if path.is_file():
            data = json.loads(path.read_text(encoding="utf-8"))
            found = True
            lines.append(
                f"- `{name}` ({data['measured_at']}, `{data['produced_by']}`): {data['summary']}. "
                f"Figures: {json.dumps(data['figures'])}. Data: {data['dataset']}."
            )
    if not found:
        lines.append("- not measured yet (run `benchmarks/validate_speech.py`).")
    return lines


def render(
    args: argparse.Namespace,
    duration: float,
    rows: list[dict],
    long: dict | None,
    now: str,
    comp: dict | None = None,
) -> str:
    lines = [
        "# Speech benchmarks",
        "",
        f"Measured {now} on {platform.machine()} ({os.cpu_count()} CPU cores, "
        f"{platform.python_version()}), **machine shared with other jobs** (figures are "
        "pessimistic and noisy). CTranslate2 int8 on CPU, "
        f"{args.threads} threads, beam 5, word timestamps, Silero VAD windows.",
        "",
        f"Command: `nice .venv/bin/python benchmarks/bench_asr.py --seconds {args.seconds:g} "
        f"--repeats {args.repeats} --threads {args.threads} --models {' '.join(args.models)}"
        + (f" --long-hours {args.long_hours:g}`" if args.long_hours else "`"),
        "",
        f"## Overhead and real-time factor ({duration:.0f} s programme of real speech)",
        "",
        "The programme: corpus speech (jfk, hotwords, stereo_diarization mixed down, FSDD digit "
        "sequences) separated by 0.5-3 s of quiet noise, 16 kHz FLAC. *Direct*: "
        "`faster_whisper.decode_audio` + `WhisperModel.transcribe(vad_filter=True, "
        "word_timestamps=True, beam_size=5, temperature=0.0)` (temperature fallback off on "
        "both sides so that both decode deterministically). *Stage*: the earwitness `speech` stage "
        "(decode, VAD for findings and windows, same decoding, findings, watchlist, SRT/VTT; "
        "translation off). Median of the repeats; RTF = wall processing time / audio duration "
        "(lower is faster). CPU = process CPU time over all threads, which is less disturbed "
        "than wall time by the other jobs on the machine.",
        "",
        "| model | direct wall (s) | stage wall (s) | overhead (wall) | direct CPU (s) | "
        "stage CPU (s) | overhead (CPU) | RTF direct | RTF stage | same text |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['model']} | {r['direct_s']:.2f} | {r['stage_s']:.2f} | "
            f"{r['overhead'] * 100:+.1f}% | {r['direct_cpu_s']:.2f} | {r['stage_cpu_s']:.2f} | "
            f"{r['overhead_cpu'] * 100:+.1f}% | {r['rtf_direct']:.3f} | {r['rtf_stage']:.3f} | "
            f"{'yes' if r['identical'] else 'no'} |"
        )
    lines += [
        "",
        "All runs (s): "
        + "; ".join(
            f"{r['model']} direct {[round(x, 2) for x in r['direct_all']]}, "
            f"stage {[round(x, 2) for x in r['stage_all']]}"
            for r in rows
        )
        + ".",
    ]
    if comp:
        lines += [
            "",
            "Non-model work, CPU seconds per run on the same programme: decoding "
            f"{comp['fw_decode']:.3f} (faster-whisper `decode_audio`) vs {comp['ew_decode']:.3f} "
            f"(earwitness `load_audio`); Silero VAD {comp['fw_vad']:.3f} (faster-whisper) vs "
            f"{comp['ew_vad']:.3f} (earwitness streaming VAD). The model work is the same "
            "call on the same samples, so differences in the table beyond these are run-to-run "
            "noise from the shared machine.",
        ]
    if long:
        lines += [
            "",
            f"## Bounded memory ({long['hours']:g} h recording)",
            "",
            f"A {long['hours']:g}-hour MP3 (32 kbit/s, quiet noise, jfk every ten minutes) run "
            f"through the stage with {long['model']} in a fresh process: "
            "peak RSS (VmHWM, including Python, onnxruntime and the model) "
            f"**{long['peak_rss_mb']:.0f} MB**, against "
            f"{long['decoded_mb']:.0f} MB for the decoded 16 kHz float32 recording alone; "
            f"{long['elapsed_s']:.0f} s wall time, {long['segments']} transcript segments, "
            f"{long['speech_s']:.0f} s of speech found. The stage streams the decode twice "
            "(VAD, then blocks of at most 600 s) instead of holding the recording.",
        ]
    lines += accuracy_section()
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--seconds", type=float, default=180.0)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--models", nargs="+", default=["tiny.en", "base"])
    ap.add_argument("--long-hours", type=float, default=0.0)
    ap.add_argument("--no-write", action="store_true", help="print only")
    ap.add_argument(
        "--render-only",
        action="store_true",
        help=f"re-write the doc from the last raw results ({RAW.name}) without measuring",
    )
    args = ap.parse_args()
    if args.render_only:
        raw = json.loads(RAW.read_text(encoding="utf-8"))
        text = render(
            argparse.Namespace(**raw["args"]),
            raw["duration"],
            raw["rows"],
            raw["long"],
            raw["now"],
            raw.get("components"),
        )
        DOC.write_text(text, encoding="utf-8")
        print(text)
        return
    rng = np.random.default_rng(11)
    with tempfile.TemporaryDirectory(prefix="bench-asr-") as tmp:
        path = encode_file(
            Path(tmp) / "programme.flac", programme(args.seconds, rng), sr=SR, codec="flac"
        )
        duration = load_audio(path, sr=SR).duration_s
        rows = [bench_model(m, path, duration, args.threads, args.repeats) for m in args.models]
        comp = components(path, max(3, args.repeats))
        long = (
            bench_long(args.long_hours, Path(tmp), args.models[0], args.threads)
            if args.long_hours
            else None
        )
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    RAW.parent.mkdir(parents=True, exist_ok=True)
    RAW.write_text(
        json.dumps(
            {
                "args": vars(args),
                "duration": duration,
                "rows": rows,
                "long": long,
                "now": now,
                "components": comp,
            },
            indent=1,
        ),
        encoding="utf-8",
    )
    text = render(args, duration, rows, long, now, comp)
    print(text)
    if not args.no_write:
        DOC.parent.mkdir(parents=True, exist_ok=True)
        DOC.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
