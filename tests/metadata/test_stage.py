"""The metadata stage: a clean file raises no anomaly; each crafted defect raises its own."""

from __future__ import annotations

import dataclasses
import struct
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from earwitness.decode import probe
from earwitness.metadata.checks import FileFacts, MetadataParams, check_times
from earwitness.metadata.headers import _crc16, read_head_tail, read_mp3_header
from earwitness.metadata.stage import MetadataStage
from earwitness.pipeline import AnalysisContext, StageRegistry, StageResult, builtins
from earwitness.synth.encode import encode_av_file, encode_file, insert_timestamp_gap
from tests.decode.helpers import write_wav

SR = 48000


def _speechy(rng: np.random.Generator, seconds: float = 3.0, sr: int = SR) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    x = 0.2 * np.sin(2 * np.pi * 220 * t) * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t))
    return (x + 0.01 * rng.standard_normal(t.size)).astype(np.float32)


def _run(path: Path) -> StageResult:
    ctx = AnalysisContext(path=path, probe=probe(path), sha256="0" * 64, item_id="test")
    return MetadataStage().run(ctx)


def _codes(result: StageResult) -> list[str]:
    return [f.details["code"] for f in result.findings if f.kind == "metadata_anomaly"]


def test_is_a_stage() -> None:
    registry = StageRegistry()
    registry.register(MetadataStage())
    assert registry.names() == ["metadata"]
    source = Path(builtins.__file__).read_text(encoding="utf-8")
    assert "registry.register(MetadataStage())" in source


@pytest.mark.parametrize(
    "key", ["wav", "flac", "mp3", "ogg", "vorbis", "m4a", "aac", "amr", "webm", "mkv"]
)
def test_clean_files_raise_no_anomaly(tmp_path: Path, rng: np.random.Generator, key: str) -> None:
    sr = 8000 if key == "amr" else SR
    path = encode_file(tmp_path / f"clean.{key}", _speechy(rng, sr=sr), sr=sr, codec=key)
    result = _run(path)
    assert _codes(result) == []
    whole = result.findings[0]
    assert whole.kind == "metadata" and whole.label == "container metadata"
    assert whole.start_s == 0.0 and whole.end_s == pytest.approx(3.0, abs=0.05)
    assert whole.details["timing"]["plan"]["method"]
    assert result.summary["anomalies"] == 0
    assert "FFmpeg (libavformat)" in result.summary["software"] or key in ("aac", "amr")


def test_whole_file_finding_describes_streams_and_encoders(
    tmp_path: Path, rng: np.random.Generator
) -> None:
    path = encode_file(tmp_path / "d.mp3", _speechy(rng), sr=SR)
    result = _run(path)
    d = result.findings[0].details
    assert d["format"] == "mp3"
    assert d["mp3_header"]["tag"] == "Info" and d["mp3_header"]["tag_crc_ok"] is True
    assert d["mp3_header"]["enc_delay"] == 576
    assert d["timing"]["priming_removed_samples"] == 1105
    assert d["encoder_tags"]["container"]["encoder"].startswith("Lavf")
    hints = {h["pattern"] for h in d["software_hints"]}
    assert "lavf" in hints


def _cut(path: Path, frac: float) -> Path:
    out = path.with_name("cut_" + path.name)
    data = path.read_bytes()
    out.write_bytes(data[: int(len(data) * frac)])
    return out


def test_truncated_mp3(tmp_path: Path, rng: np.random.Generator) -> None:
    path = _cut(encode_file(tmp_path / "t.mp3", _speechy(rng), sr=SR), 0.5)
    codes = _codes(_run(path))
    assert "duration_mismatch" in codes and "truncated" in codes


def test_truncated_flac_has_decode_error(tmp_path: Path, rng: np.random.Generator) -> None:
    path = _cut(encode_file(tmp_path / "t.flac", _speechy(rng), sr=SR), 0.5)
    codes = _codes(_run(path))
    assert "duration_mismatch" in codes
    assert "decode_errors" in codes or "truncated" in codes


@pytest.mark.parametrize("key", ["ogg", "vorbis"])
def test_truncated_ogg(tmp_path: Path, rng: np.random.Generator, key: str) -> None:
    """Ogg's declared duration comes from the last page found, so only the page flags tell."""
    path = _cut(encode_file(tmp_path / f"t.{key}", _speechy(rng), sr=SR, codec=key), 0.6)
    result = _run(path)
    assert "truncated" in _codes(result)
    assert result.findings[0].details["ogg_last_page"]["end_of_stream"] is False


