"""MDCT frame-grid trace: transform oracle, window properties, real AAC/Vorbis encodes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from earwitness.decode import load_audio
from earwitness.forensics.compression import CompressionParams, assess
from earwitness.forensics.mdct_grid import HOP, WINDOWS, codec_window, grid_trace, mdct
from earwitness.synth import encode_file
from earwitness.synth import forensics as F

SR = 44100
P = CompressionParams()


def _pcm16(y: np.ndarray) -> np.ndarray:
    return (np.round(np.clip(y, -1, 1) * 32767) / 32767).astype(np.float32)


def _material(rng: np.random.Generator, sr: int = SR) -> np.ndarray:
    y = F.speech_bed(sr=sr, rng=rng, duration_s=6, noise_amp=0.01, color="pink")
    return (0.8 * y / np.max(np.abs(y))).astype(np.float32)


def _decoded(tmp: Path, y: np.ndarray, codec: str, kbps: int) -> np.ndarray:
    suffix = "ogg" if codec == "vorbis" else codec
    p = encode_file(tmp / f"x.{suffix}", y, sr=SR, codec=codec, bitrate=kbps * 1000)
    return load_audio(p, sr=SR).samples


@settings(max_examples=20, deadline=None)
@given(n=st.sampled_from([8, 16, 64]), seed=st.integers(0, 2**16), shape=st.sampled_from(WINDOWS))
def test_mdct_matches_the_definition(n: int, seed: int, shape: str) -> None:
    x = np.random.default_rng(seed).standard_normal((3, 2 * n))
    w = codec_window(shape=shape, n=2 * n).astype(np.float64)
    k = np.arange(n)
    i = np.arange(2 * n)
    basis = np.cos(np.pi / n * (i[:, None] + 0.5 + n / 2) * (k[None, :] + 0.5))
    want = np.sqrt(2 / n) * (x * w) @ basis
    np.testing.assert_allclose(mdct(frames=x, window=w), want, atol=1e-9)


@pytest.mark.parametrize("shape", WINDOWS)
def test_windows_are_princen_bradley(shape: str) -> None:
    w = codec_window(shape=shape).astype(np.float64)
    assert w.size == 2 * HOP
    np.testing.assert_allclose(w, w[::-1], atol=1e-6)
    np.testing.assert_allclose(w[:HOP] ** 2 + w[HOP:] ** 2, 1.0, atol=1e-5)
    with pytest.raises(ValueError, match="unknown window"):
        codec_window(shape="hann")


def test_tdac_zeros_come_back_only_on_the_grid(rng: np.random.Generator) -> None:
    # synthesise a signal from sparse MDCT coefficients (half of them zero) by overlap-add
    w = codec_window(shape="kbd").astype(np.float64)
    n_frames = 40
    coef = rng.standard_normal((n_frames, HOP)) * 0.01
    coef[rng.random(coef.shape) < 0.5] = 0.0
    k = np.arange(HOP)
    i = np.arange(2 * HOP)
    basis = np.sqrt(2 / HOP) * np.cos(np.pi / HOP * (i[:, None] + 0.5 + HOP / 2) * (k + 0.5))
    y = np.zeros((n_frames + 1) * HOP)
    for f in range(n_frames):
        y[f * HOP : f * HOP + 2 * HOP] += w * (basis @ coef[f])
    shift = 300
    g = grid_trace(y=_pcm16(np.concatenate([np.zeros(shift), y])), sr=SR, top_hz=SR / 2)
    assert g.offset == shift and g.window == "kbd"
    assert g.zero_fraction > 0.4 and g.null_zero_fraction < 0.05


@pytest.mark.parametrize("kbps", [128, 192])
def test_full_band_aac_in_wav_is_found_with_class_and_rate(
    rng: np.random.Generator, tmp_path: Path, kbps: int
) -> None:
    dec = _decoded(tmp_path, _material(rng), "m4a", kbps)
    whole = assess(y=_pcm16(dec), sr=SR, codec="pcm_s16le", params=P)
    # the spectrum shows nothing: the encoder kept the full band
    assert whole.cutoff_hz is None or whole.cutoff_hz > P.cutoff_margin * SR / 2
    assert whole.prior_lossy is True and whole.grid is not None
    assert whole.codec_class.startswith("AAC") and whole.grid.window == "kbd"
    assert whole.bitrate_kbps_range is not None
    lo, hi = whole.bitrate_kbps_range
    assert lo <= kbps <= hi
    assert whole.details()["mdct_grid"]["excess"] >= P.grid_excess
    # trimming the start moves the grid by exactly the trimmed number of samples
    cut = int(rng.integers(1, 2000))
    trimmed = assess(y=_pcm16(dec[cut:]), sr=SR, codec="pcm_s16le", params=P)
    assert trimmed.prior_lossy and trimmed.grid is not None and whole.grid.offset is not None
    assert trimmed.grid.offset == (whole.grid.offset - cut) % HOP


def test_clean_and_resampled_audio_leave_no_grid_trace(
    rng: np.random.Generator, tmp_path: Path
) -> None:
    clean = assess(y=_pcm16(_material(rng)), sr=SR, codec="pcm_s16le", params=P)
    assert clean.prior_lossy is False and clean.grid is not None
    assert clean.grid.excess < P.grid_excess / 3
    wav48 = encode_file(tmp_path / "x.wav", _material(rng, 48000), sr=48000)
    res = assess(y=_pcm16(load_audio(wav48, sr=SR).samples), sr=SR, codec="pcm_s16le", params=P)
    assert res.prior_lossy is False and res.grid is not None
    assert res.grid.excess < P.grid_excess / 3


def test_vorbis_window_names_vorbis(rng: np.random.Generator, tmp_path: Path) -> None:
    dec = _decoded(tmp_path, _material(rng), "vorbis", 128)
    rep = assess(y=_pcm16(dec[777:]), sr=SR, codec="pcm_s16le", params=P)
    assert rep.prior_lossy and rep.grid is not None and rep.grid.window == "vorbis"
    assert rep.codec_class.startswith("Vorbis")


def test_current_aac_stream_is_not_searched(rng: np.random.Generator, tmp_path: Path) -> None:
    dec = _decoded(tmp_path, _material(rng), "m4a", 192)
    rep = assess(y=dec, sr=SR, codec="aac", bit_rate=192000, params=P)
    assert rep.grid is None and rep.details()["mdct_grid"] is None
    assert rep.current_lossy and rep.prior_lossy is False


def test_short_input_gives_no_trace() -> None:
    g = grid_trace(y=np.zeros(2000, dtype=np.float32), sr=SR, top_hz=20000)
    assert g.offset is None and g.excess == 0.0 and g.frames == 0
