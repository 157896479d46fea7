"""Compression history on synthetic material encoded with real codecs."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from earwitness.decode import load_audio
from earwitness.forensics.compression import assess
from earwitness.synth import encode_file
from earwitness.synth import forensics as F

SR = 44100


def _material(rng: np.random.Generator) -> np.ndarray:
    y = F.speech_bed(sr=SR, rng=rng, duration_s=6, noise_amp=0.02, color="white")
    return (y / np.max(np.abs(y)) * 0.8).astype(np.float32)


def _through(tmp: Path, y: np.ndarray, codec: str, bitrate: int, name: str) -> np.ndarray:
    p = encode_file(tmp / f"{name}.{codec}", y, sr=SR, codec=codec, bitrate=bitrate)
    return load_audio(p, sr=SR).samples


def test_prior_mp3_in_wav_detected_clean_wav_not(rng: np.random.Generator, tmp_path: Path) -> None:
    y = _material(rng)
    clean = assess(y=y, sr=SR, codec="pcm_s16le")
    assert clean.prior_lossy is False
    assert clean.effective_bandwidth_hz > 20000
    dec = _through(tmp_path, y, "mp3", 64000, "a")
    wav = encode_file(tmp_path / "b.wav", dec, sr=SR)
    rep = assess(y=load_audio(wav).samples, sr=SR, codec="pcm_s16le")
    assert rep.prior_lossy is True
    assert rep.cutoff_hz is not None and rep.cutoff_hz < 0.9 * SR / 2
    assert rep.bitrate_kbps_range is not None


def test_double_mp3(rng: np.random.Generator, tmp_path: Path) -> None:
    y = _material(rng)
    once = _through(tmp_path, y, "mp3", 64000, "low")
    twice = tmp_path / "twice.mp3"
    encode_file(twice, once, sr=SR, codec="mp3", bitrate=256000)
    rep = assess(y=load_audio(twice).samples, sr=SR, codec="mp3", bit_rate=256000)
    assert rep.double_mp3 is True and rep.prior_lossy is True
    single = tmp_path / "single.mp3"
    encode_file(single, y, sr=SR, codec="mp3", bitrate=256000)
    rep1 = assess(y=load_audio(single).samples, sr=SR, codec="mp3", bit_rate=256000)
    assert rep1.double_mp3 is False and rep1.current_lossy is True


def test_amr_band_in_wav_is_narrowband(rng: np.random.Generator, tmp_path: Path) -> None:
    y = _material(rng)
    p = encode_file(tmp_path / "a.amr", y, sr=SR, codec="amr")
    dec = load_audio(p, sr=SR).samples
    rep = assess(y=dec, sr=SR, codec="pcm_s16le")
    assert rep.cutoff_hz is not None and rep.cutoff_hz < 5000
    assert "narrow-band" in rep.codec_class
    # an 8 kHz source resampled looks the same: the report says so instead of guessing
    assert rep.resample_nyquist_hz == 4000.0 and rep.prior_lossy is False
    aac = encode_file(tmp_path / "b.m4a", dec, sr=SR, codec="m4a", bitrate=128000)
    rep2 = assess(y=load_audio(aac).samples, sr=SR, codec="aac")
    assert rep2.current_lossy and rep2.prior_lossy and "narrow-band" in rep2.codec_class


def test_upsampled_32k_source_is_ambiguous_but_stereo_mp3_is_not(
    rng: np.random.Generator, tmp_path: Path
) -> None:
    # a never-compressed 32 kHz recording upsampled to 44.1 kHz ends at 16 kHz: the spectrum
    # falls at that Nyquist frequency, below the measured cutoff ("possible resampling")
    y32 = F.speech_bed(sr=32000, rng=rng, duration_s=6, noise_amp=0.02, color="white")
    wav = encode_file(tmp_path / "a.wav", (0.8 * y32 / np.max(np.abs(y32))), sr=32000)
    up = assess(y=load_audio(wav, sr=SR).samples, sr=SR, codec="pcm_s16le")
    assert up.cutoff_hz is not None and 16000 < up.cutoff_hz < 1.22 * 16000
    assert up.resample_nyquist_hz == 16000.0 and up.prior_lossy is False
    # a stereo 192 kbit/s MP3 low-passes near 18.8 kHz, in the same band, with a level passband
    y = _material(rng)
    two = np.stack([y, 0.8 * np.roll(y, 23)])
    mp3 = encode_file(tmp_path / "b.mp3", two, sr=SR, codec="mp3", bitrate=192000)
    rep = assess(y=load_audio(mp3, sr=SR).samples, sr=SR, codec="pcm_s16le")
    assert rep.cutoff_hz is not None and 17600 < rep.cutoff_hz < 19520
    assert rep.resample_nyquist_hz is None and rep.prior_lossy is True