def test_truncated_wav_header(tmp_path: Path, rng: np.random.Generator) -> None:
    x = _speechy(rng, 1.0)
    path = write_wav(tmp_path / "t.wav", sr=SR, samples=x, declared_bytes=4 * x.size)
    result = _run(path)
    assert "truncated" in _codes(result)
    anomaly = next(f for f in result.findings if f.kind == "metadata_anomaly")
    assert anomaly.details["values"]["missing_bytes"] == 2 * x.size
    assert "truncated" in anomaly.details["reason"]


def test_corrupt_packets(tmp_path: Path, rng: np.random.Generator) -> None:
    path = encode_file(tmp_path / "c.flac", _speechy(rng), sr=SR)
    data = bytearray(path.read_bytes())
    mid = len(data) // 2
    data[mid : mid + 2000] = rng.bytes(2000)
    path.write_bytes(bytes(data))
    result = _run(path)
    # the FLAC parser resyncs past the damage: lost frames show as a timestamp gap (filled
    # with silence so later times stay exact) and/or as packets the decoder rejected
    assert {"decode_errors", "timestamp_gap"} & set(_codes(result))
    assert result.summary["decoded_duration_s"] == pytest.approx(3.0, abs=0.01)


def _patch_lame(path: Path, encoder: bytes, *, fix_crc: bool) -> None:
    data = bytearray(path.read_bytes())
    head = read_mp3_header(bytes(data[:200000]))
    assert head is not None and head.tag == "Info"
    off = head.offset
    i = data.index(b"Info", off) + 8 + 4 + 4 + 100 + 4  # flags, frames, bytes, TOC, quality
    data[i : i + 9] = encoder.ljust(9, b"\0")[:9]
    if fix_crc:
        crc_at = i + 34
        frame_len = 144 * head.bitrate_kbps * 1000 // head.sample_rate
        block = bytearray(data[off : off + min(190, frame_len)]) + bytes(190)
        block = block[:190]
        if crc_at - off < 190:
            block[crc_at - off : crc_at - off + 2] = b"\0\0"
        data[crc_at : crc_at + 2] = struct.pack(">H", _crc16(bytes(block)))
    path.write_bytes(bytes(data))


def test_flac_audio_replaced_under_old_header(tmp_path: Path, rng: np.random.Generator) -> None:
    """FLAC B carrying FLAC A's STREAMINFO MD5: the frames are not what the header signs."""
    a = encode_file(tmp_path / "a.flac", _speechy(rng), sr=SR)
    b = encode_file(tmp_path / "b.flac", _speechy(rng), sr=SR)
    clean = _run(b)
    assert _codes(clean) == []
    assert (
        clean.findings[0].details["flac_decoded_md5"]
        == (clean.findings[0].details["flac_streaminfo"]["md5"])
    )
    da, db = a.read_bytes(), bytearray(b.read_bytes())
    md5_at = db.index(b"fLaC") + 8 + 18
    db[md5_at : md5_at + 16] = da[md5_at : md5_at + 16]
    b.write_bytes(bytes(db))
    assert _codes(_run(b)) == ["flac_md5_mismatch"]


def test_edited_lame_tag_breaks_its_crc(tmp_path: Path, rng: np.random.Generator) -> None:
    path = encode_file(tmp_path / "e.mp3", _speechy(rng), sr=SR)
    _patch_lame(path, b"LAME3.100", fix_crc=False)
    assert "mp3_tag_crc" in _codes(_run(path))


def test_encoder_tags_disagree(tmp_path: Path, rng: np.random.Generator) -> None:
    path = encode_file(tmp_path / "d.mp3", _speechy(rng), sr=SR, tags={"encoded_by": "LAME3.99.5"})
    _patch_lame(path, b"LAME3.100", fix_crc=True)
    head, tail = read_head_tail(path)
    mp3 = read_mp3_header(head, tail=tail)
    assert mp3 is not None and mp3.encoder == "LAME3.100" and mp3.tag_crc_ok
    assert _codes(_run(path)) == ["encoder_tags_disagree"]


def test_encoder_tag_for_another_codec(tmp_path: Path, rng: np.random.Generator) -> None:
    path = encode_file(tmp_path / "x.m4a", _speechy(rng), sr=SR, tags={"comment": "LAME3.100"})
    assert _codes(_run(path)) == ["encoder_codec_mismatch"]


def test_appended_data(tmp_path: Path, rng: np.random.Generator) -> None:
    path = encode_file(tmp_path / "a.mp3", _speechy(rng), sr=SR)
    path.write_bytes(path.read_bytes() + bytes(40_000))
    codes = _codes(_run(path))
    assert "mp3_length_mismatch" in codes and "bitrate_mismatch" in codes


