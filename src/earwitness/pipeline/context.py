"""What a stage sees: the item, its decoded audio on demand, options and earlier results."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from earwitness.decode import Audio, Limits, ProbeInfo, iter_audio, load_audio

if TYPE_CHECKING:
    from earwitness.custody.store import EvidenceStore
    from earwitness.pipeline.stage import StageResult


@dataclass(frozen=True)
class AnalyzeOptions:
    """Options of one analysis run; recorded verbatim in the report.

    ``stages``: run only these (None = all registered). ``skip``: names to leave out.
    ``no_asr``: skip transcription and other speech-model stages. ``asr_model``: a model
    name or directory for the speech stage. ``watchlist``: names and phrases to search in the
    transcript and translation. ``show_near_misses``: also list archive candidates below the
    match threshold. ``extra``: options for third-party stages, keyed by stage name.
    """

    stages: tuple[str, ...] | None = None
    skip: tuple[str, ...] = ()
    no_asr: bool = False
    asr_model: str | None = None
    translate: bool = True
    watchlist: tuple[str, ...] = ()
    show_near_misses: bool = False
    limits: Limits = field(default_factory=Limits)
    extra: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "stages": list(self.stages) if self.stages is not None else None,
            "skip": list(self.skip),
            "no_asr": self.no_asr,
            "asr_model": self.asr_model,
            "translate": self.translate,
            "watchlist": list(self.watchlist),
            "show_near_misses": self.show_near_misses,
            "limits": {
                "max_bytes": self.limits.max_bytes,
                "max_duration_s": self.limits.max_duration_s,
            },
            "extra": {k: dict(v) for k, v in self.extra.items()},
        }


class AnalysisContext:
    """The per-item state shared by the stages of one run.

    ``path`` is the stored original (read-only); stages never write to it. Decoded audio is
    cached per (rate, mono) so several stages asking for 16 kHz mono decode it once.
    ``results`` holds the results of stages that already ran, by stage name.
    """

    def __init__(
        self,
        *,
        path: Path,
        probe: ProbeInfo,
        sha256: str,
        item_id: str,
        options: AnalyzeOptions | None = None,
        store: EvidenceStore | None = None,
    ) -> None:
        self.path = Path(path)
        self.probe = probe
        self.sha256 = sha256
        self.item_id = item_id
        self.options = options or AnalyzeOptions()
        self.store = store
        self.results: dict[str, StageResult] = {}
        self._audio: dict[tuple[int | None, bool], Audio] = {}

    @property
    def native_sr(self) -> int:
        return int(self.probe.audio.sample_rate or 0)

    def audio(self, *, sr: int | None = None, mono: bool = True) -> Audio:
        """The whole recording decoded at ``sr`` (None = native rate), cached."""
        key = (sr or self.native_sr, mono)
        if key not in self._audio:
            self._audio[key] = load_audio(self.path, sr=sr, mono=mono, limits=self.options.limits)
        return self._audio[key]

    def chunks(
        self, *, sr: int | None = None, mono: bool = True, chunk_s: float = 30.0
    ) -> Iterator[np.ndarray]:
        """Stream the recording in chunks, for stages that must run in bounded memory."""
        return iter_audio(self.path, sr=sr, mono=mono, chunk_s=chunk_s, limits=self.options.limits)

    @property
    def duration_s(self) -> float:
        """Decoded duration at the native rate (decodes if not yet cached)."""
        return self.audio().duration_s

    def release_audio(self) -> None:
        self._audio.clear()
