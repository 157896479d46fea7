"""Validate the metadata rules: false anomalies on clean files, detection of crafted defects.

Usage::

    nice .venv/bin/python benchmarks/validate_metadata.py [--seeds 4] [--no-write]

Clean set: speech (JFK and FSDD clips from the shared corpus when present, else synthetic
babble) encoded with every supported format at several rates, bitrates and lengths.
Defect set: each clean file truncated at a random point (20-90 %), plus data appended to
MP3/WAV/FLAC, a FLAC whose STREAMINFO MD5 does not sign its frames, timestamp gaps in WebM,
and a second audio track. A file "raises" a defect when
the stage emits the expected anomaly code. Writes ``src/earwitness/calibration/metadata.json``
(the figures shown beside ``metadata_anomaly`` findings) unless ``--no-write``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from earwitness.decode import load_audio, probe
from earwitness.errors import InputError
from earwitness.metadata.checks import MetadataParams
from earwitness.metadata.stage import MetadataStage
from earwitness.pipeline import AnalysisContext
from earwitness.synth import babble, encode_file
from earwitness.synth.encode import encode_av_file, insert_timestamp_gap

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
CALIB = ROOT / "src" / "earwitness" / "calibration" / "metadata.json"
DOC = ROOT / "docs" / "benchmarks" / "metadata.md"
FORMATS = ["wav", "flac", "mp3", "ogg", "vorbis", "m4a", "aac", "amr", "webm", "mkv"]
TRUNCATION_CODES = {"truncated", "duration_mismatch", "decode_errors", "mp3_length_mismatch",
                    "bitrate_mismatch"}  # fmt: skip


def speech_sources(rng: np.random.Generator) -> list[tuple[str, np.ndarray, int]]:
    out: list[tuple[str, np.ndarray, int]] = []
    if (CORPUS / "jfk.flac").is_file():
        jfk = load_audio(CORPUS / "jfk.flac")
        out.append(("jfk", jfk.samples, jfk.sr))
        clips = sorted((CORPUS / "fsdd").glob("*_george_*.flac"))[:12]
        if clips:
            x = np.concatenate([load_audio(c).samples for c in clips])
            out.append(("fsdd", 0.8 * x / (np.max(np.abs(x)) + 1e-9), 8000))
    out.append(("babble", babble(duration_s=7.0, sr=44100, rng=rng), 44100))
    return out


def codes_of(path: Path) -> list[str] | None:
    try:
        info = probe(path)
    except InputError:
        return None
    ctx = AnalysisContext(path=path, probe=info, sha256="0" * 64, item_id="validation")
    result = MetadataStage().run(ctx)
    return [f.details["code"] for f in result.findings if f.kind == "metadata_anomaly"]


def add_gap(src: Path, out: Path) -> Path:
    return insert_timestamp_gap(src, out, after_s=1.0, gap_s=0.3)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    rng = np.random.default_rng(20261125)
    clean_files = 0
    clean_flagged: list[tuple[str, list[str]]] = []
    hits: dict[str, list[bool]] = defaultdict(list)
    rejected: dict[str, int] = defaultdict(int)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        n = 0
        for name, x, sr in speech_sources(rng):
            for seed in range(args.seeds):
                for key in FORMATS:
                    n += 1
                    bitrate = [None, 32000, 96000][seed % 3] if key in ("mp3", "m4a") else None
                    rate = 8000 if key == "amr" else [sr, 16000, 44100][seed % 3]
                    y = x if rate == sr else _resample(x, sr, rate)
                    path = encode_file(tmp / f"{n}.{key}", y, sr=rate, codec=key, bitrate=bitrate)
                    codes = codes_of(path)
                    clean_files += 1
                    if codes:
                        clean_flagged.append((f"{name}/{key}/{seed}", codes))
                    data = path.read_bytes()
                    cut = tmp / f"{n}_cut.{key}"
                    cut.write_bytes(data[: int(len(data) * rng.uniform(0.2, 0.9))])
                    got = codes_of(cut)
                    if got is None:
                        rejected[f"truncated {key}"] += 1
                    else:
                        hits[f"truncated {key}"].append(bool(TRUNCATION_CODES & set(got)))
                    if key in ("mp3", "wav", "flac"):
                        app = tmp / f"{n}_app.{key}"
                        app.write_bytes(data + rng.bytes(int(len(data) * rng.uniform(0.1, 0.5))))
                        got = codes_of(app) or []
                        hits[f"appended data {key}"].append(
                            bool(set(got) - {"unusual_sample_rate"})
                        )
                    if key == "flac":
                        alt = bytearray(data)
                        at = alt.index(b"fLaC") + 8 + 18  # STREAMINFO MD5
                        alt[at : at + 16] = rng.bytes(16)
                        swapped = tmp / f"{n}_md5.flac"
                        swapped.write_bytes(bytes(alt))
                        got = codes_of(swapped) or []
                        hits["audio under another MD5 flac"].append("flac_md5_mismatch" in got)
                    if key == "webm":
                        got = codes_of(add_gap(path, tmp / f"{n}_gap.webm")) or []
                        hits["timestamp gap webm"].append("timestamp_gap" in got)
                    if key == "m4a" and seed == 0:
                        two = encode_av_file(
                            tmp / f"{n}_two.mp4",
                            [y, y[::-1].copy()],
                            sr=rate,
                            codec="m4a",
                            container_format="mp4",
                        )
                        hits["second audio track mp4"].append(
                            "multiple_audio_tracks" in (codes_of(two) or [])
                        )
    rates = {k: float(np.mean(v)) for k, v in sorted(hits.items())}
    false_per_file = len(clean_flagged) / max(clean_files, 1)
    detectable = [k for k in rates if not k.startswith(("truncated aac", "truncated amr"))]
    trunc = [v for k, v in rates.items() if k.startswith("truncated") and k in detectable]
    summary = (
        f"On {clean_files} clean files (10 formats, speech) the metadata rules flagged "
        f"{false_per_file:.0%} of files; truncation was flagged in {np.mean(trunc):.0%} of "
        "truncated files whose format declares a length (raw ADTS AAC and AMR declare none: "
        f"{rates.get('truncated aac', 0):.0%} and {rates.get('truncated amr', 0):.0%} flagged); "
        "truncated M4A files with the index at the end cannot be opened and are rejected at "
        f"ingest. Appended data was flagged in {rates.get('appended data mp3', 0):.0%} of MP3, "
        f"{rates.get('appended data wav', 0):.0%} of WAV and "
        f"{rates.get('appended data flac', 0):.0%} of FLAC files."
    )
    figures = {"clean_files": float(clean_files), "false_anomaly_file_rate": false_per_file}
    figures.update({f"recall[{k}]": v for k, v in rates.items()})
    figures.update({f"rejected_at_probe[{k}]": float(v) for k, v in rejected.items()})
    print(summary)
    for k, v in rates.items():
        print(f"  {k}: {v:.0%} (n={len(hits[k])})")
    for k, v in rejected.items():
        print(f"  rejected at probe: {k}: {v}")
    for name, codes in clean_flagged:
        print(f"  clean flagged: {name}: {codes}")
    if not args.no_write:
        doc = [
            "# Metadata rules: validation",
            "",
            f"Measured {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')} by "
            f"`nice .venv/bin/python benchmarks/validate_metadata.py --seeds {args.seeds}` "
            "(also writes `src/earwitness/calibration/metadata.json`).",
            "",
            summary,
            "",
            f"Clean files: {clean_files}; files with any anomaly: {len(clean_flagged)}.",
            "",
            "| defect | flagged | n |",
            "|---|---|---|",
            *[f"| {k} | {v:.0%} | {len(hits[k])} |" for k, v in rates.items()],
            *[f"| {k} | rejected at probe (cannot be opened) | {v} |" for k, v in rejected.items()],
            "",
        ]
        DOC.write_text("\n".join(doc), encoding="utf-8")
        print(f"wrote {DOC}")
        record = {
            "detector": "metadata",
            "summary": summary,
            "figures": figures,
            "dataset": "speech sources: "
            + ", ".join(s[0] for s in speech_sources(rng))
            + f"; {args.seeds} rate/bitrate variants x 10 formats; defects crafted from each",
            "produced_by": "benchmarks/validate_metadata.py",
            "measured_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "params": MetadataParams().to_dict(),
        }
        CALIB.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        print(f"wrote {CALIB}")
    return 0


def _resample(x: np.ndarray, sr: int, rate: int) -> np.ndarray:
    from scipy.signal import resample_poly

    g = np.gcd(sr, rate)
    return resample_poly(x, rate // g, sr // g).astype(np.float32)


if __name__ == "__main__":
    raise SystemExit(main())
