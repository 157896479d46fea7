"""Exact times: a click at a known sample comes out at the same time after encode/decode.

Codecs whose container signals encoder delay (MP3 with LAME/Info tag, AAC in MP4 with an edit
list, Opus, Vorbis, lossless) must be within 1 ms. For the others (ADTS AAC, AMR, MP3 without
Info tag, MP4 without edit list) the measured offset must match the residual the probe states.
"""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from earwitness.decode import load_audio, probe
from earwitness.synth.encode import _add_audio_stream, _audio_packets, _prepare, encode_file
from tests.decode.helpers import click_signal, locate_click

SR = 48000
CLICK = 59_259  # 1.2345625 s


def _measure(path: Path, *, sr: int | None = None) -> tuple[float, float]:
    a = load_audio(path, sr=sr)
    t = locate_click(a.samples, sr=a.sr, approx_s=CLICK / SR, w=max(8, a.sr // 1000))
    return t, a.duration_s


def _truth(rng: np.random.Generator, sr: int = SR) -> tuple[np.ndarray, float]:
    x = click_signal(rng=rng, sr=sr, duration_s=3.0, click_at=CLICK * sr // SR)
    return x, locate_click(x, sr=sr, approx_s=CLICK / SR, w=max(8, sr // 1000))


@pytest.mark.parametrize("key", ["wav", "flac", "mp3", "m4a", "ogg", "vorbis", "webm", "mkv"])
def test_exact_codecs_within_1ms(tmp_path: Path, rng: np.random.Generator, key: str) -> None:
    x, t0 = _truth(rng)
    path = encode_file(tmp_path / f"c.{key}", x, sr=SR, codec=key)
    plan = probe(path).timing
    assert plan is not None and plan.exact
    t, duration = _measure(path)
    assert abs(t - t0) < 0.001
    assert duration == pytest.approx(3.0, abs=0.001)  # padding removed too


def test_aac_in_matroska(tmp_path: Path, rng: np.random.Generator) -> None:
    """Matroska's CodecDelay removes the AAC priming; the tail padding stays (< 1 frame)."""
    x, t0 = _truth(rng)
    path = encode_file(tmp_path / "a.mkv", x, sr=SR, codec="m4a", container_format="matroska")
    plan = probe(path).timing
    assert plan is not None and plan.exact and plan.method == "container_skip"
    t, duration = _measure(path)
    assert abs(t - t0) < 0.001
    assert 3.0 <= duration < 3.0 + 1024 / SR + 0.001


@pytest.mark.parametrize("key", ["mp3", "m4a", "ogg"])
def test_resampled_decode_keeps_time(tmp_path: Path, rng: np.random.Generator, key: str) -> None:
    x, t0 = _truth(rng)
    path = encode_file(tmp_path / f"r.{key}", x, sr=SR, codec=key)
    t, duration = _measure(path, sr=16000)
    assert abs(t - t0) < 0.001
    assert duration == pytest.approx(3.0, abs=0.001)


def _encode_with(path: Path, x: np.ndarray, key: str, fmt: str, options: dict[str, str]) -> Path:
    codec_name, xx, rate, br, layout = _prepare(key, x, SR, None, None)
    with av.open(str(path), "w", format=fmt, options=options) as c:
        s = _add_audio_stream(c, codec_name, rate, layout, br)
        for packet in _audio_packets(s, xx, SR, rate, layout):
            c.mux(packet)
    return path


@pytest.mark.parametrize(
    ("name", "make"),
    [
        ("adts", lambda p, x: encode_file(p / "a.aac", x, sr=SR, codec="aac")),
        (
            "mp3_no_info_tag",
            lambda p, x: _encode_with(p / "n.mp3", x, "mp3", "mp3", {"write_xing": "0"}),
        ),
        (
            "mp4_no_edit_list",
            lambda p, x: _encode_with(p / "n.m4a", x, "m4a", "mp4", {"use_editlist": "0"}),
        ),
    ],
)
def test_unsignalled_delay_matches_stated_residual(
    tmp_path: Path, rng: np.random.Generator, name: str, make: object
) -> None:
    x, t0 = _truth(rng)
    path = make(tmp_path, x)  # type: ignore[operator]
    plan = probe(path).timing
    assert plan is not None and not plan.exact and plan.method == "none"
    t, _ = _measure(path)
    assert abs((t - t0) - plan.residual_s) < 0.001, (name, t - t0, plan.residual_s)


def test_amr_residual(tmp_path: Path, rng: np.random.Generator) -> None:
    x, t0 = _truth(rng, sr=8000)
    path = encode_file(tmp_path / "a.amr", x, sr=8000, codec="amr")
    plan = probe(path).timing
    assert plan is not None and not plan.exact
    t, _ = _measure(path)
    assert abs((t - t0) - plan.residual_s) < 0.0015


def test_report_records_priming_and_padding(tmp_path: Path, rng: np.random.Generator) -> None:
    x, _ = _truth(rng)
    m4a = load_audio(encode_file(tmp_path / "p.m4a", x, sr=SR, codec="m4a"))
    assert m4a.report is not None and m4a.report.timing is not None
    assert m4a.report.priming_removed == 1024
    assert m4a.report.padding_removed > 0
    assert m4a.report.timing.method == "mp4_edit_list"
    mp3 = load_audio(encode_file(tmp_path / "p.mp3", x, sr=SR, codec="mp3"))
    assert mp3.report is not None and mp3.report.priming_removed == 1105
    opus = load_audio(encode_file(tmp_path / "p.webm", x, sr=SR, codec="webm"))
    assert opus.report is not None and opus.report.priming_removed == 312