def test_data_appended_to_wav(tmp_path: Path, rng: np.random.Generator) -> None:
    path = write_wav(tmp_path / "w.wav", sr=SR, samples=_speechy(rng, 1.0))
    clean = path.read_bytes()
    path.write_bytes(clean + b"LIST" + (4).to_bytes(4, "little") + b"INFO")
    assert _codes(_run(path)) == []  # a valid trailing chunk is normal
    path.write_bytes(clean + rng.bytes(3000))
    assert "wav_trailing_data" in _codes(_run(path))


@pytest.mark.parametrize("extra", ["random", "zeros", "text", "one zero byte", "one byte"])
def test_data_appended_to_flac(tmp_path: Path, rng: np.random.Generator, extra: str) -> None:
    path = encode_file(tmp_path / "f.flac", _speechy(rng), sr=SR)
    clean = path.read_bytes()
    whole = _run(path).findings[0].details["flac_tail"]
    assert whole["audio_end"] == len(clean) and whole["trailing_bytes"] == 0
    appended = {
        "random": rng.bytes(5000),
        "zeros": bytes(3000),
        "text": b"hidden payload " * 200,
        "one zero byte": b"\0",
        "one byte": b"\x7f",
    }[extra]
    path.write_bytes(clean + appended)
    result = _run(path)
    assert "flac_trailing_data" in _codes(result)
    anomaly = next(f for f in result.findings if f.details.get("code") == "flac_trailing_data")
    assert anomaly.details["values"]["trailing_bytes"] == len(appended)
    assert anomaly.details["values"]["audio_end"] == len(clean)


def test_flac_with_id3v1_tag_is_not_trailing_data(tmp_path: Path, rng: np.random.Generator) -> None:
    path = encode_file(tmp_path / "f.flac", _speechy(rng), sr=SR)
    tag = b"TAG" + b"title".ljust(30, b"\0") + bytes(95)
    path.write_bytes(path.read_bytes() + tag)
    result = _run(path)
    assert "flac_trailing_data" not in _codes(result)
    assert result.findings[0].details["flac_tail"]["id3v1"] is True


def test_flac_frame_crc_zeros_find_every_frame_end(
    tmp_path: Path, rng: np.random.Generator
) -> None:
    """The CRC-16 rule finds the end of a frame whose length FFmpeg's demuxer reports."""
    import av

    from earwitness.metadata.flac import frame_crc_zeros

    path = encode_file(tmp_path / "f.flac", _speechy(rng, 2.0), sr=SR)
    data = path.read_bytes()
    with av.open(str(path)) as c:
        packets = [(p.pos, p.size) for p in c.demux(c.streams.audio[0]) if p.size]
    assert len(packets) > 3
    for pos, size in packets:
        assert size in frame_crc_zeros(data[pos : pos + size])


@pytest.mark.parametrize(("rate", "key", "bitrate"), [(44056, "wav", None), (11025, "mp3", 64000)])
def test_unusual_sample_rate(
    tmp_path: Path, rng: np.random.Generator, rate: int, key: str, bitrate: int | None
) -> None:
    x = _speechy(rng, 2.0, sr=rate)
    if key == "wav":
        path = write_wav(tmp_path / "odd.wav", sr=rate, samples=x)
    else:
        path = encode_file(tmp_path / "low.mp3", x, sr=rate, bitrate=bitrate)
    assert _codes(_run(path)) == ["unusual_sample_rate"]


def test_creation_time_in_future(tmp_path: Path, rng: np.random.Generator) -> None:
    path = encode_file(
        tmp_path / "f.m4a", _speechy(rng), sr=SR, tags={"creation_time": "2099-06-01T00:00:00Z"}
    )
    assert probe(path).tags["creation_time"] > datetime.now(UTC).isoformat()
    assert "creation_time_after_reference" in _codes(_run(path))


