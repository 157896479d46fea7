"""Decode benchmarks: speed (x real time), peak memory of chunked decoding, timing residuals.

Usage::

    nice .venv/bin/python benchmarks/bench_decode.py [--minutes 10] [--long-minutes 60]
        [--out docs/benchmarks/decode.md]

1. Speed: a ``--minutes`` speech-like file (``earwitness.synth.babble`` tiled, plus noise) is
   encoded to MP3 (44.1 kHz stereo 128 kbit/s), Opus in Ogg (48 kHz mono 32 kbit/s, a Telegram
   voice note) and AAC in M4A (44.1 kHz stereo 128 kbit/s), then decoded with
   ``iter_audio`` at the native rate (channels kept) and at 16 kHz mono. Best of 2 runs.
2. Memory: a ``--long-minutes`` Opus file is decoded in a fresh subprocess per mode; the peak
   resident set size (``ru_maxrss``) is reported next to a subprocess that only imports.
3. Timing: a click at a known sample is encoded with every codec and located after decoding;
   the offset is reported per codec next to the residual the probe declares.

Figures depend on the machine; the command line and conditions are written with them.
"""

from __future__ import annotations

import argparse
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from earwitness.decode import iter_audio, load_audio, probe
from earwitness.synth import babble, encode_file

SR = 44100


def speechy(seconds: float, *, sr: int, rng: np.random.Generator) -> np.ndarray:
    base = babble(duration_s=min(seconds, 60.0), sr=sr, rng=rng)
    reps = int(np.ceil(seconds * sr / base.size))
    x = np.tile(base, reps)[: int(seconds * sr)]
    return (x + 0.003 * rng.standard_normal(x.size)).astype(np.float32)


def encode_long_opus(path: Path, *, seconds: float, rng: np.random.Generator) -> Path:
    """Write a long 48 kHz mono Opus file minute by minute (never the whole signal in memory)."""
    sr = 48000
    base = babble(duration_s=60.0, sr=sr, rng=rng)
    with av.open(str(path), mode="w", format="ogg") as container:
        stream = container.add_stream("libopus", rate=sr)
        stream.layout = "mono"  # type: ignore[union-attr]
        stream.bit_rate = 32000
        pts = 0
        for _ in range(int(np.ceil(seconds / 60.0))):
            block = base + 0.003 * rng.standard_normal(base.size, dtype=np.float32)
            for i in range(0, block.size, 960 * 50):
                part = np.ascontiguousarray(block[None, i : i + 960 * 50])
                frame = av.AudioFrame.from_ndarray(part, format="flt", layout="mono")
                frame.sample_rate = sr
                frame.pts = pts
                frame.time_base = Fraction(1, sr)
                pts += part.shape[1]
                for packet in stream.encode(frame):
                    container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def decode_speed(path: Path, *, sr: int | None, mono: bool, seconds: float) -> float:
    best = float("inf")
    for _ in range(2):
        t0 = time.perf_counter()
        for _chunk in iter_audio(path, sr=sr, mono=mono):
            pass
        best = min(best, time.perf_counter() - t0)
    return seconds / best


def child(mode: str, path: str) -> None:
    """Run one decode mode and print the peak resident memory in MiB."""
    if mode == "chunks-native":
        for _ in iter_audio(path, sr=None, mono=True):
            pass
    elif mode == "chunks-16k":
        for _ in iter_audio(path, sr=16000, mono=True):
            pass
    elif mode == "whole-16k":
        load_audio(path, sr=16000)
    # VmHWM belongs to this process image (ru_maxrss would carry the parent's peak over the
    # fork); fall back to ru_maxrss where /proc is absent
    status = Path("/proc/self/status")
    if status.is_file():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                print(int(line.split()[1]) / 1024)
                return
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def peak_rss(mode: str, path: Path) -> float:
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(path)],
        check=True,
        capture_output=True,
        text=True,
    )
    return float(out.stdout.strip().splitlines()[-1])


