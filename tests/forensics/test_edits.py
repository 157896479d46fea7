"""Edit-point detection on synthetic ground truth."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from earwitness.forensics import enf
from earwitness.forensics.edits import EditParams, digital_silences, find_edit_points
from earwitness.synth import forensics as F

SR = 16000


def _near(points: list, t: float, tol: float = 0.05) -> list:  # type: ignore[type-arg]
    return [p for p in points if abs(p.t_s - t) <= tol]


def test_splice_of_two_recordings_within_50ms(rng: np.random.Generator) -> None:
    a = F.speech_bed(sr=SR, rng=rng, duration_s=10, noise_amp=0.003)
    b = F.speech_bed(sr=SR, rng=rng, duration_s=10, noise_amp=0.02, color="white")
    y, truth = F.splice(a=a, b=b, at_a_s=5.02, from_b_s=3.0, sr=SR)
    points, _ = find_edit_points(y=y, sr=SR)
    hit = _near(points, truth.t_s)
    assert hit
    ev = hit[0].evidence["noise_floor_db"]
    assert ev["moved"] and ev["after"] > ev["before"]
    assert set(ev) >= {"before", "after", "change", "unit", "threshold"}


def test_inserted_digital_silence_both_ends(rng: np.random.Generator) -> None:
    a = F.speech_bed(sr=SR, rng=rng, duration_s=10, noise_amp=0.003)
    y, truth = F.insert_silence(y=a, sr=SR, at_s=4.0, length_s=0.3)
    points, _ = find_edit_points(y=y, sr=SR)
    for t in truth:
        hit = _near(points, t.t_s, tol=0.001)
        assert hit and "digital_silence" in hit[0].triggered_by


def test_digital_silence_runs() -> None:
    y = np.ones(1000, np.float32)
    y[100:300] = 0.0
    y[500:505] = 0.0
    assert digital_silences(y=y, sr=10000, min_s=0.01) == [(100, 300)]


def test_dc_jump(rng: np.random.Generator) -> None:
    a = F.speech_bed(sr=SR, rng=rng, duration_s=10, noise_amp=0.003)
    y, truth = F.dc_jump(y=a, sr=SR, at_s=6.33, offset=0.02)
    points, _ = find_edit_points(y=y, sr=SR)
    hit = _near(points, truth.t_s)
    assert hit and hit[0].evidence["dc_offset"]["moved"]
    assert hit[0].evidence["dc_offset"]["change"] == pytest.approx(0.02, abs=0.005)


def test_enf_phase_break_with_50hz_hum(rng: np.random.Generator) -> None:
    base = F.speech_bed(sr=SR, rng=rng, duration_s=20, noise_amp=0.003)
    base = base + F.hum(sr=SR, duration_s=20, rng=rng, amp=0.01)
    y, truth = F.delete(y=base, sr=SR, start_s=7.0, length_s=1.234)
    points, summary = find_edit_points(y=y, sr=SR)
    assert summary["hum"]["nominal_hz"] == 50.0
    hit = _near(points, truth.t_s)
    assert hit and "enf_phase_rad" in hit[0].triggered_by
    assert abs(hit[0].evidence["enf_phase_rad"]["change"]) > 0.6


def test_hum_detection_and_absence(rng: np.random.Generator) -> None:
    h = F.hum(sr=1000, duration_s=10, rng=rng, freq=60.0, amp=0.05)
    x = h + 0.01 * rng.standard_normal(h.size)
    info = enf.detect_hum(x=x)
    assert info is not None and info.nominal_hz in (60.0, 120.0, 180.0)
    assert enf.detect_hum(x=0.01 * rng.standard_normal(10000)) is None


def test_continuous_recording_with_hum_gives_no_edit(rng: np.random.Generator) -> None:
    y = F.speech_bed(sr=SR, rng=rng, duration_s=30, noise_amp=0.005)
    y = y + F.hum(sr=SR, duration_s=30, rng=rng, amp=0.01)
    points, _ = find_edit_points(y=y, sr=SR)
    assert points == []


def test_short_input() -> None:
    points, _ = find_edit_points(y=np.zeros(100, np.float32), sr=SR, params=EditParams())
    assert points == []


@settings(max_examples=25, deadline=None)
@given(start=st.integers(1, 5000), length=st.integers(100, 3000))
def test_digital_silence_run_is_exact(start: int, length: int) -> None:
    y = np.full(10000, 0.01, np.float32)
    y[start : start + length] = 0.0
    runs = digital_silences(y=y, sr=10000, min_s=0.01)
    assert runs == [(start, min(start + length, 10000))]


def _calibrated_params() -> EditParams:
    import dataclasses
    import json
    from importlib import resources

    text = (resources.files("earwitness") / "calibration" / "edit_points.json").read_text()
    cal = json.loads(text)["params"]
    names = {f.name for f in dataclasses.fields(EditParams)}
    return EditParams(**{k: v for k, v in cal.items() if k in names})


def test_demo_splice_found_once() -> None:
    # The demo's second take (louder room, higher voice) starts at 14.2 s; the spectrum
    # window that still straddles the splice 1.2 s later used to add a second, false point.
    from earwitness.demo import staged_recording
    from earwitness.forensics.dsp import resample

    y, truth = staged_recording(rng=np.random.default_rng(20261125))
    points, _ = find_edit_points(
        y=resample(y=y, sr=truth.sr, target_sr=SR), sr=SR, params=_calibrated_params()
    )
    assert [round(p.t_s, 1) for p in points] == [round(truth.splice_s, 1)]


@pytest.mark.parametrize("second_step_db", [0.0, 12.0])
def test_window_echo_dropped_unless_it_changes_again(second_step_db: float) -> None:
    from earwitness.forensics.edits import EditPoint, _drop_window_echoes

    p = EditParams(floor_threshold_db=6.0, spectrum_threshold_db=5.0)
    t = np.arange(600) * p.hop_s
    bands = np.full((600, 8), -60.0, dtype=np.float32)
    bands[200:] += 10.0  # the real edit at 2.0 s
    bands[320:] += second_step_db  # 1.2 s later: nothing new, or a second real edit
    strong = EditPoint(t_s=2.0, score=3.0, triggered_by=("noise_floor_db",))
    echo = EditPoint(t_s=3.2, score=1.2, triggered_by=("noise_spectrum_db",))
    far = EditPoint(t_s=5.0, score=1.1, triggered_by=("noise_floor_db",))
    dc = EditPoint(t_s=3.3, score=1.1, triggered_by=("dc_offset",))
    kept = _drop_window_echoes([echo, far, strong, dc], bands=bands, t_frames=t, p=p)
    want = [strong, echo, dc, far] if second_step_db else [strong, dc, far]
    assert kept == want
