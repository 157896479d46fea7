"""Real material for the forensic validation runs (imported by ``validate_forensics.py``).

- Speech: the shared corpus (``/work/shared/corpus``): Free Spoken Digit Dataset clips
  (CC BY-SA 4.0, Jakobovski et al.), ``jfk.flac`` (public domain), ``stereo_diarization.flac``
  (MIT, faster-whisper). Never copied into the repository.
- Gunshots and explosions: the Debian package ``teeworlds-data`` (sounds by Magnus Auvinen and
  contributors, CC BY-SA 3.0, see its ``copyright`` file), fetched with ``apt-get download``
  and unpacked with ``dpkg -x`` into ``benchmarks/data/forensics/`` (git-ignored).
"""

from __future__ import annotations

import glob
import subprocess
from functools import cache
from pathlib import Path

import numpy as np
from scipy import signal as sps

from earwitness.decode import load_audio
from earwitness.synth import noise

HERE = Path(__file__).resolve().parent
DATA = HERE / "data" / "forensics"
CORPUS = HERE.parent.parent / "shared" / "corpus"
SFX_PACKAGE = "teeworlds-data"
SFX_GLOB = "usr/share/games/teeworlds/data/audio/wp_*.wv"
SFX_LICENCE = "teeworlds-data sounds: (c) Magnus Auvinen and contributors, CC BY-SA 3.0"
SPEECH_LICENCE = "FSDD (CC BY-SA 4.0), JFK inaugural excerpt (public domain)"


def fetch_sfx() -> Path:
    """Download and unpack ``teeworlds-data`` once; returns the unpack directory."""
    root = DATA / "x"
    if glob.glob(str(root / SFX_GLOB)):
        return root
    DATA.mkdir(parents=True, exist_ok=True)
    debs = glob.glob(str(DATA / f"{SFX_PACKAGE}_*.deb"))
    if not debs:
        subprocess.run(["apt-get", "download", SFX_PACKAGE], cwd=DATA, check=True)
        debs = glob.glob(str(DATA / f"{SFX_PACKAGE}_*.deb"))
    subprocess.run(["dpkg", "-x", debs[0], str(root)], check=True)
    return root


@cache
def sfx(sr: int) -> tuple[tuple[str, np.ndarray], ...]:
    """Weapon and explosion effects (>= 0.3 s) at ``sr``, peak-normalised to 0.9."""
    out = []
    for f in sorted(glob.glob(str(fetch_sfx() / SFX_GLOB))):
        y = load_audio(f, sr=sr).samples
        if y.size >= 0.3 * sr and np.max(np.abs(y)) > 0:
            out.append((Path(f).stem, (0.9 * y / np.max(np.abs(y))).astype(np.float32)))
    return tuple(out)


@cache
def fsdd(sr: int) -> dict[tuple[str, int], list[np.ndarray]]:
    """FSDD clips by (speaker, digit) at ``sr``, RMS-normalised to -20 dBFS."""
    out: dict[tuple[str, int], list[np.ndarray]] = {}
    for f in sorted(glob.glob(str(CORPUS / "fsdd" / "*.flac"))):
        digit, speaker, _ = Path(f).stem.split("_")
        y = load_audio(f, sr=sr).samples.astype(np.float64)
        y = y - y.mean()
        y *= 0.1 / (np.sqrt(np.mean(y**2)) + 1e-9)
        out.setdefault((speaker, int(digit)), []).append(y.astype(np.float32))
    if not out:
        raise SystemExit(f"the shared corpus is missing: {CORPUS}")
    return out


@cache
def long_speech(sr: int) -> tuple[np.ndarray, ...]:
    """Continuous real recordings (JFK, stereo_diarization downmix) at ``sr``."""
    out = []
    for name in ("jfk.flac", "stereo_diarization.flac"):
        y = load_audio(CORPUS / name, sr=sr).samples.astype(np.float64)
        y *= 0.1 / (np.sqrt(np.mean(y**2)) + 1e-9)
        out.append(y.astype(np.float32))
    return tuple(out)


def background(
    *, rng: np.random.Generator, sr: int, duration_s: float, level_db: float, color: str
) -> np.ndarray:
    """Continuous background noise (high-passed at 20 Hz like a recording chain)."""
    y = noise(duration_s=duration_s, sr=sr, rng=rng, amp=10 ** (level_db / 20), color=color)
    sos = sps.butter(2, 20.0, "highpass", fs=sr, output="sos")
    y = sps.sosfilt(sos, y)
    return (y * 10 ** (level_db / 20) / (np.std(y) + 1e-12)).astype(np.float32)


def speech_recording(
    *,
    rng: np.random.Generator,
    sr: int,
    duration_s: float,
    level_db: float | None = None,
    color: str | None = None,
    speaker: str | None = None,
    repeat_digit: bool = False,
    use_long: bool = True,
) -> np.ndarray:
    """A continuous "recording": real speech clips over one continuous background.

    ``repeat_digit`` makes one speaker say the same digit again and again (different takes):
    the "repeated words" case a copy-move detector must not flag. ``use_long=False`` leaves
    out the JFK/diarization excerpts, whose own noise floors would be inserted recordings.
    """
    clips = fsdd(sr)
    speakers = sorted({s for s, _ in clips})
    spk = speaker or speakers[int(rng.integers(len(speakers)))]
    lvl = level_db if level_db is not None else float(rng.uniform(-55, -35))
    col = color or str(rng.choice(["pink", "white", "brown"]))
    y = background(rng=rng, sr=sr, duration_s=duration_s, level_db=lvl, color=col)
    digit = int(rng.integers(10))
    used: set[tuple[int, int]] = set()
    t = float(rng.uniform(0.1, 0.5))
    long_used: set[int] = set()
    while t < duration_s - 1.0:
        j = int(rng.integers(2))
        if use_long and not repeat_digit and j not in long_used and rng.random() < 0.08:
            long_used.add(j)  # each long recording at most once: no accidental copies
            seg = long_speech(sr)[j]
            a = int(rng.integers(0, max(1, seg.size - 3 * sr)))
            clip = seg[a : a + int(rng.uniform(1.0, 3.0) * sr)]
        else:
            if repeat_digit and all((digit, i) in used for i in range(len(clips[(spk, digit)]))):
                digit = (digit + 1) % 10
            d = digit if repeat_digit else int(rng.integers(10))
            takes = clips[(spk, d)]
            k = int(rng.integers(len(takes)))
            if (d, k) in used:  # never the same take twice: that would be a real copy
                k = next((i for i in range(len(takes)) if (d, i) not in used), k)
            used.add((d, k))
            clip = takes[k]
        s = int(t * sr)
        m = min(clip.size, y.size - s)
        y[s : s + m] += clip[:m] * 10 ** (rng.uniform(-4, 2) / 20)
        t += m / sr + float(rng.uniform(0.1, 0.6))
    return y
