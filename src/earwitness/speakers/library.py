"""The reference voice library: named speaker vectors built from reference recordings.

Stored in ``store.data_dir("voices")/library.json``. Each reference file is first checked
(decoded, speech found), then ingested into the evidence store so it is kept byte-exact and
hashed like any other evidence; the library keeps each file's SHA-256 and item id. Adding and
removing a voice is written to the audit log (``voice_add``, ``voice_remove``); removing a
voice never deletes the stored reference files.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from earwitness.decode import load_audio
from earwitness.errors import EarwitnessError, InputError, NotFoundError, StoreError
from earwitness.jsonfile import read_json_object
from earwitness.speakers.embedder import SpeakerEmbedder
from earwitness.speakers.windows import active_speech, embed_recording, normalise_level

if TYPE_CHECKING:
    from earwitness.custody.store import EvidenceStore

LIBRARY_FILE = "library.json"
_NAME = re.compile(r"^[\w][\w .'-]{0,79}$")


class VoiceExistsError(EarwitnessError):
    """A voice of that name is already in the library."""


@dataclass(frozen=True)
class ReferenceFile:
    name: str
    sha256: str
    item_id: str
    speech_s: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "sha256": self.sha256,
            "item_id": self.item_id,
            "speech_s": round(self.speech_s, 3),
        }


@dataclass(frozen=True)
class VoiceEntry:
    """One reference voice: ``vector`` is the unit mean speaker vector of its files' speech,
    joined (each file level-normalised) and windowed as one recording."""

    name: str
    note: str
    added_at: str
    embedder: str
    embedder_version: str
    files: tuple[ReferenceFile, ...]
    vector: np.ndarray

    @property
    def speech_s(self) -> float:
        return float(sum(f.speech_s for f in self.files))

    def to_dict(self, *, with_vector: bool = False) -> dict[str, Any]:
        d: dict[str, Any] = {
            "name": self.name,
            "note": self.note,
            "added_at": self.added_at,
            "embedder": self.embedder,
            "embedder_version": self.embedder_version,
            "speech_s": round(self.speech_s, 3),
            "files": [f.to_dict() for f in self.files],
        }
        if with_vector:
            d["vector"] = [round(float(v), 7) for v in self.vector]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> VoiceEntry:
        return cls(
            name=str(d["name"]),
            note=str(d.get("note", "")),
            added_at=str(d["added_at"]),
            embedder=str(d["embedder"]),
            embedder_version=str(d["embedder_version"]),
            files=tuple(
                ReferenceFile(
                    name=f["name"],
                    sha256=f["sha256"],
                    item_id=f["item_id"],
                    speech_s=float(f["speech_s"]),
                )
                for f in d["files"]
            ),
            vector=np.asarray(d["vector"], dtype=np.float32),
        )


class VoiceLibrary:
    """The library of one evidence store (see the module docstring)."""

    def __init__(self, store: EvidenceStore) -> None:
        self.store = store
        self.dir = store.data_dir("voices")
        self.path = self.dir / LIBRARY_FILE

    @contextmanager
    def _locked(self) -> Iterator[None]:
        with open(self.dir / "library.lock", "a+b") as lock:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            yield

    def _read(self) -> dict[str, dict[str, Any]]:
        """The stored voices; :class:`StoreError` naming the file when it is damaged (it is
        then left as it is: nothing is written over it)."""
        hint = "; it is left as it is, repair or move it away"
        try:
            data = read_json_object(self.path, what="voice library", error=StoreError, hint=hint)
        except FileNotFoundError:
            return {}
        voices = data.get("voices", {})
        if not isinstance(voices, dict):
            raise StoreError(f'{self.path}: voice library\'s "voices" is not a JSON object{hint}')
        bad = sorted(str(k) for k, v in voices.items() if not isinstance(v, dict))
        if bad:
            raise StoreError(
                f"{self.path}: voice library entries are not JSON objects: {', '.join(bad)}"
            )
        return voices

    def _write(self, voices: dict[str, dict[str, Any]]) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.dir, prefix=".library.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"format": 1, "voices": voices}, fh, indent=1, sort_keys=True)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)

    def entries(self) -> list[VoiceEntry]:
        return [VoiceEntry.from_dict(v) for _, v in sorted(self._read().items())]

    def __len__(self) -> int:
        return len(self._read())

    def get(self, name: str) -> VoiceEntry:
        voices = self._read()
        if name not in voices:
            known = ", ".join(sorted(voices)) or "the library is empty"
            raise NotFoundError(f"no voice named {name!r} in the library ({known})")
        return VoiceEntry.from_dict(voices[name])

    def add(
        self,
        name: str,
        files: Sequence[str | Path],
        *,
        embedder: SpeakerEmbedder,
        note: str = "",
    ) -> VoiceEntry:
        """Check, ingest and embed ``files`` as the voice ``name``; audit ``voice_add``.

        Raises :class:`InputError` naming the first file that cannot be decoded or has no
        speech (nothing is ingested then), :class:`VoiceExistsError` for a taken name.
        """
        if not _NAME.match(name):
            raise InputError(name, "a voice name is 1-80 letters, digits, spaces or . ' - _")
        if not files:
            raise InputError(name, "give at least one reference file")
        if name in self._read():
            raise VoiceExistsError(
                f"a voice named {name!r} is already in the library; remove it first to replace it"
            )
        sr = embedder.sample_rate
        parts: list[np.ndarray] = []
        speech: list[float] = []
        for f in files:
            p = Path(f)
            if not p.is_file():
                raise InputError(p, "no such file")
            audio = load_audio(p, sr=sr, mono=True, limits=self.store.limits)
            try:
                active = active_speech(y=audio.samples, sr=sr)
                parts += [normalise_level(y=active), np.zeros(int(0.15 * sr), np.float32)]
            except ValueError as exc:
                raise InputError(p, f"no usable speech in this reference file ({exc})") from exc
            speech.append(len(active) / sr)
        # One vector from all files joined, as the calibration's recordings were made.
        vector, _ = embed_recording(y=np.concatenate(parts), sr=sr, embedder=embedder)
        refs: list[ReferenceFile] = []
        for f, s in zip(files, speech, strict=True):
            out = self.store.ingest(f, source=f"voice reference: {name}")
            if out.item is None:
                raise InputError(f, f"cannot be stored as evidence ({out.error})")
            refs.append(
                ReferenceFile(
                    name=Path(f).name, sha256=out.item.sha256, item_id=out.item.id, speech_s=s
                )
            )
        entry = VoiceEntry(
            name=name,
            note=note,
            added_at=datetime.now(UTC).isoformat(timespec="seconds"),
            embedder=embedder.name,
            embedder_version=embedder.version,
            files=tuple(refs),
            vector=vector,
        )
        with self._locked():
            voices = self._read()
            if name in voices:
                raise VoiceExistsError(f"a voice named {name!r} is already in the library")
            voices[name] = entry.to_dict(with_vector=True)
            self._write(voices)
        self.store.audit(
            "voice_add",
            item_id=None,
            details={
                "name": name,
                "note": note,
                "embedder": embedder.name,
                "files": [r.to_dict() for r in refs],
            },
        )
        return entry

    def remove(self, name: str) -> VoiceEntry:
        """Remove ``name`` (audit ``voice_remove``); its reference files stay in the store."""
        with self._locked():
            voices = self._read()
            if name not in voices:
                known = ", ".join(sorted(voices)) or "the library is empty"
                raise NotFoundError(f"no voice named {name!r} in the library ({known})")
            entry = VoiceEntry.from_dict(voices.pop(name))
            self._write(voices)
        self.store.audit(
            "voice_remove",
            item_id=None,
            details={
                "name": name,
                "files": [r.to_dict() for r in entry.files],
            },
        )
        return entry
