"""Real-speech material and degradations for the archive-matching benchmarks.

References and unrelated queries are built from /work/shared/corpus (FSDD digits
concatenated into longer recordings, with jfk/hotwords/stereo_diarization), split so that no
clip is used both in the index and in an unrelated query.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from earwitness.decode import load_audio
from earwitness.synth import babble
from earwitness.synth import degrade as dg

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
SR = 16000


def _clips(rng: np.random.Generator, held_out: bool) -> list[np.ndarray]:
    files = sorted((CORPUS / "fsdd").glob("*.flac"))
    sel = [f for f in files if (int(f.stem.split("_")[2]) >= 25) == held_out]
    rng.shuffle(sel)  # type: ignore[arg-type]
    out = []
    for f in sel:
        y = load_audio(f, sr=SR).samples
        out.append(y / (np.sqrt(np.mean(y**2)) + 1e-9) * 0.05)
    return out


def _concat(clips: list[np.ndarray], seconds: float, rng: np.random.Generator) -> np.ndarray:
    parts: list[np.ndarray] = []
    n = 0
    while n < seconds * SR and clips:
        y = clips.pop()
        gap = np.zeros(int(rng.uniform(0.03, 0.25) * SR), np.float32)
        parts += [y, gap]
        n += y.size + gap.size
    return np.concatenate(parts)[: int(seconds * SR)].astype(np.float32)


def build(
    seed: int = 1, n_refs: int = 8, ref_s: float = 50.0, n_null: int = 200
) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]]:
    """(references, filler speech for new recordings, unrelated queries)."""
    rng = np.random.default_rng(seed)
    idx_clips = _clips(rng, held_out=False)
    other = _clips(rng, held_out=True)
    other_all = list(other)
    extra = [
        load_audio(CORPUS / n, sr=SR).samples
        for n in ("jfk.flac", "hotwords.mp3", "stereo_diarization.flac")
    ]
    refs = [_concat(idx_clips, ref_s, rng) for _ in range(n_refs - 1)]
    refs.append(np.concatenate([extra[0], _concat(idx_clips, ref_s - 11, rng)]))
    filler = [_concat(other, 25.0, rng) for _ in range(8)]
    null = []
    for _ in range(n_null // 2):
        # new recordings made of held-out clips (drawn with replacement, new order and gaps)
        pick = [other_all[i] for i in rng.integers(0, len(other_all), 40)]
        null.append(_concat(pick, 10.0, rng))
    null += [
        babble(duration_s=10.0, sr=SR, rng=rng, f0=float(rng.uniform(90, 220)))
        for _ in range(n_null - len(null))
    ]
    null.append(np.concatenate([extra[1], extra[2]]))
    return refs, filler, null


def conditions(rng: np.random.Generator) -> dict[str, Callable[[np.ndarray], np.ndarray]]:
    def codec(
        name: str, bitrate: int | None, out_sr: int | None = None
    ) -> Callable[[np.ndarray], np.ndarray]:
        def f(y: np.ndarray) -> np.ndarray:
            x, sr = dg.codec_roundtrip(y=y, sr=SR, codec=name, bitrate=bitrate, out_sr=out_sr)
            return dg.resample_speed(y=x, factor=sr / SR) if sr != SR else x

        return f

    def trim_gain(y: np.ndarray) -> np.ndarray:
        return (y[int(0.37 * SR) :] * 10 ** (-12 / 20)).astype(np.float32)

    return {
        "clean": lambda y: y,
        "mp3 32k": codec("mp3", 32000),
        "opus 16k voip": codec("opus", 16000),
        "aac 32k": codec("m4a", 32000),
        "amr-nb 12.2k": codec("amr", None),
        "white noise 10 dB": lambda y: dg.add_noise(y=y, snr_db=10, rng=rng),
        "white noise 0 dB": lambda y: dg.add_noise(y=y, snr_db=0, rng=rng),
        "music bed 5 dB": lambda y: dg.add_noise(
            y=y, snr_db=5, rng=rng, noise=dg.music_bed(duration_s=y.size / SR, sr=SR, rng=rng)
        ),
        "gain -12 dB + trim": trim_gain,
        "speed +5%": lambda y: dg.resample_speed(y=y, factor=1.05),
        "speed -5%": lambda y: dg.resample_speed(y=y, factor=0.95),
        "speed +3%": lambda y: dg.resample_speed(y=y, factor=1.03),
        "tempo +5%": lambda y: dg.wsola(y=y, sr=SR, rate=1.05),
        "tempo -5%": lambda y: dg.wsola(y=y, sr=SR, rate=0.95),
        "pitch +50 c": lambda y: dg.pitch_shift(y=y, sr=SR, cents=50),
        "pitch -50 c": lambda y: dg.pitch_shift(y=y, sr=SR, cents=-50),
    }


def degraded(queries: list[np.ndarray], rng: np.random.Generator) -> list[np.ndarray]:
    """The unrelated queries with white noise at 0 dB, a music bed at 5 dB or white noise at
    10 dB SNR added (in turn): a false-positive check where chance alignments are likelier."""
    out = []
    for i, y in enumerate(queries):
        if i % 3 == 0:
            z = dg.add_noise(y=y, snr_db=0, rng=rng)
        elif i % 3 == 1:
            bed = dg.music_bed(duration_s=y.size / SR, sr=SR, rng=rng)
            z = dg.add_noise(y=y, snr_db=5, rng=rng, noise=bed)
        else:
            z = dg.add_noise(y=y, snr_db=10, rng=rng)
        out.append(z.astype(np.float32))
    return out


SPEED = {
    "speed +5%": 1.05,
    "speed -5%": 0.95,
    "speed +3%": 1.03,
    "tempo +5%": 1.05,
    "tempo -5%": 0.95,
}
