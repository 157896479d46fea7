"""Per-item speaker vectors cached in the store, and recurrence of a voice across the archive.

Each analysed item leaves ``store.data_dir("speakers")/<item_id>.json`` with its diarized
speakers' unit centroids and speech time. Items never analysed are profiled lazily (at most
``max_new`` per analysis; ``earwitness voices index`` does the whole archive), so recurrence
searches cost one matrix product per archive item once the cache is warm.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from earwitness.decode import iter_audio
from earwitness.speakers.diarize import Diarization, DiarizationParams, diarize
from earwitness.speakers.embedder import SpeakerEmbedder
from earwitness.speakers.windows import WindowEmbeddings, WindowParams, embed_windows_stream

if TYPE_CHECKING:
    from earwitness.custody.records import ItemRecord
    from earwitness.custody.store import EvidenceStore


@dataclass(frozen=True)
class ItemSpeaker:
    label: str
    speech_s: float
    vector: np.ndarray


@dataclass(frozen=True)
class ItemProfile:
    """The speakers of one archive item as computed by one embedder."""

    item_id: str
    sha256: str
    embedder: str
    embedder_version: str
    speakers: tuple[ItemSpeaker, ...]
    computed_at: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "item_id": self.item_id,
            "sha256": self.sha256,
            "embedder": self.embedder,
            "embedder_version": self.embedder_version,
            "computed_at": self.computed_at,
            "speakers": [
                {
                    "label": s.label,
                    "speech_s": round(s.speech_s, 3),
                    "vector": [round(float(v), 7) for v in s.vector],
                }
                for s in self.speakers
            ],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ItemProfile:
        return cls(
            item_id=str(d["item_id"]),
            sha256=str(d["sha256"]),
            embedder=str(d["embedder"]),
            embedder_version=str(d["embedder_version"]),
            computed_at=str(d["computed_at"]),
            speakers=tuple(
                ItemSpeaker(
                    label=s["label"],
                    speech_s=float(s["speech_s"]),
                    vector=np.asarray(s["vector"], dtype=np.float32),
                )
                for s in d["speakers"]
            ),
        )


def analyse_chunks(
    *,
    chunks: Iterable[np.ndarray],
    embedder: SpeakerEmbedder,
    activity: Sequence[tuple[float, float]] | None = None,
    window_params: WindowParams | None = None,
    diarization_params: DiarizationParams | None = None,
) -> tuple[WindowEmbeddings, Diarization]:
    """Window embeddings and diarization of a mono stream at the embedder's rate."""
    windows = embed_windows_stream(
        chunks=chunks,
        sr=embedder.sample_rate,
        embedder=embedder,
        activity=activity,
        params=window_params,
    )
    return windows, diarize(windows=windows, params=diarization_params)


def profile_from(
    *, item_id: str, sha256: str, embedder: SpeakerEmbedder, diarization: Diarization
) -> ItemProfile:
    return ItemProfile(
        item_id=item_id,
        sha256=sha256,
        embedder=embedder.name,
        embedder_version=embedder.version,
        computed_at=datetime.now(UTC).isoformat(timespec="seconds"),
        speakers=tuple(
            ItemSpeaker(label=s.label, speech_s=s.speech_s, vector=s.centroid)
            for s in diarization.speakers
        ),
    )


class SpeakerCache:
    """The per-item profiles of one store, for one embedder."""

    def __init__(self, store: EvidenceStore, embedder: SpeakerEmbedder) -> None:
        self.store = store
        self.embedder = embedder
        self.dir = store.data_dir("speakers")

    def _path(self, item_id: str) -> Path:
        return self.dir / f"{item_id}.json"

    def load(self, item_id: str) -> ItemProfile | None:
        try:
            prof = ItemProfile.from_dict(
                json.loads(self._path(item_id).read_text(encoding="utf-8"))
            )
        except (FileNotFoundError, ValueError, KeyError):
            return None
        if (prof.embedder, prof.embedder_version) != (self.embedder.name, self.embedder.version):
            return None
        return prof

    def save(self, profile: ItemProfile) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.dir, prefix=".prof.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(profile.to_dict(), fh)
        os.replace(tmp, self._path(profile.item_id))

    def compute(self, item: ItemRecord) -> ItemProfile:
        """Profile a stored item (streamed decode of its original) and cache it."""
        chunks = iter_audio(
            self.store.original_path(item),
            sr=self.embedder.sample_rate,
            mono=True,
            limits=self.store.limits,
        )
        _, dia = analyse_chunks(chunks=chunks, embedder=self.embedder)
        prof = profile_from(
            item_id=item.id, sha256=item.sha256, embedder=self.embedder, diarization=dia
        )
        self.save(prof)
        return prof

    def profiles(
        self,
        *,
        exclude: str | None = None,
        max_new: int = 0,
        skip_ids: Iterable[str] = (),
    ) -> tuple[list[ItemProfile], dict[str, str]]:
        """Cached profiles of every item but ``exclude``, computing up to ``max_new`` missing
        ones; returns (profiles, {item id: why it has no profile}). Items in ``skip_ids`` (e.g.
        reference files of the voice library) are left out."""
        skip = set(skip_ids)
        out: list[ItemProfile] = []
        missing: dict[str, str] = {}
        budget = max_new
        for item in self.store.items():
            if item.id == exclude or item.id in skip:
                continue
            prof = self.load(item.id)
            if prof is None and budget > 0:
                budget -= 1
                try:
                    prof = self.compute(item)
                except Exception as exc:  # recorded and reported, never swallowed
                    missing[item.id] = f"profiling failed: {type(exc).__name__}: {exc}"
                    continue
            if prof is None:
                missing[item.id] = "not profiled yet (run `earwitness voices index`)"
            else:
                out.append(prof)
        return out, missing
