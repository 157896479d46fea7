"""Bad input gets an InputError naming the file and a reason a journalist understands."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import earwitness.decode.reader as reader
from earwitness.decode import Limits, iter_audio, load_audio, probe
from earwitness.errors import InputError
from earwitness.synth.encode import encode_av_file, encode_file
from tests.decode.helpers import write_wav


def _tone(seconds: float, sr: int = 48000) -> np.ndarray:
    return (0.3 * np.sin(2 * np.pi * 440 * np.arange(int(seconds * sr)) / sr)).astype(np.float32)


def _raises(path: Path, match: str, limits: Limits | None = None) -> InputError:
    with pytest.raises(InputError, match=match) as info:
        load_audio(path, limits=limits)
    assert info.value.path == str(path)
    assert str(path) in str(info.value)
    return info.value


def test_missing_file(tmp_path: Path) -> None:
    _raises(tmp_path / "nope.mp3", "cannot read file")


def test_directory(tmp_path: Path) -> None:
    _raises(tmp_path, "not a regular file")


def test_empty(tmp_path: Path) -> None:
    p = tmp_path / "empty.ogg"
    p.write_bytes(b"")
    _raises(p, "empty")


def test_garbage(tmp_path: Path, rng: np.random.Generator) -> None:
    p = tmp_path / "garbage.mp3"
    p.write_bytes(rng.bytes(50_000))
    _raises(p, "not a readable audio or video file|no audio|decodes to no audio")


def test_text_file(tmp_path: Path) -> None:
    p = tmp_path / "note.m4a"
    p.write_text("this is a press release, not a recording\n" * 50)
    _raises(p, "not a readable audio or video file")


def test_zero_duration(tmp_path: Path) -> None:
    p = write_wav(tmp_path / "zero.wav", sr=16000, samples=np.zeros(0, np.float32))
    _raises(p, "no audio")


def test_no_audio_stream(tmp_path: Path) -> None:
    p = encode_av_file(
        tmp_path / "silent_film.mp4",
        [],
        sr=48000,
        image=np.zeros((32, 32, 3), np.uint8),
        video_s=1.0,
    )
    err = _raises(p, "no audio stream")
    assert "video" in err.reason


@pytest.mark.parametrize("rate", [1000, 1_000_000])
def test_absurd_sample_rate(tmp_path: Path, rate: int) -> None:
    p = write_wav(tmp_path / f"r{rate}.wav", sr=rate, samples=np.zeros(rate // 10, np.float32))
    _raises(p, "sample rate")


def test_sample_rate_limit_is_configurable(tmp_path: Path) -> None:
    p = write_wav(tmp_path / "8k.wav", sr=8000, samples=_tone(0.5, 8000))
    assert load_audio(p).sr == 8000
    _raises(p, "sample rate 8000 Hz is outside", Limits(min_sample_rate=16000))


def test_declared_duration_over_limit(tmp_path: Path) -> None:
    p = encode_file(tmp_path / "long.flac", _tone(3.0), sr=48000)
    _raises(p, "declared duration", Limits(max_duration_s=2.0))


def test_decoded_duration_over_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file whose header hides its length is stopped while decoding."""
    p = encode_file(tmp_path / "hidden.aac", _tone(3.0), sr=48000)
    real = reader.probe
    monkeypatch.setattr(reader, "probe", lambda path, limits: real(path, Limits()))
    _raises(p, "duration limit", Limits(max_duration_s=2.0))


def test_file_size_limit(tmp_path: Path) -> None:
    p = encode_file(tmp_path / "big.wav", _tone(1.0), sr=48000)
    _raises(p, "over the limit of 1000 bytes", Limits(max_bytes=1000))


def test_decompression_bomb(tmp_path: Path) -> None:
    """A minute of digital silence in FLAC is tiny; decoded it is hundreds of times larger."""
    p = encode_file(tmp_path / "bomb.flac", np.zeros(60 * 48000, np.float32), sr=48000)
    assert p.stat().st_size * 500 < 60 * 48000 * 4
    _raises(p, "decompression bomb", Limits(max_expansion=100, expansion_slack_bytes=0))


def test_truncated_file_is_accepted_with_a_report(tmp_path: Path) -> None:
    """The decodable part of a truncated file is evidence as-is; the report says so."""
    full = encode_file(tmp_path / "full.flac", _tone(4.0), sr=48000)
    data = full.read_bytes()
    cut = tmp_path / "cut.flac"
    cut.write_bytes(data[: len(data) // 2])
    a = load_audio(cut)
    assert 0.5 < a.duration_s < 3.0
    assert a.report is not None
    assert a.report.decode_errors >= 1 or a.report.truncated
    assert probe(cut).duration_s == pytest.approx(4.0)


def test_iter_audio_errors_are_input_errors(tmp_path: Path) -> None:
    p = tmp_path / "x.wav"
    p.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunkjunkjunk")
    with pytest.raises(InputError, match="not a readable audio or video file") as info:
        list(iter_audio(p))
    assert info.value.path == str(p)
