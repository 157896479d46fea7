"""Every listed format decodes through PyAV to float32 at the right rate and length."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from earwitness.decode import load_audio, probe
from earwitness.synth.encode import encode_av_file, encode_file
from tests.decode.helpers import write_pcm_wav

SR = 48000

# codec key, expected decoded codec names, native rate after decoding, exact length?
FORMATS = [
    ("wav", {"pcm_s16le"}, 48000, True),
    ("flac", {"flac"}, 48000, True),
    ("mp3", {"mp3float", "mp3"}, 48000, True),
    ("ogg", {"opus"}, 48000, True),
    ("vorbis", {"vorbis"}, 48000, True),
    ("m4a", {"aac"}, 48000, True),
    ("aac", {"aac"}, 48000, False),  # ADTS: priming and padding are not signalled
    ("amr", {"amrnb", "amr_nb", "libopencore_amrnb"}, 8000, False),
    ("webm", {"opus"}, 48000, True),
    ("mkv", {"opus"}, 48000, True),
]


def _tone(seconds: float = 1.5, sr: int = SR) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)


@pytest.mark.parametrize(("key", "codecs", "native", "exact"), FORMATS)
def test_every_format_decodes(
    tmp_path: Path, key: str, codecs: set[str], native: int, exact: bool
) -> None:
    x = _tone()
    path = encode_file(tmp_path / f"x.{key}", x, sr=SR, codec=key)
    info = probe(path)
    assert info.audio.codec in codecs
    audio = load_audio(path)
    assert audio.sr == native
    assert audio.samples.dtype == np.float32
    assert audio.samples.ndim == 1
    expected = len(x) * native // SR
    if exact:
        assert audio.samples.shape[0] == expected
    else:
        assert abs(audio.samples.shape[0] - expected) <= 2 * 1024 + 160
    # the tone survives: RMS near 0.3/sqrt(2) in the middle
    mid = audio.samples[native // 4 : -native // 4]
    rel = 0.4 if key == "amr" else 0.15  # AMR-NB is a speech codec: tones lose level
    assert np.sqrt(np.mean(mid**2)) == pytest.approx(0.3 / np.sqrt(2), rel=rel)
    assert audio.report is not None
    assert audio.report.native_samples == audio.samples.shape[0]


@pytest.mark.parametrize("key", ["mp3", "ogg", "m4a", "flac"])
def test_decode_to_16k_mono(tmp_path: Path, key: str) -> None:
    stereo = np.stack([_tone(), _tone()])
    path = encode_file(tmp_path / f"s.{key}", stereo, sr=SR, codec=key)
    assert probe(path).audio.channels == 2
    a = load_audio(path, sr=16000)
    assert a.sr == 16000 and a.samples.ndim == 1
    assert a.samples.shape[0] == pytest.approx(1.5 * 16000, abs=2)
    both = load_audio(path, mono=False)
    assert both.samples.shape[0] == 2


@pytest.mark.parametrize(
    ("fmt", "codec", "video_codec", "suffix"),
    [
        ("mp4", "m4a", "mpeg4", "mp4"),
        ("matroska", "mkv", "mjpeg", "mkv"),
        ("webm", "webm", "libvpx", "webm"),
    ],
)
def test_video_with_two_audio_tracks(
    tmp_path: Path, fmt: str, codec: str, video_codec: str, suffix: str
) -> None:
    first = _tone(2.0)
    second = 0.5 * np.sin(2 * np.pi * 1000 * np.arange(2 * SR) / SR).astype(np.float32)
    image = np.zeros((64, 96, 3), np.uint8)
    image[:, :48] = 200
    path = encode_av_file(
        tmp_path / f"v.{suffix}",
        [first, second],
        sr=SR,
        codec=codec,
        container_format=fmt,
        image=image,
        video_codec=video_codec,
        track_tags=[{"language": "ara"}, {"language": "eng"}],
    )
    info = probe(path)
    assert [s.type for s in info.streams] == ["video", "audio", "audio"]
    assert info.audio.index == 1
    assert len(info.audio_streams) == 2
    assert info.streams[0].width == 96
    a = load_audio(path)
    # the first track (440 Hz) is analysed, not the second (1 kHz)
    spec = np.abs(np.fft.rfft(a.samples[: SR // 2 * 2]))
    freqs = np.fft.rfftfreq(SR // 2 * 2, 1 / SR)
    assert abs(freqs[np.argmax(spec)] - 440) < 5
    assert a.samples.shape[0] == 2 * SR


def test_libx264_still_image_video(tmp_path: Path) -> None:
    image = np.full((64, 64, 3), 120, np.uint8)
    path = encode_av_file(
        tmp_path / "x.mkv",
        [_tone(1.0)],
        sr=SR,
        codec="mkv",
        container_format="matroska",
        image=image,
        video_codec="libx264",
    )
    info = probe(path)
    assert info.streams[0].codec == "h264"
    assert load_audio(path).samples.shape[0] == SR


def test_corpus_files_decode(corpus: Path) -> None:
    hot = load_audio(corpus / "hotwords.mp3", sr=16000)
    assert hot.duration_s == pytest.approx(4.0, abs=0.01)
    jfk = load_audio(corpus / "jfk.flac")
    assert jfk.sr == 16000 and jfk.duration_s == pytest.approx(11.0, abs=0.01)


@pytest.mark.parametrize(("fmt", "step"), [("u8", 1 / 128), ("s16", 1 / 32768), ("f32", 0.0)])
def test_packed_pcm_samples_exact_per_channel(
    tmp_path: Path, rng: np.random.Generator, fmt: str, step: float
) -> None:
    # packed (interleaved) stereo: each channel comes back sample for sample, in order
    frames = np.stack([rng.uniform(-0.9, 0.9, 3000), np.linspace(-0.5, 0.5, 3000)], axis=1)
    if step:
        frames = np.rint(frames / step) * step  # on the format's grid: exact round trip
    path = write_pcm_wav(tmp_path / f"x_{fmt}.wav", sr=8000, frames=frames, fmt=fmt)
    a = load_audio(path, mono=False)
    assert a.samples.shape == (2, 3000) and a.samples.dtype == np.float32
    np.testing.assert_array_equal(a.samples, frames.T.astype(np.float32))
    mono = load_audio(path).samples
    np.testing.assert_allclose(mono, frames.mean(axis=1), atol=1e-6)


def test_non_finite_float_samples_become_zero(tmp_path: Path, rng: np.random.Generator) -> None:
    frames = rng.uniform(-0.5, 0.5, (4000, 2)).astype(np.float32)
    bad = {(10, 0): np.nan, (2000, 1): np.inf, (3999, 0): -np.inf}
    for (i, c), v in bad.items():
        frames[i, c] = v
    path = write_pcm_wav(tmp_path / "nan.wav", sr=8000, frames=frames, fmt="f32")
    got = load_audio(path, mono=False).samples
    want = frames.T.copy()
    for i, c in bad:
        want[c, i] = 0.0
    assert np.all(np.isfinite(got))
    np.testing.assert_array_equal(got, want)
