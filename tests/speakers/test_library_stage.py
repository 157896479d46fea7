"""Library, stage, archive recurrence and CLI, with the fast band embedder (see conftest)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from earwitness.analysis import analyze
from earwitness.cli.main import main
from earwitness.custody.hooks import HookRegistry
from earwitness.custody.store import EvidenceStore
from earwitness.errors import InputError, NotFoundError, StoreError
from earwitness.findings import ErrorRates
from earwitness.pipeline import AnalyzeOptions, StageRegistry
from earwitness.speakers.calibration import LinearCalibration, SpeakerCalibration
from earwitness.speakers.library import VoiceExistsError, VoiceLibrary
from earwitness.speakers.stage import SpeakersStage
from earwitness.synth import encode_file
from tests.speakers.conftest import SR, BandEmbedder, talker

CAL = SpeakerCalibration(
    linear=LinearCalibration(slope=60.0, offset=-55.0, bound=9.0),
    rates=ErrorRates(
        detector="speaker_llr",
        summary="test calibration",
        figures={"eer": 0.02, "cllr": 0.1},
        dataset="synthetic band-embedder talkers",
        produced_by="tests",
        measured_at="2026-11-25",
    ),
    embedder=BandEmbedder.name,
)
OPTS = AnalyzeOptions(stages=("speakers",), extra={"speakers": {"embedder": BandEmbedder.name}})


def registry(cal: SpeakerCalibration | None = CAL) -> StageRegistry:
    reg = StageRegistry()
    reg.register(SpeakersStage(calibration=lambda: cal))
    return reg


def write(path: Path, y: np.ndarray) -> Path:
    encode_file(path, y, sr=SR, codec="flac")
    return path


def conversation(tmp: Path, rng: np.random.Generator, name: str = "conv.flac") -> Path:
    gap = np.zeros(SR // 2, np.float32)
    y = np.concatenate(
        [talker(f0=110, duration_s=4, rng=rng), gap, talker(f0=260, duration_s=4, rng=rng)]
    )
    return write(tmp / name, y)


def run(path: Path, tmp: Path, store: EvidenceStore, reg: StageRegistry | None = None) -> dict:
    out = analyze(
        path, tmp / f"out-{path.stem}", store=store, options=OPTS, registry=reg or registry()
    )
    run_ = next(r for r in out.runs if r.name == "speakers")
    assert run_.status == "ok", run_.error or run_.reason
    return out.report


def by_kind(report: dict, kind: str) -> list[dict]:
    return [f for f in report["findings"] if f["kind"] == kind]


def stage_summary(report: dict) -> dict:
    return report["summary"]["speakers"]


def test_add_list_remove_with_audit(
    tmp_path: Path, rng: np.random.Generator, store: EvidenceStore, band_embedder: BandEmbedder
) -> None:
    ref = write(tmp_path / "alpha.flac", talker(f0=110, duration_s=3, rng=rng))
    lib = VoiceLibrary(store)
    entry = lib.add("Alpha One", [ref], embedder=band_embedder, note="test voice")
    assert [e.name for e in lib.entries()] == ["Alpha One"]
    item = store.get(entry.files[0].item_id)
    assert item.sha256 == entry.files[0].sha256  # reference kept as evidence
    assert any(
        a.action == "voice_add" and a.details["name"] == "Alpha One" for a in store.audit_entries()
    )
    with pytest.raises(VoiceExistsError):
        lib.add("Alpha One", [ref], embedder=band_embedder)
    lib.remove("Alpha One")
    assert len(lib) == 0
    assert any(a.action == "voice_remove" for a in store.audit_entries())
    assert store.get(item.id)  # removing a voice never deletes evidence
    with pytest.raises(NotFoundError, match="no voice named 'Ghost'"):
        lib.remove("Ghost")
    with pytest.raises(NotFoundError, match="library is empty"):
        lib.get("Ghost")


def test_bad_reference_files_are_named(
    tmp_path: Path, rng: np.random.Generator, store: EvidenceStore, band_embedder: BandEmbedder
) -> None:
    good = write(tmp_path / "good.flac", talker(f0=110, duration_s=2, rng=rng))
    junk = tmp_path / "junk.mp3"
    junk.write_bytes(b"this is not audio at all" * 10)
    silent = write(tmp_path / "silent.flac", np.zeros(2 * SR, np.float32))
    lib = VoiceLibrary(store)
    cases = [
        (junk, "not a readable audio or video file"),
        (silent, "no usable speech"),
        (tmp_path / "missing.wav", "no such file"),
    ]
    for bad, reason in cases:
        with pytest.raises(InputError) as exc:
            lib.add("Voice", [good, bad], embedder=band_embedder)
        assert exc.value.path == str(bad)  # the refused file, not the good one
        assert reason in exc.value.reason
    assert store.items() == []  # nothing ingested when a reference is refused
    with pytest.raises(InputError, match="voice name"):
        lib.add("../etc", [good], embedder=band_embedder)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b'{"format": 1, "voices": {"Alpha": {"name": "Al', "not valid JSON"),
        (b'["Alpha"]', "not a JSON object"),
        (b'{"format": 1, "voices": ["Alpha"]}', "not a JSON object"),
    ],
)
def test_corrupt_library_file_is_a_store_error_naming_it(
    tmp_path: Path,
    rng: np.random.Generator,
    store: EvidenceStore,
    band_embedder: BandEmbedder,
    content: bytes,
    reason: str,
) -> None:
    """A damaged library.json is named and left alone: adding a voice does not replace it."""
    lib = VoiceLibrary(store)
    lib.path.write_bytes(content)
    ref = write(tmp_path / "alpha.flac", talker(f0=110, duration_s=2, rng=rng))
    for call in (lib.entries, lambda: lib.get("Alpha"), lambda: lib.remove("Alpha")):
        with pytest.raises(StoreError) as exc:
            call()
        assert str(lib.path) in str(exc.value)
        assert reason in str(exc.value)
    with pytest.raises(StoreError, match=reason):
        lib.add("Beta", [ref], embedder=band_embedder)
    assert lib.path.read_bytes() == content  # what was stored is not overwritten
    assert store.items() == []  # and the reference was not ingested


def test_stage_diarizes_and_matches_library(
    tmp_path: Path, rng: np.random.Generator, store: EvidenceStore, band_embedder: BandEmbedder
) -> None:
    lib = VoiceLibrary(store)
    lib.add(
        "alpha",
        [write(tmp_path / "a.flac", talker(f0=110, duration_s=3, rng=rng))],
        embedder=band_embedder,
    )
    lib.add(
        "beta",
        [write(tmp_path / "b.flac", talker(f0=260, duration_s=3, rng=rng))],
        embedder=band_embedder,
    )
    report = run(conversation(tmp_path, rng), tmp_path, store)
    summary = stage_summary(report)
    assert summary["speaker_count"] == 2
    assert set(summary["speaker_time_s"]) == {"S1", "S2"}
    turns = by_kind(report, "speaker_turn")
    assert [t["label"] for t in turns] == ["S1", "S2"]
    assert turns[0]["end_s"] == pytest.approx(4.0, abs=0.8)
    matches = by_kind(report, "speaker_match")
    best = {}
    for m in matches:
        d = m["details"]
        assert m["score"] == pytest.approx(d["llr"], abs=1e-3)
        assert d["llr_base"].startswith("natural log")
        assert d["calibration_dataset"] == CAL.rates.dataset
        assert d["calibration_eer"] == 0.02 and d["calibration_cllr"] == 0.1
        assert "calibrat" in d["caution"].lower() or "Calibrated" in d["caution"]
        assert not any("cos" in k.lower() for k in d)  # no raw similarity in the report
        if d["speaker"] not in best or d["llr"] > best[d["speaker"]][1]:
            best[d["speaker"]] = (d["reference"], d["llr"])
    assert best["S1"][0] == "alpha" and best["S2"][0] == "beta"
    assert best["S1"][1] > 0 and best["S2"][1] > 0


def test_empty_library_gives_no_match(
    tmp_path: Path, rng: np.random.Generator, store: EvidenceStore, band_embedder: BandEmbedder
) -> None:
    report = run(conversation(tmp_path, rng), tmp_path, store)
    assert by_kind(report, "speaker_match") == []
    assert "empty" in stage_summary(report)["library"]


class OtherBands(BandEmbedder):
    name = "other-bands"
    version = "2"


def test_voices_of_another_embedder_are_counted_not_hidden(
    tmp_path: Path, rng: np.random.Generator, store: EvidenceStore, band_embedder: BandEmbedder
) -> None:
    """Voices enrolled with another embedder cannot be compared; the report says how many."""
    lib = VoiceLibrary(store)
    for name, f0 in (("beta", 260), ("gamma", 180)):
        ref = write(tmp_path / f"{name}.flac", talker(f0=f0, duration_s=3, rng=rng))
        lib.add(name, [ref], embedder=OtherBands())
    report = run(conversation(tmp_path, rng), tmp_path, store)
    summary = stage_summary(report)
    assert by_kind(report, "speaker_match") == []
    assert "empty" not in summary["library"]
    assert "2 reference voice(s) skipped" in summary["library"]
    assert summary["library_skipped"] == {"other-bands": ["beta", "gamma"]}
    notes = [n for n in report["limitations"]["stages"]["speakers"] if "enrolled with" in n]
    assert len(notes) == 1
    assert "other-bands" in notes[0] and BandEmbedder.name in notes[0]

    ref = write(tmp_path / "alpha.flac", talker(f0=110, duration_s=3, rng=rng))
    lib.add("alpha", [ref], embedder=band_embedder)
    report = run(conversation(tmp_path, rng, "conv2.flac"), tmp_path, store)
    summary = stage_summary(report)
    assert {m["details"]["reference"] for m in by_kind(report, "speaker_match")} == {"alpha"}
    assert summary["library"].startswith("1 reference voice(s) compared")
    assert "2 reference voice(s) skipped" in summary["library"]


def test_no_calibration_means_no_comparison(
    tmp_path: Path, rng: np.random.Generator, store: EvidenceStore, band_embedder: BandEmbedder
) -> None:
    VoiceLibrary(store).add(
        "alpha",
        [write(tmp_path / "a.flac", talker(f0=110, duration_s=3, rng=rng))],
        embedder=band_embedder,
    )
    report = run(conversation(tmp_path, rng), tmp_path, store, registry(None))
    assert by_kind(report, "speaker_match") == []
    assert "calibration" in stage_summary(report)["library"]


def test_recurrence_across_archive(
    tmp_path: Path, rng: np.random.Generator, store: EvidenceStore, band_embedder: BandEmbedder
) -> None:
    first = run(conversation(tmp_path, rng, "first.flac"), tmp_path, store)
    first_id = first["item"]["id"] if "item" in first else store.items()[0].id
    other = write(tmp_path / "other.flac", talker(f0=420, duration_s=4, rng=rng))
    store.ingest(other)  # never analysed: profiled lazily
    again = write(tmp_path / "again.flac", talker(f0=260, duration_s=5, rng=rng))
    report = run(again, tmp_path, store)
    rec = by_kind(report, "speaker_recurrence")
    assert len(rec) == 1
    items = rec[0]["details"]["items"]
    assert [i["item_id"] for i in items] == [first_id]
    assert items[0]["speaker"] == "S2" and items[0]["llr"] > 0
    assert stage_summary(report)["archive"]["items_compared"] == 2


def test_cli_add_list_remove(
    tmp_path: Path,
    rng: np.random.Generator,
    band_embedder: BandEmbedder,
    capsys: pytest.CaptureFixture[str],
) -> None:
    ref = write(tmp_path / "alpha.flac", talker(f0=110, duration_s=3, rng=rng))
    st = ["--store", str(tmp_path / "cli-store")]
    assert (
        main(
            [
                "voices",
                "add",
                "alpha",
                str(ref),
                "--note",
                "from test",
                "--embedder",
                BandEmbedder.name,
                *st,
            ]
        )
        == 0
    )
    assert "added voice 'alpha'" in capsys.readouterr().out
    assert main(["voices", "list", "--json", *st]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [v["name"] for v in listed] == ["alpha"] and listed[0]["note"] == "from test"
    assert main(["voices", "remove", "alpha", *st]) == 0
    assert main(["voices", "remove", "alpha", *st]) == 1
    assert "no voice named 'alpha'" in capsys.readouterr().err
    assert main(["voices", "list", *st]) == 0
    assert "empty" in capsys.readouterr().out
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF....garbage")
    assert main(["voices", "add", "x", str(bad), "--embedder", BandEmbedder.name, *st]) == 1
    assert "bad.wav" in capsys.readouterr().err


def test_cli_index_profiles_the_archive(
    tmp_path: Path,
    rng: np.random.Generator,
    band_embedder: BandEmbedder,
    capsys: pytest.CaptureFixture[str],
) -> None:
    st = ["--store", str(tmp_path / "cli-store")]
    with EvidenceStore.open(tmp_path / "cli-store", hooks=HookRegistry()) as store:
        store.ingest(conversation(tmp_path, rng))
        store.ingest(write(tmp_path / "silent.flac", np.zeros(2 * SR, np.float32)))
    assert main(["voices", "index", "--embedder", BandEmbedder.name, "--json", *st]) == 0
    done = {d["item_id"]: d for d in json.loads(capsys.readouterr().out)}
    assert sorted(d["speakers"] for d in done.values()) == [0, 2]
    assert main(["voices", "index", "--embedder", BandEmbedder.name, "--json", *st]) == 0
    assert json.loads(capsys.readouterr().out) == []  # cached: nothing to do
