"""The event classifier's training code (``benchmarks/events_model.py``): bagged ensembles
merged into one network, and CV folds grouped by source package."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from events_model import CLASSES, as_classifier, bagged, fit, folds


def _blobs(rng: np.random.Generator, n: int = 60) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Three separable classes in 5 features (known ground truth), 12 source groups."""
    centres = np.array([[0, 0, 0, 0, 0], [4, 0, 0, 1, 0], [0, 4, 0, 0, 1]], dtype=float)
    y = np.repeat(np.arange(3), n)
    x = centres[y] + rng.normal(0.0, 0.7, (y.size, 5))
    groups = [f"clip{i % 12}" for i in range(y.size)]
    return x, y, groups


def _logits(
    model: tuple[np.ndarray, np.ndarray, list[tuple[np.ndarray, np.ndarray]]], x: np.ndarray
) -> np.ndarray:
    mean, scale, ((w1, b1), (w2, b2)) = model
    return np.asarray(np.tanh(((x - mean) / scale) @ w1.T + b1) @ w2.T + b2)


def test_bagged_ensemble_is_one_network_with_the_members_mean_logits(
    rng: np.random.Generator,
) -> None:
    x, y, groups = _blobs(rng)
    merged = bagged(x, y, groups, 0.001, 4, seed=3, members=3)
    mean, scale, ((w1, b1), (w2, _b2)) = merged
    assert w1.shape == (12, 5) and w2.shape == (len(CLASSES), 12)
    # rebuild the members from the merged weights (hidden units side by side, output / 3)
    parts = [
        (
            mean,
            scale,
            [
                (w1[4 * m : 4 * m + 4], b1[4 * m : 4 * m + 4]),
                (3 * w2[:, 4 * m : 4 * m + 4], merged[2][1][1]),
            ],
        )
        for m in range(3)
    ]
    mean_logits = np.mean([_logits(p, x) for p in parts], axis=0)
    # each member carries the mean output bias, so the mean of the members is the merged net
    assert np.allclose(_logits(merged, x), mean_logits)
    pred = np.argmax(as_classifier(merged, {}).predict_proba(x), axis=1)
    assert np.mean(pred == y) > 0.95  # known classes recovered


def test_one_member_is_the_plain_network(rng: np.random.Generator) -> None:
    x, y, groups = _blobs(rng)
    a = bagged(x, y, groups, 0.001, 4, seed=3, members=1)
    b = fit(x, y, 0.001, 4, 3)
    assert np.allclose(_logits(a, x), _logits(b, x))


def test_package_folds_never_split_a_package() -> None:
    """Brute-force oracle: every pair of clips of one package shares a fold; clean and
    synthetic groups are spread over all three folds."""
    pkg = {f"{p}_{i}.wav": p for p in "abcdefg" for i in range(4)}
    groups = [*pkg, *(f"clean{i}" for i in range(9)), *(f"syn_shot{i}" for i in range(6))]
    for seed in range(5):
        f = folds(groups, "package", seed, pkg=pkg)
        assert set(f) == set(groups)
        for g in pkg:
            for h in pkg:
                if pkg[g] == pkg[h]:
                    assert f[g] == f[h]
        assert {f[g] for g in groups if g.startswith(("clean", "syn_"))} == {0, 1, 2}
        assert {f[g] for g in pkg} == {0, 1, 2}


def test_clip_folds_and_bad_grouping() -> None:
    groups = [f"clip{i}" for i in range(9)]
    f = folds(groups, "clip", 7)
    assert sorted(f.values()) == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    with pytest.raises(ValueError, match="unknown fold grouping"):
        folds(groups, "speaker", 7)


def test_source_variation_keeps_the_event_and_changes_its_design(
    rng: np.random.Generator,
) -> None:
    """A synthetic shot (known onset at sample 0): every variation is finite, starts at the
    same place, and is 0.8-1.25 times as long; some variations differ from the clip."""
    from earwitness.synth.events import gunshot
    from events_augment import vary_source

    shot = gunshot(sr=16000, rng=rng, crack=False)
    changed = 0
    for _ in range(20):
        v = vary_source(rng, shot)
        assert v.dtype == np.float32 and np.all(np.isfinite(v))
        assert shot.size / 1.26 <= v.size <= shot.size / 0.79
        first = int(np.argmax(np.abs(v) > 0.1 * np.abs(v).max()))
        assert first < 0.005 * 16000
        changed += v.size != shot.size or not np.allclose(v, shot)
    assert changed >= 10
