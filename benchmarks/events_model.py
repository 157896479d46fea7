"""The event classifier's model code for ``train_events.py`` and ``diagnose_events.py``:
training rows, the class-weighted perceptron, bagged ensembles of it, and grouped
cross-validation folds (by source clip or by source package).

A bagged ensemble (Breiman 1996, "Bagging predictors", Machine Learning 24) fits each member
on a bootstrap sample of the *source groups* (clips), with one shared standardisation; the
members' logits are averaged (the normalised geometric mean of their probabilities), which is
again a one-hidden-layer network: the hidden layers side by side and the output weights
divided by the number of members. The packaged model format and numpy inference are
unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

from earwitness.events.base import DetectedEvent
from earwitness.events.classifier import BACKGROUND, EventClassifier
from earwitness.events.segment_features import FEATURE_NAMES
from events_data import SFX, packages

CLASSES = (BACKGROUND, "gunfire", "explosion", "aircraft", "vehicle", "crowd")
#: proposals: the DSP impulsive detector with its calibrated thresholds (its shot grouping
#: gives shot counts and intervals; looser thresholds chain speech onsets into long false
#: "bursts"), the sustained detector with looser thresholds, and novelty onsets for the
#: rest; the classifier decides
PROPOSAL: dict[str, dict[str, float]] = {
    "impulsive": {},  # filled from calibration/acoustic_events_dsp.json in main()
    "sustained": {"min_excess_db": 10.0, "max_fluctuation_db": 11.0},
    "novelty": {"min_rise_db": 6.0, "min_peak_db": 8.0},
}


@dataclass
class TrainItem:
    """One mixed recording of the train half: its proposals, their features and labels."""

    group: str
    kind: str  # "events" | "clean" | "distractor"
    truth: list[tuple[str, float, float]]  # (label, onset_s, end_s)
    duration_s: float
    proposals: list[DetectedEvent]
    x: np.ndarray  # features of every proposal
    y: list[int | None]  # class index, None = inside an event, not at its onset (not trained)
    #: events of the DSP layer alone (impulsive and sustained detectors with the calibrated
    #: thresholds of calibration/acoustic_events_dsp.json, restatements resolved)
    dsp: list[DetectedEvent]


def arrays(items: list[TrainItem]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Training rows (proposals with a label), their classes and source groups."""
    xs, ys, gs = [], [], []
    for it in items:
        for row, lab in zip(it.x, it.y, strict=True):
            if lab is not None:
                xs.append(row)
                ys.append(lab)
                gs.append(it.group)
    return np.array(xs), np.array(ys), gs


Model = tuple[np.ndarray, np.ndarray, list[tuple[np.ndarray, np.ndarray]]]


#: class weights are (inverse class frequency) ** WEIGHT_POWER; 0.75 was chosen over 0.5 and
#: 1.0 by the event-level grouped CV on the train half (see docs/benchmarks/events.md)
WEIGHT_POWER = 0.75


