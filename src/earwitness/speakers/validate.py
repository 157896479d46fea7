"""Speaker-verification figures on a labelled folder: EER, Cllr and a Tippett plot.

Labels come from ``labels.csv`` in the folder (columns ``file,speaker``; ``file`` relative to
the folder) or, without it, from file names: the speaker is the second-to-last
``_``-separated field of the stem, as in the Free Spoken Digit Dataset's
``{digit}_{speaker}_{n}.wav``. Files can be grouped ``group`` at a time (same speaker,
concatenated with 0.15 s of silence) into longer "recordings", since single digits (0.3-0.7 s)
are far shorter than real comparisons. Every pair of recordings is one trial; a recording's
clips are never shared with another recording, so target trials are utterance-disjoint.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from earwitness.decode import load_audio
from earwitness.errors import InputError
from earwitness.speakers.calibration import (
    SpeakerCalibration,
    cllr,
    eer,
    min_cllr,
    tippett_png,
)
from earwitness.speakers.embedder import SpeakerEmbedder
from earwitness.speakers.windows import embed_recording, normalise_level

AUDIO_EXT = {".wav", ".flac", ".mp3", ".ogg", ".opus", ".m4a", ".aac", ".amr", ".webm"}
GAP_S = 0.15


def labelled_files(folder: str | Path) -> list[tuple[Path, str]]:
    """``[(path, speaker), ...]`` sorted by path (see the module docstring for the rules)."""
    root = Path(folder)
    if not root.is_dir():
        raise InputError(root, "not a directory")
    csv_path = root / "labels.csv"
    out: list[tuple[Path, str]] = []
    if csv_path.is_file():
        with csv_path.open(newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                if "file" not in row or "speaker" not in row:
                    raise InputError(csv_path, "needs the columns 'file' and 'speaker'")
                p = root / row["file"]
                if not p.is_file():
                    raise InputError(p, "listed in labels.csv but missing")
                out.append((p, row["speaker"].strip()))
        return sorted(out)
    for p in sorted(root.iterdir()):
        if p.suffix.lower() not in AUDIO_EXT:
            continue
        parts = p.stem.split("_")
        if len(parts) < 3 or not parts[-2]:
            raise InputError(
                p,
                "cannot read a speaker label from the name (expected "
                "<anything>_<speaker>_<n>.<ext>, or give labels.csv)",
            )
        out.append((p, parts[-2]))
    if not out:
        raise InputError(root, "no audio files found")
    return out


def group_recordings(
    files: Sequence[tuple[Path, str]],
    *,
    group: int,
    per_speaker: int | None = None,
    seed: int = 0,
) -> list[tuple[str, list[Path]]]:
    """Disjoint groups of ``group`` files of one speaker (shuffled with ``seed``); at most
    ``per_speaker`` groups per speaker."""
    rng = np.random.default_rng(seed)
    by: dict[str, list[Path]] = {}
    for p, s in files:
        by.setdefault(s, []).append(p)
    out: list[tuple[str, list[Path]]] = []
    for s in sorted(by):
        paths = [by[s][i] for i in rng.permutation(len(by[s]))]
        n = len(paths) // group
        if per_speaker is not None:
            n = min(n, per_speaker)
        out += [(s, paths[i * group : (i + 1) * group]) for i in range(n)]
    return out


def embed_group(paths: Sequence[Path], *, embedder: SpeakerEmbedder) -> tuple[np.ndarray, float]:
    """Join the files (level-normalised, ``GAP_S`` apart) and embed them as one recording;
    the voice library builds its reference vectors the same way."""
    sr = embedder.sample_rate
    parts: list[np.ndarray] = []
    for p in paths:
        y = load_audio(p, sr=sr, mono=True).samples
        try:
            parts += [normalise_level(y=y), np.zeros(int(GAP_S * sr), np.float32)]
        except ValueError as exc:
            raise InputError(p, "silent file") from exc
    try:
        return embed_recording(y=np.concatenate(parts), sr=sr, embedder=embedder)
    except ValueError as exc:
        raise InputError(paths[0], f"no usable speech ({exc})") from exc


def trial_scores(*, vectors: np.ndarray, labels: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Cosine scores of every pair ``i < j``: (target scores, non-target scores)."""
    v = np.asarray(vectors, dtype=np.float64)
    lab = np.asarray(labels)
    s = v @ v.T
    i, j = np.triu_indices(len(v), 1)
    same = lab[i] == lab[j]
    return s[i, j][same], s[i, j][~same]


@dataclass(frozen=True)
class ValidationResult:
    """Figures of one validation run (LLRs from the shipped calibration, natural log)."""

    folder: str
    speakers: tuple[str, ...]
    recordings: int
    group: int
    n_target: int
    n_nontarget: int
    eer: float
    cllr: float
    min_cllr: float
    calibration_dataset: str
    tippett_png: bytes = field(repr=False, default=b"")

    def to_dict(self) -> dict[str, object]:
        return {
            "folder": self.folder,
            "speakers": list(self.speakers),
            "recordings": self.recordings,
            "files_per_recording": self.group,
            "target_trials": self.n_target,
            "nontarget_trials": self.n_nontarget,
            "eer": round(self.eer, 4),
            "cllr_bits": round(self.cllr, 4),
            "min_cllr_bits": round(self.min_cllr, 4),
            "llr_base": "natural log",
            "calibration_dataset": self.calibration_dataset,
            "caution": "These figures hold for this labelled set only; other channels "
            "(telephone or low-bitrate codecs), languages and durations can differ.",
        }


def validate_folder(
    folder: str | Path,
    *,
    embedder: SpeakerEmbedder,
    calibration: SpeakerCalibration,
    group: int = 1,
    per_speaker: int | None = None,
    seed: int = 0,
) -> ValidationResult:
    """EER, Cllr (with the shipped calibration), min Cllr and a Tippett plot on ``folder``."""
    files = labelled_files(folder)
    groups = group_recordings(files, group=group, per_speaker=per_speaker, seed=seed)
    speakers = sorted({s for s, _ in groups})
    if len(speakers) < 2:
        raise InputError(folder, "needs recordings of at least two speakers")
    vecs = np.stack([embed_group(paths, embedder=embedder)[0] for _, paths in groups])
    tgt, non = trial_scores(vectors=vecs, labels=[s for s, _ in groups])
    if len(tgt) == 0:
        raise InputError(folder, "needs at least two recordings of one speaker")
    lt, ln_ = calibration.linear.llr(tgt), calibration.linear.llr(non)
    e = eer(target_scores=tgt, nontarget_scores=non)
    c = cllr(target_llrs=lt, nontarget_llrs=ln_)
    title = (
        f"{Path(folder).name}: EER {100 * e:.1f}%, Cllr {c:.3f} bits "
        f"({len(tgt)} same / {len(non)} different)"
    )
    return ValidationResult(
        folder=str(folder),
        speakers=tuple(speakers),
        recordings=len(groups),
        group=group,
        n_target=len(tgt),
        n_nontarget=len(non),
        eer=e,
        cllr=c,
        min_cllr=min_cllr(target_scores=tgt, nontarget_scores=non),
        calibration_dataset=calibration.rates.dataset,
        tippett_png=tippett_png(target_llrs=lt, nontarget_llrs=ln_, title=title),
    )