def test_creation_time_after_ingest_and_streams_differ(
    tmp_path: Path, rng: np.random.Generator
) -> None:
    path = encode_file(
        tmp_path / "g.m4a", _speechy(rng), sr=SR, tags={"creation_time": "2024-03-01T12:00:00Z"}
    )
    info = probe(path)
    stage = MetadataStage()
    clean = _run(path)
    assert _codes(clean) == []
    decode = clean.findings[0].details["decode"]
    assert decode["decode_errors"] == 0
    # the same file, ingested before the time it claims to have been made
    from earwitness.metadata.stage import _decode_report, gather_facts

    ctx = AnalysisContext(path=path, probe=info, sha256="0" * 64, item_id="t")
    report = _decode_report(path, ctx)
    facts = gather_facts(path, info, report, ingested_at=datetime(2024, 1, 1, tzinfo=UTC))
    codes = _codes(stage.evaluate(facts))
    assert codes == ["creation_time_after_reference"]
    # a stream whose creation time differs from the container's by a day
    streams = list(info.streams)
    streams[0] = dataclasses.replace(
        streams[0], tags={**streams[0].tags, "creation_time": "2024-03-02T12:00:00.000000Z"}
    )
    edited = FileFacts(probe=dataclasses.replace(info, streams=tuple(streams)), decode=report)
    assert [a.code for a in check_times(edited, MetadataParams())] == ["creation_times_differ"]


def test_multiple_audio_tracks(tmp_path: Path, rng: np.random.Generator) -> None:
    path = encode_av_file(
        tmp_path / "two.mkv",
        [_speechy(rng), _speechy(rng)],
        sr=SR,
        codec="mkv",
        container_format="matroska",
        image=np.zeros((32, 32, 3), np.uint8),
        video_codec="mjpeg",
    )
    result = _run(path)
    assert _codes(result) == ["multiple_audio_tracks"]
    assert result.summary["audio_tracks"] == 2 and result.summary["video_streams"] == 1
    anomaly = result.findings[1]
    assert anomaly.details["values"]["others"][0]["index"] == 2


def test_timestamp_gap(tmp_path: Path, rng: np.random.Generator) -> None:
    """Packets of a WebM Opus stream shifted by 0.5 s after 1 s: a cut-and-join trace."""
    src = encode_file(tmp_path / "src.webm", _speechy(rng), sr=SR)
    out = insert_timestamp_gap(src, tmp_path / "gap.webm", after_s=1.0, gap_s=0.5)
    result = _run(out)
    assert "timestamp_gap" in _codes(result)
    gap = next(f for f in result.findings if f.details.get("code") == "timestamp_gap")
    assert gap.start_s == pytest.approx(1.0, abs=0.03)
    assert gap.end_s - gap.start_s == pytest.approx(0.5, abs=0.03)


def test_corpus_hotwords(corpus: Path) -> None:
    result = _run(corpus / "hotwords.mp3")
    assert _codes(result) == []
    patterns = {h["pattern"] for h in result.findings[0].details["software_hints"]}
    assert {"lavc", "dash_brand"} <= patterns


def test_creation_time_after_collection_via_store(tmp_path: Path, rng: np.random.Generator) -> None:
    """The stage reads ingest and collection times from the evidence store."""
    from earwitness.custody.store import EvidenceStore

    path = encode_file(
        tmp_path / "s.m4a", _speechy(rng), sr=SR, tags={"creation_time": "2024-03-01T12:00:00Z"}
    )
    store = EvidenceStore.open(tmp_path / "store")
    outcome = store.ingest(path, source="test", collected_at="2023-12-31T00:00:00Z")
    assert outcome.item is not None
    original = store.original_path(outcome.item)
    ctx = AnalysisContext(
        path=original,
        probe=probe(original),
        sha256=outcome.item.sha256,
        item_id=outcome.item.id,
        store=store,
    )
    result = MetadataStage().run(ctx)
    anomalies = [f for f in result.findings if f.kind == "metadata_anomaly"]
    assert [a.details["code"] for a in anomalies] == ["creation_time_after_reference"]
    assert anomalies[0].details["values"]["reference_is"] == "the time it was collected"


def test_store_failure_is_recorded_as_limitation(tmp_path: Path, rng: np.random.Generator) -> None:
    """A store that cannot give the item's times is named in the limitations, not swallowed."""
    from earwitness.errors import StoreError

    class BrokenStore:
        def get(self, item_id: str) -> None:
            raise StoreError(f"store.db: item {item_id} unreadable (disk image is malformed)")

    path = write_wav(tmp_path / "s.wav", sr=SR, samples=_speechy(rng))
    ctx = AnalysisContext(
        path=path,
        probe=probe(path),
        sha256="0" * 64,
        item_id="item-1",
        store=BrokenStore(),  # type: ignore[arg-type]
    )
    result = MetadataStage().run(ctx)
    notes = [n for n in result.limitations if "ingest" in n]
    assert len(notes) == 1
    assert "disk image is malformed" in notes[0]
    assert result.summary["store_error"].startswith("StoreError: store.db: item item-1")
