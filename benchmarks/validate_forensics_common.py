"""Shared helpers of the forensic validation scripts (calibration files, processing)."""

from __future__ import annotations

import dataclasses
import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from scipy import signal as sps

from earwitness.decode import load_audio
from earwitness.synth import encode_file

ROOT = Path(__file__).resolve().parents[1]
CALIB = ROOT / "src" / "earwitness" / "calibration"
PRODUCED_BY = "benchmarks/validate_forensics.py"


def write_calibration(
    detector: str,
    *,
    summary: str,
    figures: dict[str, float],
    dataset: str,
    params: object,
    extra: dict[str, Any] | None = None,
    write: bool = True,
) -> dict[str, Any]:
    """Write the calibration file the stage loads (params + measured error rates)."""
    data = {
        "detector": detector,
        "summary": summary,
        "figures": {k: round(float(v), 4) for k, v in figures.items()},
        "dataset": dataset,
        "produced_by": PRODUCED_BY,
        "measured_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "params": {
            **json.loads(json.dumps(dataclasses.asdict(params))),  # type: ignore[call-overload]
            **(extra or {}),
        },
    }
    text = json.dumps(data, indent=2, sort_keys=False) + "\n"
    if write:
        CALIB.mkdir(parents=True, exist_ok=True)
        (CALIB / f"{detector}.json").write_text(text, encoding="utf-8")
    print(text)
    return data


def post_process(y: np.ndarray, sr: int, kind: str, rng: np.random.Generator) -> np.ndarray:
    """Whole-file processing applied after the manipulation."""
    if kind == "gain":
        return (y * 10 ** (rng.uniform(-9, 3) / 20)).astype(np.float32)
    if kind == "lowpass":
        sos = sps.butter(4, rng.uniform(3000, 6000), "lowpass", fs=sr, output="sos")
        return sps.sosfilt(sos, y).astype(np.float32)
    if kind == "eq":
        sos = sps.butter(
            2, [rng.uniform(150, 400), rng.uniform(3500, 7000)], "bandpass", fs=sr, output="sos"
        )
        return sps.sosfilt(sos, y).astype(np.float32)
    if kind.startswith("mp3"):
        with tempfile.TemporaryDirectory() as d:
            peak = max(1.0, float(np.max(np.abs(y))) / 0.95)
            p = encode_file(
                Path(d) / "x.mp3", y / peak, sr=sr, codec="mp3", bitrate=int(kind[4:]) * 1000
            )
            out = load_audio(p, sr=sr).samples[: y.size]
            return np.pad(out, (0, y.size - out.size)) * peak
    return y


def frac_overlap(a: tuple[float, float], b: tuple[float, float]) -> float:
    inter = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
    return inter / max(1e-9, min(a[1] - a[0], b[1] - b[0]))


def pct(x: float) -> str:
    return f"{100 * x:.0f}%"
