"""The speed-ups of the forensic detectors give the same numbers as the plain computations."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from earwitness.forensics import duplicates as D
from earwitness.forensics.dsp import stft
from earwitness.forensics.edits import _sides, digital_silences
from earwitness.synth import forensics as F

SR = 16000


def test_stft_matches_numpy_and_rows_do_not_depend_on_the_run(rng: np.random.Generator) -> None:
    y = rng.standard_normal(SR * 3).astype(np.float32)
    x = stft(y=y, n_fft=512, hop=128)
    frames = np.lib.stride_tricks.sliding_window_view(y, 512)[::128]
    ref = np.fft.rfft(frames * np.hanning(512).astype(np.float32), axis=1).astype(np.complex64)
    assert x.dtype == np.complex64 and x.shape == ref.shape
    np.testing.assert_allclose(x, ref, rtol=0, atol=1e-5 * float(np.abs(ref).max()))
    # verify_pair reuses rows computed in a short run inside the full run: they must be equal
    for r0, r1 in ((0, 5), (7, 40), (100, x.shape[0])):
        part = stft(y=y[r0 * 128 : (r1 - 1) * 128 + 512], n_fft=512, hop=128)
        np.testing.assert_array_equal(part, x[r0:r1])
    assert stft(y=y[:100], n_fft=512, hop=128).shape == (0, 257)


def test_early_rejection_in_verify_pair_changes_no_result(
    rng: np.random.Generator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each candidate gets the same answer with and without the early test."""
    p = D.DuplicateParams()
    y = F.speech_bed(sr=SR, rng=rng, duration_s=30).astype(np.float32)
    pairs: list[tuple[tuple[int, int], int]] = []
    for _ in range(12):  # real copies, some weak, some short
        length = int(rng.integers(2000, 24000))
        a = int(rng.integers(0, 12 * SR))
        b = int(rng.integers(14 * SR, y.size - length))
        gain = rng.uniform(0.2, 1.5)
        y[b : b + length] = gain * y[a : a + length] + rng.normal(0, 0.01, length)
        jitter = rng.integers(-3000, 3000, size=2)
        pairs.append(((max(0, a + int(jitter[0])), a + length + int(jitter[1])), b - a))
    for _ in range(40):  # unrelated spans
        a = int(rng.integers(0, y.size - 40000))
        length = int(rng.integers(1000, 30000))
        lag = int(rng.integers(-a, y.size - a - length))
        pairs.append(((a, a + length), lag))
    floor = np.full(p.verify_n_fft // 2 + 1, 1e-6)

    def run() -> list[D.DuplicateMatch | None]:
        return [
            D.verify_pair(y=y, sr=SR, src=src, lag=lag, bin_floor=floor, p=p) for src, lag in pairs
        ]

    fast = run()
    monkeypatch.setattr(D, "_surely_rejected", lambda **_: False)
    assert run() == fast
    assert any(m is not None for m in fast)


def test_per_band_percentile_filter_equals_the_nd_filter(rng: np.random.Generator) -> None:
    a = rng.normal(-60, 6, size=(3000, 8)).astype(np.float32)
    for w in (3, 150, 151):
        left, right = _sides(a, w, 10.0)
        m = ndimage.percentile_filter(a, 10.0, size=(w, 1), mode="nearest")
        np.testing.assert_array_equal(left, np.roll(m, (w + 1) // 2, axis=0))
        np.testing.assert_array_equal(right, np.roll(m, -(w // 2), axis=0))


def test_digital_silence_runs_equal_the_difference_method(rng: np.random.Generator) -> None:
    for _ in range(300):
        n = int(rng.integers(1, 80))
        y = rng.choice([0.0, 1e-6, 0.5, -0.3], size=n, p=[0.5, 0.1, 0.2, 0.2]).astype(np.float32)
        z = np.abs(y) < 0.5 / 32768
        d = np.diff(np.concatenate([[0], z.astype(np.int8), [0]]))
        starts, ends = np.nonzero(d == 1)[0], np.nonzero(d == -1)[0]
        for min_s in (0.0, 0.3):
            keep = (ends - starts) >= int(min_s * 10)
            ref = list(zip(starts[keep].tolist(), ends[keep].tolist(), strict=True))
            assert digital_silences(y=y, sr=10, min_s=min_s) == ref