def _norm(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    return mean, scale


def fit(
    x: np.ndarray,
    y: np.ndarray,
    l2: float,
    hidden: int,
    seed: int,
    norm: tuple[np.ndarray, np.ndarray] | None = None,
) -> Model:
    """One-hidden-layer perceptron (tanh, softmax) with L2 penalty, trained by L-BFGS
    (Nocedal 1980) on the class-weighted cross-entropy; class weights are the inverse class
    frequency to the power ``WEIGHT_POWER``, so rare event classes count without swamping
    background."""
    mean, scale = norm if norm is not None else _norm(x)
    z = (x - mean) / scale
    nc, nf = len(CLASSES), x.shape[1]
    counts = np.bincount(y, minlength=nc).astype(np.float64)
    cw = np.where(counts > 0, (counts.sum() / (nc * np.maximum(counts, 1))) ** WEIGHT_POWER, 0.0)
    sw = cw[y] / cw[y].sum()
    onehot = np.eye(nc)[y]
    shapes = [(hidden, nf), (hidden,), (nc, hidden), (nc,)]
    sizes = [int(np.prod(sh)) for sh in shapes]

    def unpack(theta: np.ndarray) -> list[np.ndarray]:
        out, i = [], 0
        for sh, n in zip(shapes, sizes, strict=True):
            out.append(theta[i : i + n].reshape(sh))
            i += n
        return out

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w1, b1, w2, b2 = unpack(theta)
        h = np.tanh(z @ w1.T + b1)
        s = h @ w2.T + b2
        s -= s.max(axis=1, keepdims=True)
        p = np.exp(s)
        p /= p.sum(axis=1, keepdims=True)
        ll = -float(np.sum(sw * np.log(np.sum(p * onehot, axis=1) + 1e-12)))
        g = sw[:, None] * (p - onehot)
        gw2 = g.T @ h + l2 * w2
        gh = (g @ w2) * (1.0 - h**2)
        gw1 = gh.T @ z + l2 * w1
        reg = 0.5 * l2 * float(np.sum(w1**2) + np.sum(w2**2))
        grad = np.concatenate([gw1.ravel(), gh.sum(axis=0), gw2.ravel(), g.sum(axis=0)])
        return ll + reg, grad

    r = np.random.default_rng(seed)
    theta0 = np.concatenate(
        [
            r.normal(0, 1 / np.sqrt(nf), sizes[0]),
            np.zeros(sizes[1]),
            r.normal(0, 1 / np.sqrt(hidden), sizes[2]),
            np.zeros(sizes[3]),
        ]
    )
    res = minimize(loss, theta0, jac=True, method="L-BFGS-B", options={"maxiter": 800})
    w1, b1, w2, b2 = unpack(res.x)
    return mean, scale, [(w1, b1), (w2, b2)]


def predict(model: Model, x: np.ndarray) -> np.ndarray:
    mean, scale, layers = model
    (w1, b1), (w2, b2) = layers
    return np.asarray(np.argmax(np.tanh(((x - mean) / scale) @ w1.T + b1) @ w2.T + b2, axis=1))


def macro_f1(y: np.ndarray, pred: np.ndarray) -> float:
    f1s = []
    for c in range(1, len(CLASSES)):
        tp = np.sum((pred == c) & (y == c))
        fp = np.sum((pred == c) & (y != c))
        fn = np.sum((pred != c) & (y == c))
        if tp + fn == 0:
            continue
        f1s.append(2 * tp / max(1, 2 * tp + fp + fn))
    return float(np.mean(f1s))


def as_classifier(model: Model, decision: dict[str, object]) -> EventClassifier:
    mean, scale, layers = model
    bias = dict(decision.get("log_bias", {}))  # type: ignore[call-overload]
    return EventClassifier(
        CLASSES,
        FEATURE_NAMES,
        mean,
        scale,
        tuple(layers),
        PROPOSAL,
        {"decision": decision},
        np.array([float(bias.get(c, 0.0)) for c in CLASSES]),
    )


def fold_probs(
    items: list[TrainItem],
    fold: dict[str, int],
    l2: float,
    hidden: int,
    seed: int,
    members: int = 1,
    train: list[TrainItem] | None = None,
) -> list[np.ndarray]:
    """Held-out class probabilities of every proposal of every item (grouped 3-fold CV: an
    item's probabilities come from a model that saw no item of its fold's groups, clips or
    packages per :func:`folds`); ``members`` > 1: a bagged ensemble (:func:`bagged`).
    ``train``: the items the models learn from (default ``items``; e.g. augmented copies)."""
    out: list[np.ndarray] = [np.zeros((0, len(CLASSES)))] * len(items)
    for k in range(3):
        x, y, g = arrays([it for it in (items if train is None else train) if fold[it.group] != k])
        clf = as_classifier(bagged(x, y, g, l2, hidden, seed, members), {})
        for i, it in enumerate(items):
            if fold[it.group] == k and it.x.shape[0]:
                out[i] = clf.predict_proba(it.x)
    return out


def bagged(
    x: np.ndarray,
    y: np.ndarray,
    groups: list[str],
    l2: float,
    hidden: int,
    seed: int,
    members: int,
) -> Model:
    """``members`` perceptrons, each fitted on a bootstrap sample of the source groups (all
    rows of a drawn group, as often as it is drawn), with the standardisation of all of
    ``x``, combined into one network whose logits are the members' mean logits. One member
    is :func:`fit` on all rows."""
    if members <= 1:
        return fit(x, y, l2, hidden, seed)
    mean, scale = _norm(x)
    ga = np.array(groups)
    ug = sorted(set(groups))
    rows = {g: np.nonzero(ga == g)[0] for g in ug}
    rng = np.random.default_rng(seed + 1000)
    nets = []
    for m in range(members):
        counts = np.bincount(rng.choice(len(ug), len(ug), replace=True), minlength=len(ug))
        idx = np.concatenate([np.repeat(rows[g], c) for g, c in zip(ug, counts, strict=True)])
        nets.append(fit(x[idx], y[idx], l2, hidden, seed + m, norm=(mean, scale))[2])
    w1 = np.vstack([n[0][0] for n in nets])
    b1 = np.concatenate([n[0][1] for n in nets])
    w2 = np.hstack([n[1][0] for n in nets]) / members
    b2 = np.mean([n[1][1] for n in nets], axis=0)
    return mean, scale, [(w1, b1), (w2, b2)]


def package_of(group: str, pkg: dict[str, str]) -> str:
    """Source package of an item's group (clip file); synthetic clips and clean backgrounds
    are their own groups."""
    if group.startswith(("syn_", "synth_")):
        return "synthetic"
    return pkg.get(group, group)


def folds(
    groups: list[str], by: str, seed: int, pkg: dict[str, str] | None = None
) -> dict[str, int]:
    """Fold (0-2) of every group: by source clip or, ``by="package"``, by source package
    (``pkg``: clip file -> package; default: the fetched manifest), so that a held-out
    fold's event clips come from packages the model never heard (as in the validation
    split); synthetic clips and clean backgrounds are spread over the folds."""
    ugroups = sorted(set(groups))
    if by == "clip":
        perm = np.random.default_rng(seed).permutation(ugroups)
        return {str(g): i % 3 for i, g in enumerate(perm)}
    if by != "package":
        raise ValueError(f"unknown fold grouping {by!r}")
    if pkg is None:
        pkg = packages() if (SFX / "manifest.json").is_file() else {}
    spread = [g for g in ugroups if g.startswith(("clean", "syn_", "synth_"))]
    units = sorted({package_of(g, pkg) for g in ugroups if g not in spread})
    rng = np.random.default_rng(seed)
    of_unit = {str(u): i % 3 for i, u in enumerate(rng.permutation(units))}
    out = {str(g): i % 3 for i, g in enumerate(rng.permutation(spread))}
    out.update({g: of_unit[package_of(g, pkg)] for g in ugroups if g not in out})
    return out
