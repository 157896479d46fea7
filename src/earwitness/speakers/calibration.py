"""Score-to-LLR calibration and its evaluation: linear logistic regression, Cllr, EER, Tippett.

The raw comparison score (cosine of two unit speaker vectors) is mapped to a log-likelihood
ratio by ``llr = slope * score + offset`` fitted by prior-weighted logistic regression at an
effective prior of 0.5, and evaluated by Cllr, both from Brümmer & du Preez (2006),
"Application-independent evaluation of speaker detection", Computer Speech & Language 20(2-3),
230-275. LLRs are natural logarithms throughout (``ln LR``); Cllr is in bits, as in that paper
(a system that always says LR = 1 has Cllr = 1; lower is better).

The fitted coefficients live in ``earwitness/calibration/speaker_llr.json``, written by
``benchmarks/calibrate_speakers.py`` (never by hand) together with the data they were fitted
on and the EER/Cllr measured on held-out trials.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

from earwitness.errors import ModelError
from earwitness.findings import ErrorRates, calibration_file, load_error_rates

DETECTOR = "speaker_llr"
LLR_BASE = "natural log (ln LR)"


def _softplus(x: np.ndarray) -> np.ndarray:
    out: np.ndarray = np.logaddexp(0.0, x)
    return out


def cllr(*, target_llrs: np.ndarray, nontarget_llrs: np.ndarray) -> float:
    """Log-likelihood-ratio cost in bits (Brümmer & du Preez 2006, eq. 3); LLRs natural-log.

    ``Cllr = (mean log2(1 + exp(-llr_t)) + mean log2(1 + exp(llr_n))) / 2``.
    """
    t = np.asarray(target_llrs, dtype=np.float64)
    n = np.asarray(nontarget_llrs, dtype=np.float64)
    if len(t) == 0 or len(n) == 0:
        raise ValueError("Cllr needs both target and non-target trials")
    return float((_softplus(-t).mean() + _softplus(n).mean()) / (2 * math.log(2)))


def _pav(y: np.ndarray) -> np.ndarray:
    """Pool-adjacent-violators: the non-decreasing least-squares fit to ``y``."""
    vals: list[float] = []
    wts: list[int] = []
    for v in y:
        vals.append(float(v))
        wts.append(1)
        while len(vals) > 1 and vals[-2] > vals[-1]:
            w = wts[-2] + wts[-1]
            vals[-2] = (vals[-2] * wts[-2] + vals[-1] * wts[-1]) / w
            wts[-2] = w
            vals.pop()
            wts.pop()
    return np.repeat(np.asarray(vals), np.asarray(wts))


def min_cllr(*, target_scores: np.ndarray, nontarget_scores: np.ndarray) -> float:
    """Cllr after the optimal monotonic calibration (PAV), Brümmer & du Preez 2006, sect. 7.

    The gap ``Cllr - min_cllr`` is the cost of miscalibration; ``min_cllr`` that of poor
    discrimination.
    """
    t = np.asarray(target_scores, dtype=np.float64)
    n = np.asarray(nontarget_scores, dtype=np.float64)
    scores = np.concatenate([t, n])
    labels = np.concatenate([np.ones(len(t)), np.zeros(len(n))])
    order = np.lexsort((-labels, scores))
    post = np.clip(_pav(labels[order]), 1e-12, 1 - 1e-12)
    prior_logit = math.log(len(t) / len(n))
    llr = np.log(post / (1 - post)) - prior_logit
    lab = labels[order]
    return cllr(target_llrs=llr[lab == 1], nontarget_llrs=llr[lab == 0])


def eer(*, target_scores: np.ndarray, nontarget_scores: np.ndarray) -> float:
    """Equal error rate: where the miss rate equals the false-alarm rate (linear interpolation
    between the two operating points that bracket the crossing)."""
    t = np.sort(np.asarray(target_scores, dtype=np.float64))
    n = np.sort(np.asarray(nontarget_scores, dtype=np.float64))
    if len(t) == 0 or len(n) == 0:
        raise ValueError("EER needs both target and non-target trials")
    thr = np.unique(np.concatenate([t, n, [np.inf]]))
    p_miss = np.searchsorted(t, thr, side="left") / len(t)
    p_fa = 1.0 - np.searchsorted(n, thr, side="left") / len(n)
    d = p_miss - p_fa
    i = int(np.argmax(d >= 0))
    if i == 0:
        return float((p_miss[0] + p_fa[0]) / 2)
    d0, d1 = d[i - 1], d[i]
    w = 0.0 if d1 == d0 else -d0 / (d1 - d0)
    return float(p_miss[i - 1] + w * (p_miss[i] - p_miss[i - 1]))


@dataclass(frozen=True)
class LinearCalibration:
    """``llr = clip(slope * score + offset, -bound, bound)`` (natural log).

    ``slope`` is positive, so the LLR never decreases as the score grows (strictly increasing
    inside the bounds). ``bound`` (``inf`` = none) caps |LLR| at what the calibration data can
    support: an LR beyond ``n`` cannot be checked with ``n`` trials, in the spirit of the
    empirical bounds of Vergeer et al. (2016), "Numerical likelihood ratios outputted by LR
    systems are often based on extrapolation: when to stop extrapolating?", Science & Justice
    56(6).
    """

    slope: float
    offset: float
    bound: float = math.inf

    def llr(self, score: np.ndarray | float) -> np.ndarray:
        raw = self.slope * np.asarray(score, dtype=np.float64) + self.offset
        out: np.ndarray = np.clip(raw, -self.bound, self.bound)
        return out


def fit_linear_calibration(
    *, target_scores: np.ndarray, nontarget_scores: np.ndarray, prior: float = 0.5
) -> LinearCalibration:
    """Prior-weighted linear logistic regression (Brümmer & du Preez 2006, sect. 4.2 / FoCal).

    Minimises ``P * mean softplus(-(a s_t + b + logit P)) + (1-P) * mean softplus(a s_n + b +
    logit P)``; at ``prior=0.5`` this is Cllr itself (up to the factor ``ln 2``). Raises
    ``ValueError`` when the fitted slope is not positive (the scores do not separate).
    """
    t = np.asarray(target_scores, dtype=np.float64)
    n = np.asarray(nontarget_scores, dtype=np.float64)
    if len(t) < 2 or len(n) < 2:
        raise ValueError("calibration needs at least two target and two non-target trials")
    lp = math.log(prior / (1 - prior))
    mu = float(np.mean(np.concatenate([t, n])))
    sd = float(np.std(np.concatenate([t, n]))) or 1.0
    ts, ns = (t - mu) / sd, (n - mu) / sd

    def cost(w: np.ndarray) -> tuple[float, np.ndarray]:
        a, b = float(w[0]), float(w[1])
        zt = a * ts + b + lp
        zn = a * ns + b + lp
        c = prior * _softplus(-zt).mean() + (1 - prior) * _softplus(zn).mean()
        gt = -prior / (1 + np.exp(zt)) / len(t)
        gn = (1 - prior) / (1 + np.exp(-zn)) / len(n)
        grad = np.array([(gt * ts).sum() + (gn * ns).sum(), gt.sum() + gn.sum()])
        return float(c), grad

    res = minimize(cost, np.array([1.0, 0.0]), jac=True, method="BFGS")
    a, b = float(res.x[0]), float(res.x[1])
    if not a > 0:
        raise ValueError("calibration failed: target scores are not higher than non-target ones")
    return LinearCalibration(slope=a / sd, offset=b - a * mu / sd)


@dataclass(frozen=True)
class SpeakerCalibration:
    """The shipped calibration: coefficients plus the provenance shown beside every LLR."""

    linear: LinearCalibration
    rates: ErrorRates
    embedder: str

    @property
    def eer(self) -> float:
        return float(self.rates.figures["eer"])

    @property
    def cllr(self) -> float:
        return float(self.rates.figures["cllr"])

    def llr(self, score: float) -> float:
        return float(self.linear.llr(score))

    def provenance(self) -> dict[str, object]:
        """What a ``speaker_match``/``speaker_recurrence`` finding quotes about the LLR."""
        return {
            "llr_base": LLR_BASE,
            "calibration_dataset": self.rates.dataset,
            "calibration_eer": self.eer,
            "calibration_cllr": self.cllr,
            "calibration_measured_at": self.rates.measured_at,
            "calibration_produced_by": self.rates.produced_by,
            "calibration_method": "linear logistic regression of cosine scores "
            "(Brümmer & du Preez 2006)",
            "llr_bound": self.linear.bound if math.isfinite(self.linear.bound) else None,
        }


def load_speaker_calibration() -> SpeakerCalibration | None:
    """The calibration in ``earwitness/calibration/speaker_llr.json``, or None if absent."""
    rates = load_error_rates(DETECTOR)
    if rates is None:
        return None
    params = rates.params
    try:
        linear = LinearCalibration(
            slope=float(params["slope"]),
            offset=float(params["offset"]),
            bound=float(params.get("llr_bound", math.inf)),
        )
    except KeyError as exc:
        raise ModelError(
            f"{calibration_file(DETECTOR)}: calibration 'params' is missing {exc.args[0]!r}"
        ) from None
    except (TypeError, ValueError) as exc:
        raise ModelError(
            f"{calibration_file(DETECTOR)}: calibration 'params' is not numeric ({exc})"
        ) from None
    return SpeakerCalibration(linear=linear, rates=rates, embedder=str(params.get("embedder", "")))


def tippett_png(*, target_llrs: np.ndarray, nontarget_llrs: np.ndarray, title: str = "") -> bytes:
    """A Tippett plot (Meuwly & Drygajlo 2001; Brümmer & du Preez 2006) as PNG bytes.

    Curves: the proportion of same-speaker and of different-speaker trials whose log10 LR is
    at least x. Misleading evidence shows as the target curve's drop left of 0 and the
    non-target curve's tail right of 0.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = np.sort(np.asarray(target_llrs, dtype=np.float64)) / math.log(10)
    n = np.sort(np.asarray(nontarget_llrs, dtype=np.float64)) / math.log(10)
    fig, ax = plt.subplots(figsize=(6.4, 4.2), dpi=100)
    for vals, name, colour in (
        (t, "same speaker", "tab:blue"),
        (n, "different speakers", "tab:red"),
    ):
        if len(vals):
            ax.step(
                vals,
                1.0 - np.arange(len(vals)) / len(vals),
                where="post",
                label=f"{name} (n={len(vals)})",
                color=colour,
            )
    ax.axvline(0.0, color="grey", lw=0.8, ls="--")
    ax.set_xlabel("log10 likelihood ratio")
    ax.set_ylabel("proportion of trials with LR ≥ x")
    ax.set_ylim(0, 1.02)
    ax.set_title(title or "Tippett plot")
    ax.legend(loc="lower left")
    ax.grid(alpha=0.3)
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()
