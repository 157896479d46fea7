"""The streaming pass behind the pictures and the player: bounded, chunking-invariant."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from earwitness.report.audio_pass import FigureOptions, digest_audio
from earwitness.report.player import PlayerOptions, choose_kbps

OPTS = FigureOptions(sr=8000, width_px=300, spec_columns=200, n_fft=256)


def _chunks(y: np.ndarray, size: int) -> list[np.ndarray]:
    return [y[i : i + size] for i in range(0, y.shape[0], size)]


@settings(max_examples=25, deadline=None)
@given(size=st.integers(min_value=1000, max_value=40000))
def test_digest_does_not_depend_on_chunking(size: int) -> None:
    y = np.random.default_rng(3).standard_normal(8000 * 7).astype(np.float32) * 0.1
    whole = digest_audio(chunks=[y], duration_s=7.0, windows=[(1.0, 1.5)], opts=OPTS)
    parts = digest_audio(chunks=_chunks(y, size), duration_s=7.0, windows=[(1.0, 1.5)], opts=OPTS)
    np.testing.assert_allclose(parts.env_min, whole.env_min)
    np.testing.assert_allclose(parts.env_max, whole.env_max)
    np.testing.assert_allclose(parts.spec_db, whole.spec_db, atol=1e-3)
    np.testing.assert_array_equal(parts.clips[(1.0, 1.5)], y[8000:12000])


def test_long_recording_is_bounded(rng: np.random.Generator) -> None:
    y = rng.standard_normal(8000 * 600).astype(np.float32) * 0.1
    d = digest_audio(chunks=_chunks(y, 8000 * 30), duration_s=600.0, opts=OPTS)
    assert d.env_min.shape == (300,)
    assert d.spec_db.shape == (129, 200)
    assert np.all(np.isfinite(d.spec_db))


def test_tone_lands_in_its_frequency_bin() -> None:
    t = np.arange(8000 * 2) / 8000
    y = (0.5 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)
    d = digest_audio(chunks=[y], duration_s=2.0, opts=OPTS)
    assert int(np.argmax(d.spec_db.mean(axis=1))) == round(1000 / (8000 / 256))
    assert d.env_max.max() == pytest.approx(0.5, abs=0.01)


def test_player_copy_within_cap(rng: np.random.Generator) -> None:
    y = rng.standard_normal(16000 * 4).astype(np.float32) * 0.1
    d = digest_audio(
        chunks=_chunks(y, 5000), duration_s=4.0, opts=FigureOptions(), player=PlayerOptions()
    )
    assert d.player is not None and d.player_kbps == 32
    assert len(d.player) <= 4 * 32000 / 8 * 1.2


@pytest.mark.parametrize(
    ("duration", "kbps"), [(60.0, 32), (3600.0, 24), (3 * 3600.0, 8), (4 * 3600.0, None)]
)
def test_bit_rate_shrinks_to_fit_the_cap(duration: float, kbps: int | None) -> None:
    assert choose_kbps(duration_s=duration, options=PlayerOptions()) == kbps
