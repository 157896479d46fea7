"""Voice/background consistency (advisory): were loud events mixed in after the voice?

For each loud impulsive event overlapping or next to speech, three checks:

- *bandwidth*: a voice that went through a phone or a narrow-band codec is band-limited; an
  event recorded through the same chain is too. An event reaching far above the voice's
  bandwidth was added after the voice was band-limited (cf. the bandwidth analysis of
  Grigoras 2007 and the codec-trace consistency checks of Maher 2009, "Audio forensic
  examination", IEEE Signal Process. Mag. 26(2)).
- *gain pumping*: a phone microphone's automatic gain control ducks everything after a loud
  bang; a voice whose level does not dip after a bang far louder than itself suggests that the
  bang was not in the room when the voice was captured.
- *noise floor*: the background floor around the voice before and after the event should agree
  with the floor in the event's tail.

These are signs, not proof: the finding is advisory and says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import ndimage

from earwitness.forensics.dsp import frame_view, stft


@dataclass(frozen=True)
class VoiceBackgroundParams:
    """Tunable parameters of the voice/background checks."""

    sr: int = 16000
    hop_s: float = 0.01
    event_rise_db: float = 15.0
    event_keep_db: float = 6.0
    over_p90_db: float = 5.0
    tail_s: float = 0.5
    min_event_s: float = 0.05
    speech_context_s: float = 1.5
    loud_margin_db: float = 6.0
    duck_db: float = 3.0
    bandwidth_ratio: float = 1.5
    floor_change_db: float = 6.0
    max_events: int = 50


@dataclass(frozen=True)
class VoiceBackgroundCheck:
    """The checks made for one event."""

    start_s: float
    end_s: float
    signs: tuple[str, ...]
    checks: dict[str, dict[str, Any]]


def find_loud_events(
    *, y: np.ndarray, sr: int, params: VoiceBackgroundParams | None = None
) -> list[tuple[float, float]]:
    """Loud impulsive events: the level jumps ``event_rise_db`` above its 2 s running median."""
    p = params or VoiceBackgroundParams()
    hop = int(p.hop_s * sr)
    fr = frame_view(y=np.asarray(y, np.float32), frame=2 * hop, hop=hop)
    if fr.shape[0] < 10:
        return []
    lvl = 10 * np.log10(np.mean(fr.astype(np.float64) ** 2, axis=1) + 1e-12)
    med = ndimage.median_filter(lvl, size=int(2.0 / p.hop_s) | 1, mode="nearest")
    # hysteresis: a run above ``med + event_keep_db`` that somewhere rises ``event_rise_db``
    p90 = ndimage.percentile_filter(lvl, 90, size=int(3.0 / p.hop_s) | 1, mode="nearest")
    seed = (lvl > med + p.event_rise_db) & (lvl > p90 + p.over_p90_db)
    hot = lvl > med + p.event_keep_db
    d = np.diff(np.concatenate([[0], hot.astype(np.int8), [0]]))
    out = []
    for a, b in zip(np.nonzero(d == 1)[0], np.nonzero(d == -1)[0], strict=True):
        if seed[a:b].any() and (b - a) * p.hop_s >= p.min_event_s:
            out.append((float(a * p.hop_s), float(b * p.hop_s + p.hop_s)))
    return out[: p.max_events]


def _bandwidth(spec_db: np.ndarray, freqs: np.ndarray) -> float:
    if spec_db.size == 0:
        return float(freqs[-1])
    ref = np.percentile(spec_db[freqs > 150], 95)
    above = np.nonzero((spec_db > ref - 40) & (freqs > 150))[0]
    return float(freqs[above[-1]]) if above.size else float(freqs[-1])


def check_events(
    *,
    y: np.ndarray,
    sr: int,
    events: Sequence[tuple[float, float]],
    y_native: np.ndarray | None = None,
    native_sr: int | None = None,
    params: VoiceBackgroundParams | None = None,
) -> list[VoiceBackgroundCheck]:
    """Run the checks for each event that has speech within ``speech_context_s``."""
    p = params or VoiceBackgroundParams()
    hop = int(p.hop_s * sr)
    x = stft(y=y, n_fft=4 * hop, hop=hop)
    freqs = np.fft.rfftfreq(4 * hop, 1 / sr)
    pw = np.abs(x) ** 2
    voice = (freqs >= 300) & (freqs <= 3400)
    vlev = 10 * np.log10(pw[:, voice].mean(axis=1) + 1e-14)
    tot = 10 * np.log10(pw.mean(axis=1) + 1e-14)
    floor = float(np.percentile(vlev, 10))
    yn, srn = (y_native, native_sr) if y_native is not None and native_sr else (y, sr)
    fn = np.fft.rfftfreq(2048, 1 / srn)
    n_native = max(0, 1 + (yn.size - 2048) // 512)
    out: list[VoiceBackgroundCheck] = []
    n = vlev.size
    ctx = int(p.speech_context_s / p.hop_s)
    for s, e in events:
        a, b = int(s / p.hop_s), int(e / p.hop_s)
        if b <= a or a >= n:
            continue
        before = vlev[max(0, a - ctx) : a]
        tail = int(p.tail_s / p.hop_s)
        after = vlev[min(n, b + tail) : min(n, b + tail + ctx)]
        speech_b = before[before > floor + 12]
        speech_a = after[after > floor + 12]
        if speech_b.size < 0.2 * ctx and speech_a.size < 0.2 * ctx:
            continue
        checks: dict[str, dict[str, Any]] = {}
        signs: list[str] = []
        # bandwidth (native rate)
        na, nb = int(s * srn / 512), int(e * srn / 512) + 1
        ctx_n = int(p.speech_context_s * srn / 512)
        tail_n = int(p.tail_s * srn / 512)
        # native-rate spectra only around this event (the whole file would cost more)
        f0, f1 = max(0, na - ctx_n), min(n_native, nb + tail_n + ctx_n)
        seg = yn[f0 * 512 : max(f0, f1 - 1) * 512 + 2048]
        pn = 10 * np.log10(np.abs(stft(y=seg, n_fft=2048, hop=512)) ** 2 + 1e-14)
        ev_frames = pn[max(0, na - f0) : max(0, nb - f0)]
        sp_idx = [
            i - f0 for i in range(f0, min(f1, f0 + pn.shape[0])) if not na - 4 <= i < nb + tail_n
        ]
        if ev_frames.shape[0] and sp_idx:
            bw_ev = _bandwidth(10 * np.log10(np.mean(10 ** (ev_frames / 10), axis=0)), fn)
            bw_sp = _bandwidth(10 * np.log10(np.mean(10 ** (pn[sp_idx] / 10), axis=0)), fn)
            wider = bw_ev > p.bandwidth_ratio * bw_sp and bw_sp < 0.8 * srn / 2
            checks["bandwidth_hz"] = {
                "voice": round(bw_sp),
                "event": round(bw_ev),
                "threshold_ratio": p.bandwidth_ratio,
                "sign": bool(wider),
            }
            if wider:
                signs.append(
                    f"the event reaches {bw_ev:.0f} Hz but the voice stops at {bw_sp:.0f} Hz"
                )
        # automatic gain control pumping
        ev_peak = float(np.max(tot[a:b]))
        v_before = float(np.percentile(speech_b, 75)) if speech_b.size else None
        v_after = float(np.percentile(speech_a, 75)) if speech_a.size else None
        if v_before is not None and v_after is not None:
            loud = ev_peak > v_before + p.loud_margin_db
            drop = v_before - v_after
            no_duck = loud and drop < p.duck_db
            checks["agc_pumping_db"] = {
                "voice_before": round(v_before, 1),
                "voice_after": round(v_after, 1),
                "event_peak": round(ev_peak, 1),
                "dip": round(drop, 1),
                "threshold": p.duck_db,
                "sign": bool(no_duck),
            }
            if no_duck:
                signs.append(
                    f"no gain dip in the voice after a bang {ev_peak - v_before:.0f} dB louder"
                )
        # noise floor before vs after the event
        fb = vlev[max(0, a - ctx) : a]
        fa = vlev[min(n, b + tail) : min(n, b + tail + ctx)]
        fb, fa = fb[fb > -100.0], fa[fa > -100.0]  # digital silence is not a floor
        if fb.size > 10 and fa.size > 10:
            lb, la = float(np.percentile(fb, 10)), float(np.percentile(fa, 10))
            moved = abs(la - lb) >= p.floor_change_db
            checks["noise_floor_db"] = {
                "before": round(lb, 1),
                "after": round(la, 1),
                "threshold": p.floor_change_db,
                "sign": bool(moved),
            }
            if moved:
                signs.append(f"the background floor moves by {la - lb:+.0f} dB across the event")
        out.append(VoiceBackgroundCheck(start_s=s, end_s=e, signs=tuple(signs), checks=checks))
    return out