def timing_table(tmp: Path, rng: np.random.Generator) -> list[tuple[str, str, float, float]]:
    rows = []
    for key, sr in [("wav", 48000), ("flac", 48000), ("mp3", 48000), ("m4a", 48000),
                    ("aac", 48000), ("ogg", 48000), ("webm", 48000), ("mkv", 48000),
                    ("vorbis", 48000), ("amr", 8000), ("mp3", 44100), ("m4a", 44100)]:  # fmt: skip
        n = 3 * sr
        at = int(1.2345 * sr)
        x = 0.003 * rng.standard_normal(n)
        w = max(8, sr // 1000)
        x[at - w // 2 : at - w // 2 + w] += 0.8 * np.hanning(w)
        path = encode_file(tmp / f"click_{sr}.{key}", x.astype(np.float32), sr=sr, codec=key)
        a = load_audio(path)
        env = np.convolve(np.abs(a.samples), np.hanning(max(8, a.sr // 1000)), mode="same")
        env0 = np.convolve(np.abs(x), np.hanning(w), mode="same")
        t = np.argmax(env) / a.sr - np.argmax(env0) / sr
        plan = probe(path).timing
        method = plan.method if plan else "?"
        rows.append((f"{key} @ {sr}", method, t * 1000, (plan.residual_s if plan else 0) * 1000))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--long-minutes", type=float, default=60.0)
    ap.add_argument("--out", type=Path, default=Path("docs/benchmarks/decode.md"))
    ap.add_argument("--child", nargs=2, metavar=("MODE", "PATH"))
    args = ap.parse_args()
    if args.child:
        child(*args.child)
        return
    rng = np.random.default_rng(20261125)
    seconds = args.minutes * 60
    lines: list[str] = []
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        x = speechy(seconds, sr=SR, rng=rng)
        stereo = np.stack([x, np.roll(x, 7)])
        files = {
            "mp3 (44.1 kHz stereo, 128k)": encode_file(tmp / "s.mp3", stereo, sr=SR,
                                                       bitrate=128000),
            "opus/ogg (48 kHz mono, 32k)": encode_file(tmp / "s.ogg", x, sr=SR, bitrate=32000),
            "aac/m4a (44.1 kHz stereo, 128k)": encode_file(tmp / "s.m4a", stereo, sr=SR,
                                                           bitrate=128000),
        }  # fmt: skip
        lines += [
            f"### Decode speed ({args.minutes:g}-minute file, `iter_audio`, best of 2)",
            "",
            "| file | native rate, all channels | 16 kHz mono |",
            "|---|---|---|",
        ]
        for name, path in files.items():
            native = decode_speed(path, sr=None, mono=False, seconds=seconds)
            k16 = decode_speed(path, sr=16000, mono=True, seconds=seconds)
            lines.append(f"| {name} | {native:.0f}x real time | {k16:.0f}x real time |")
            print(lines[-1], flush=True)
        long_s = args.long_minutes * 60
        del x, stereo
        long_path = encode_long_opus(tmp / "long.ogg", seconds=long_s, rng=rng)
        base = peak_rss("import", long_path)
        lines += [
            "",
            f"### Peak memory ({args.long_minutes:g}-minute Opus file, "
            f"{long_path.stat().st_size / 1e6:.1f} MB, fresh process per mode)",
            "",
            "| mode | peak RSS | above an import-only process |",
            "|---|---|---|",
            f"| import only | {base:.0f} MiB | - |",
        ]
        for mode, label in [
            ("chunks-native", "`iter_audio` 48 kHz mono, 30 s chunks"),
            ("chunks-16k", "`iter_audio` 16 kHz mono, 30 s chunks"),
            ("whole-16k", "`load_audio` 16 kHz mono (whole decode kept)"),
        ]:
            rss = peak_rss(mode, long_path)
            lines.append(f"| {label} | {rss:.0f} MiB | +{rss - base:.0f} MiB |")
            print(lines[-1], flush=True)
        lines += [
            "",
            "### Timing: a click at a known sample, encoded and decoded",
            "",
            "| codec @ input rate | alignment method | measured offset | declared residual |",
            "|---|---|---|---|",
        ]
        for name, method, measured, declared in timing_table(tmp, rng):
            lines.append(f"| {name} | {method} | {measured:+.2f} ms | {declared:.2f} ms |")
            print(lines[-1], flush=True)
    header = [
        "# Decoding benchmarks",
        "",
        f"Measured {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')} on "
        f"{platform.machine()} {platform.system()}, Python {platform.python_version()}, "
        "2 CPU cores **shared with other jobs running at the same time** (figures are "
        "pessimistic; re-run on an idle machine for reference numbers).",
        "",
        f"Command: `nice .venv/bin/python benchmarks/bench_decode.py --minutes {args.minutes:g} "
        f"--long-minutes {args.long_minutes:g}`",
        "",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(header + lines) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
