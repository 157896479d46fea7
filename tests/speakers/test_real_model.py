"""The real GE2E encoder (weights from the Resemblyzer package) on the shared corpus.

Skipped when torch or the Resemblyzer weights are absent, or when the corpus is absent.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from earwitness.analysis import analyze
from earwitness.cli.main import main
from earwitness.custody.store import EvidenceStore
from earwitness.decode import load_audio
from earwitness.pipeline import AnalyzeOptions
from earwitness.speakers.archive import analyse_chunks
from earwitness.speakers.calibration import load_speaker_calibration
from earwitness.speakers.embedder import RESEMBLYZER_SHA256, ResemblyzerEmbedder
from earwitness.speakers.validate import group_recordings, labelled_files
from earwitness.synth import encode_file

pytestmark = pytest.mark.speakers
SR = 16000


def channel_truth(stereo: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Per-channel activity in 0.1 s frames (level within 30 dB of that channel's peak)."""
    n = SR // 10
    frames = stereo[:, : stereo.shape[1] // n * n].reshape(2, -1, n)
    level = 10 * np.log10(np.mean(frames**2, axis=2) + 1e-12)
    active = level > level.max(axis=1, keepdims=True) - 30
    return active[0], active[1], 0.1


def test_weights_are_pinned(real_embedder: ResemblyzerEmbedder) -> None:
    import hashlib

    assert hashlib.sha256(real_embedder.weights_path.read_bytes()).hexdigest() == (
        RESEMBLYZER_SHA256
    )


def test_stereo_diarization_two_talkers(corpus: Path, real_embedder: ResemblyzerEmbedder) -> None:
    path = corpus / "stereo_diarization.flac"
    stereo = load_audio(path, sr=SR, mono=False).samples
    a0, a1, hop = channel_truth(stereo)
    mono = stereo.mean(axis=0).astype(np.float32)  # the downmix is what gets analysed
    _, dia = analyse_chunks(
        chunks=[mono[i : i + SR] for i in range(0, len(mono), SR)], embedder=real_embedder
    )
    assert dia.speaker_count == 2
    # Ground truth: channel 1's talker stops at its last active frame; after it, only
    # channel 0's talker speaks.
    ch1_end = (np.nonzero(a1)[0].max() + 1) * hop
    solo0 = np.nonzero(a0 & ~a1)[0] * hop
    solo0 = solo0[solo0 > ch1_end]
    assert len(solo0) > 5

    def who(t: float) -> str:
        return next(x.speaker for x in dia.turns if x.start_s <= t <= x.end_s)

    late = who(float(np.median(solo0)))
    early = who(ch1_end / 2)
    assert late != early
    change = next(x.start_s for x in dia.turns if x.speaker == late)
    assert abs(change - ch1_end) < 0.6  # tolerance: window hop + half a window


def test_shipped_calibration_is_for_this_embedder(real_embedder: ResemblyzerEmbedder) -> None:
    cal = load_speaker_calibration()
    assert cal is not None, "src/earwitness/calibration/speaker_llr.json is missing"
    assert cal.embedder == real_embedder.name
    assert cal.cllr < 1 and cal.linear.slope > 0


def fsdd_group(corpus: Path, speaker: str, numbers: range) -> list[Path]:
    return [corpus / "fsdd" / f"{d}_{speaker}_{n}.flac" for n in numbers for d in (1, 5)]


def concat(paths: list[Path]) -> np.ndarray:
    parts = []
    for p in paths:
        y = load_audio(p, sr=SR).samples
        parts += [0.05 * y / np.sqrt(np.mean(y**2)), np.zeros(SR // 5, np.float32)]
    return np.concatenate(parts).astype(np.float32)


@pytest.mark.slow
def test_library_match_end_to_end(
    tmp_path: Path,
    corpus: Path,
    real_embedder: ResemblyzerEmbedder,
    capsys: pytest.CaptureFixture[str],
) -> None:
    st = ["--store", str(tmp_path / "store")]
    for spk in ("george", "jackson"):
        files = [str(p) for p in fsdd_group(corpus, spk, range(40, 44))]
        assert main(["voices", "add", spk, *files, *st]) == 0
    capsys.readouterr()
    probe = tmp_path / "probe.flac"
    encode_file(probe, concat(fsdd_group(corpus, "george", range(30, 34))), sr=SR, codec="flac")
    with EvidenceStore.open(tmp_path / "store") as store:
        out = analyze(
            probe, tmp_path / "out", store=store, options=AnalyzeOptions(stages=("speakers",))
        )
    matches = [f for f in out.report["findings"] if f["kind"] == "speaker_match"]
    llr = {f["details"]["reference"]: f["details"]["llr"] for f in matches}
    assert llr["george"] > 0 > llr["jackson"]
    d = matches[0]["details"]
    assert "Free Spoken Digit" in d["calibration_dataset"]
    assert d["calibration_eer"] < 0.1 and d["calibration_cllr"] < 1
    assert "codec" in d["caution"]


@pytest.mark.slow
def test_validate_fsdd_subset(
    tmp_path: Path,
    corpus: Path,
    real_embedder: ResemblyzerEmbedder,
    capsys: pytest.CaptureFixture[str],
) -> None:
    plot = tmp_path / "tippett.png"
    code = main(
        [
            "voices",
            "validate",
            str(corpus / "fsdd"),
            "--group",
            "5",
            "--per-speaker",
            "8",
            "--plot",
            str(plot),
            "--json",
        ]
    )
    assert code == 0
    res = json.loads(capsys.readouterr().out)
    assert res["target_trials"] == 3 * 28 and res["nontarget_trials"] == 3 * 64
    assert res["eer"] < 0.08  # stated bound for 5-digit FSDD recordings
    assert res["cllr_bits"] < 1
    assert plot.read_bytes().startswith(b"\x89PNG")


def test_labels_from_names_and_csv(tmp_path: Path, corpus: Path) -> None:
    files = labelled_files(corpus / "fsdd")
    assert {s for _, s in files} == {"george", "jackson", "lucas"}
    groups = group_recordings(files, group=5, per_speaker=2)
    assert len(groups) == 6 and all(len(g) == 5 for _, g in groups)
    flat = [p for _, g in groups for p in g]
    assert len(flat) == len(set(flat))  # utterance-disjoint
    (tmp_path / "x.flac").write_bytes(b"")
    (tmp_path / "labels.csv").write_text("file,speaker\nx.flac,anna\n", encoding="utf-8")
    assert labelled_files(tmp_path) == [(tmp_path / "x.flac", "anna")]
