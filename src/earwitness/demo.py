"""``earwitness demo``: a staged recording made in code, ingested and analysed end to end.

The recording (about 24 s) is built from :mod:`earwitness.synth` material with known ground
truth: speech-like babble over room noise; one impulsive "gunshot" sample pasted three times;
a splice where a second take with a louder, differently coloured room noise begins. It is
encoded to AAC in an .m4a container with a few container tags. Nothing is downloaded: the demo
works offline on a fresh machine.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from scipy import signal as sps

from earwitness.synth import babble, encode_file, noise

DEMO_SR = 22050


@dataclass(frozen=True)
class DemoTruth:
    """What was staged, for comparing with the report."""

    duration_s: float
    sr: int
    gunshot_starts_s: tuple[float, ...]
    gunshot_length_s: float
    splice_s: float
    noise_floor_jump_db: float
    codec: str
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def gunshot(*, sr: int, rng: np.random.Generator, length_s: float = 0.6) -> np.ndarray:
    """An impulsive muzzle-blast-like sample: a broadband burst with a sub-millisecond attack
    and ~12 ms decay, a short low-frequency thump, two early reflections and an outdoor
    reverberant tail (~150 ms decay constant, audible for ~0.5 s). Peak 0.9."""
    n = int(length_s * sr)
    t = np.arange(n) / sr
    burst = rng.standard_normal(n) * np.exp(-t / 0.012)
    b, a = sps.butter(2, 300, btype="highpass", fs=sr)
    burst = sps.lfilter(b, a, burst)
    boom = np.sin(2 * np.pi * 90 * t) * np.exp(-t / 0.03) * 0.3
    tail = sps.lfilter(b, a, rng.standard_normal(n)) * np.exp(-t / 0.15) * 0.12
    y = burst / (np.max(np.abs(burst)) + 1e-12) + boom + tail
    out = y.copy()
    for delay_s, gain in ((0.011, 0.45), (0.037, 0.25)):
        d = int(delay_s * sr)
        out[d:] += gain * y[: n - d]
    out *= np.minimum(1.0, t / 0.0004)  # sub-millisecond attack
    peak = float(np.max(np.abs(out))) + 1e-12
    result: np.ndarray = (0.9 * out / peak).astype(np.float32)
    return result


def staged_recording(
    *, rng: np.random.Generator, sr: int = DEMO_SR, duration_s: float = 24.0
) -> tuple[np.ndarray, DemoTruth]:
    """The demo signal (mono float32) and its ground truth."""
    n = int(duration_s * sr)
    splice = 14.2
    k = int(splice * sr)
    take1 = babble(duration_s=splice, sr=sr, rng=rng, amp=0.28, f0=118.0)
    take2 = babble(duration_s=duration_s - splice, sr=sr, rng=rng, amp=0.28, f0=126.0)
    speech = np.concatenate([take1, take2])[:n]
    hp = sps.butter(2, 60, btype="highpass", fs=sr, output="sos")
    room1 = noise(duration_s=duration_s, sr=sr, rng=rng, amp=0.004, color="pink")
    room2 = noise(duration_s=duration_s, sr=sr, rng=rng, amp=0.011, color="pink")
    room2 += noise(duration_s=duration_s, sr=sr, rng=rng, amp=0.005, color="white")
    room1 = sps.sosfilt(hp, room1).astype(np.float32)
    room2 = sps.sosfilt(hp, room2).astype(np.float32)
    room = np.where(np.arange(n) < k, room1[:n], room2[:n])
    y = speech + room
    shot = gunshot(sr=sr, rng=rng)
    starts = (4.3, 9.85, 19.4)
    for s in starts:
        i = int(s * sr)
        y[i : i + shot.shape[0]] += shot[: n - i]
    y = np.clip(y, -0.99, 0.99).astype(np.float32)
    jump = 20 * np.log10(np.std(room2[k:]) / np.std(room1[:k]))
    truth = DemoTruth(
        duration_s=duration_s,
        sr=sr,
        gunshot_starts_s=starts,
        gunshot_length_s=shot.shape[0] / sr,
        splice_s=splice,
        noise_floor_jump_db=round(float(jump), 1),
        codec="aac (m4a)",
        notes=(
            "speech is synthetic babble (not a language); the second take starts at the "
            "splice with a higher voice pitch",
            "the same gunshot sample is added at each start time (a pasted sound)",
        ),
    )
    return y, truth


def write_demo_recording(path: Path, *, seed: int = 20261125) -> DemoTruth:
    """Write the staged recording to ``path`` (.m4a) and return its ground truth."""
    y, truth = staged_recording(rng=np.random.default_rng(seed))
    encode_file(
        path,
        y,
        sr=truth.sr,
        codec="m4a",
        bitrate=96000,
        tags={
            "title": "Statement (earwitness demo)",
            "artist": "earwitness demo",
            "date": "2026-11-20",
            "comment": "synthetic test material",
        },
    )
    path.with_name(path.stem + ".truth.json").write_text(
        json.dumps(truth.to_dict(), indent=2) + "\n", encoding="utf-8"
    )
    return truth
