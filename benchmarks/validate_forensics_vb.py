"""Validation of the voice/background consistency checks (advisory; see
``validate_forensics.py``)."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import numpy as np
from scipy import signal as sps

import validate_forensics_data as D
from earwitness.forensics.dsp import resample
from earwitness.forensics.voice_background import VoiceBackgroundParams, check_events
from earwitness.synth import forensics as F
from validate_forensics_common import pct, write_calibration

SR = 32000
ITEM_S = 10.0
CONDITIONS = ("mixed_later", "together_phone_agc", "together_fullband_no_agc")


@dataclass
class Item:
    condition: str
    y: np.ndarray
    event: tuple[float, float]


def _phone(y: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    sos = sps.butter(8, float(rng.uniform(3400, 7000)), "lowpass", fs=SR, output="sos")
    return sps.sosfilt(sos, y).astype(np.float32)


def make_item(rng: np.random.Generator, condition: str) -> Item:
    voice = F.speech_bed(
        sr=SR, rng=rng, duration_s=ITEM_S, noise_amp=float(rng.uniform(0.002, 0.01)), color="white"
    )
    sounds = [s for n, s in D.sfx(SR) if "explo" in n or "fire" in n or "hit" in n]
    bang = sounds[int(rng.integers(len(sounds)))]
    t = float(rng.uniform(3.5, 6.0))
    a = int(t * SR)
    level = 10 ** (rng.uniform(6, 15) / 20) * np.sqrt(np.mean(voice**2)) * 3
    b = bang / (np.sqrt(np.mean(bang**2)) + 1e-9) * level * 0.3
    if condition == "mixed_later":
        y = _phone(voice, rng)
        y[a : a + b.size] += b[: y.size - a]
    else:
        y = voice.copy()
        y[a : a + b.size] += b[: y.size - a]
        if condition == "together_phone_agc":
            g = np.ones(y.size, np.float32)
            tt = np.arange(y.size - a) / SR
            duck = 1 - 10 ** (-rng.uniform(6, 12) / 20)
            g[a:] = 1 - duck * np.exp(-np.maximum(tt - 0.02, 0) / rng.uniform(1.0, 3.0)) * (
                tt > 0.02
            )
            y = _phone(y * g, rng)
    return Item(condition, y.astype(np.float32), (t, t + b.size / SR))


def run(args: argparse.Namespace) -> None:
    rng = np.random.default_rng(args.seed + 3)
    n = max(3, int(30 * args.scale))
    p = VoiceBackgroundParams()
    rates: dict[str, float] = {}
    counts: dict[str, int] = {}
    for cond in CONDITIONS:
        flagged = []
        per_sign: dict[str, list[bool]] = {}
        for _ in range(n):
            it = make_item(rng, cond)
            y16 = resample(y=it.y, sr=SR, target_sr=p.sr)
            checks = check_events(
                y=y16, sr=p.sr, events=[it.event], y_native=it.y, native_sr=SR, params=p
            )
            if not checks:
                flagged.append(False)
                continue
            c = checks[0]
            flagged.append(bool(c.signs))
            for k, v in c.checks.items():
                per_sign.setdefault(k, []).append(bool(v["sign"]))
        rates[f"any_sign[{cond}]"] = float(np.mean(flagged))
        for k, v in per_sign.items():
            rates[f"{k}[{cond}]"] = float(np.mean(v))
        counts[cond] = n
    summary = (
        f"Advisory. On synthetic validation mixes, at least one sign of later mixing was raised "
        f"for {pct(rates['any_sign[mixed_later]'])} of bangs added after a phone-like chain, "
        f"for {pct(rates['any_sign[together_phone_agc]'])} of bangs recorded through the same "
        f"chain with AGC, and for {pct(rates['any_sign[together_fullband_no_agc]'])} of bangs "
        f"recorded together by a full-band device without AGC."
    )
    dataset = (
        f"{n} items per condition {CONDITIONS}: 10 s synthetic speech at 32 kHz over white "
        f"noise with one teeworlds-data explosion/gunfire sample 6-15 dB above the voice; "
        f"phone chain = 8th-order low-pass at 3.4-7 kHz, AGC = 6-12 dB duck recovering over "
        f"1-3 s. Event spans given (as from the acoustic_events stage). {D.SFX_LICENCE}."
    )
    write_calibration(
        "voice_background",
        summary=summary,
        figures=rates,
        dataset=dataset,
        params=p,
        write=not args.no_write,
    )
