from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from earwitness.speakers.calibration import (
    LinearCalibration,
    cllr,
    eer,
    fit_linear_calibration,
    load_speaker_calibration,
    min_cllr,
    tippett_png,
)


def scores(rng: np.random.Generator, n: int = 2000) -> tuple[np.ndarray, np.ndarray]:
    return rng.normal(0.8, 0.05, n), rng.normal(0.6, 0.07, n)


def test_cllr_reference_values() -> None:
    zeros = np.zeros(10)
    assert cllr(target_llrs=zeros, nontarget_llrs=zeros) == pytest.approx(1.0)
    big = np.full(10, 50.0)
    assert cllr(target_llrs=big, nontarget_llrs=-big) < 1e-9
    assert cllr(target_llrs=-big, nontarget_llrs=big) > 10


def test_eer_of_separated_and_identical_scores() -> None:
    assert eer(target_scores=np.array([2.0, 3.0]), nontarget_scores=np.array([0.0, 1.0])) == 0
    same = np.linspace(0, 1, 101)
    assert eer(target_scores=same, nontarget_scores=same) == pytest.approx(0.5, abs=0.02)


def test_eer_gaussian_matches_theory(rng: np.random.Generator) -> None:
    t, n = rng.normal(1, 1, 20000), rng.normal(-1, 1, 20000)
    # equal-variance Gaussians 2 apart cross at 0: EER = Phi(-1) = 0.1587
    assert eer(target_scores=t, nontarget_scores=n) == pytest.approx(0.1587, abs=0.01)


def test_fit_is_calibrated_on_held_out(rng: np.random.Generator) -> None:
    t, n = scores(rng)
    cal = fit_linear_calibration(target_scores=t, nontarget_scores=n)
    assert cal.slope > 0
    t2, n2 = scores(rng)
    c = cllr(target_llrs=cal.llr(t2), nontarget_llrs=cal.llr(n2))
    m = min_cllr(target_scores=t2, nontarget_scores=n2)
    assert c < 1
    assert m <= c + 1e-9
    assert c - m < 0.05  # well calibrated: little loss over the optimal monotonic map


def test_fit_matches_theory_for_gaussians(rng: np.random.Generator) -> None:
    # equal variances s: the true LLR is linear with slope (mt - mn) / s**2
    t, n = rng.normal(0.8, 0.05, 40000), rng.normal(0.6, 0.05, 40000)
    cal = fit_linear_calibration(target_scores=t, nontarget_scores=n)
    assert cal.slope == pytest.approx(0.2 / 0.05**2, rel=0.05)
    assert float(cal.llr(0.7)) == pytest.approx(0.0, abs=0.1)


def test_fit_rejects_reversed_or_tiny_sets(rng: np.random.Generator) -> None:
    t, n = scores(rng)
    with pytest.raises(ValueError, match="not higher"):
        fit_linear_calibration(target_scores=n, nontarget_scores=t)
    with pytest.raises(ValueError, match="at least two"):
        fit_linear_calibration(target_scores=t[:1], nontarget_scores=n)
    with pytest.raises(ValueError):
        cllr(target_llrs=np.zeros(0), nontarget_llrs=np.zeros(3))


@settings(max_examples=50, deadline=None)
@given(
    st.floats(0.01, 200),
    st.floats(-100, 100),
    st.floats(1, 30),
    st.lists(st.floats(-1, 1), min_size=2, max_size=30),
)
def test_llr_monotonic_in_score(slope: float, offset: float, bound: float, xs: list[float]) -> None:
    cal = LinearCalibration(slope=slope, offset=offset, bound=bound)
    xs_sorted = np.sort(np.asarray(xs))
    llr = cal.llr(xs_sorted)
    assert np.all(np.diff(llr) >= 0)
    assert np.all(np.abs(llr) <= bound)


def test_tippett_png(rng: np.random.Generator) -> None:
    png = tippett_png(target_llrs=rng.normal(3, 2, 50), nontarget_llrs=rng.normal(-3, 2, 80))
    assert png.startswith(b"\x89PNG")


def test_shipped_calibration() -> None:
    cal = load_speaker_calibration()
    # the file is shipped: a missing or unreadable one is a failure, not a reason to skip
    assert cal is not None, "src/earwitness/calibration/speaker_llr.json is missing"
    assert cal.linear.slope > 0
    assert cal.cllr < 1  # calibrated on its held-out trials
    assert 0 <= cal.eer < 0.5
    assert "FSDD" in cal.rates.dataset or "Free Spoken Digit" in cal.rates.dataset
    prov = cal.provenance()
    assert prov["llr_base"].startswith("natural log")
    assert math.isfinite(cal.llr(0.9)) and cal.llr(0.9) > cal.llr(0.5)


@pytest.mark.parametrize(
    ("params", "reason"),
    [({"offset": 0.1}, "missing 'slope'"), ({"slope": "steep", "offset": 0.1}, "not numeric")],
)
def test_incomplete_calibration_params_are_a_model_error(
    monkeypatch: pytest.MonkeyPatch, params: dict, reason: str
) -> None:
    import dataclasses

    import earwitness.speakers.calibration as sc
    from earwitness.errors import ModelError

    real = sc.load_error_rates("speaker_llr")
    assert real is not None
    monkeypatch.setattr(sc, "load_error_rates", lambda d: dataclasses.replace(real, params=params))
    with pytest.raises(ModelError, match=r"speaker_llr\.json") as err:
        load_speaker_calibration()
    assert reason in str(err.value)
