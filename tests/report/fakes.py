"""Stand-in stages with known findings, so the report is tested whatever stages exist."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from earwitness.findings import ErrorRates, Finding
from earwitness.pipeline import AnalysisContext, StageRegistry, StageResult
from earwitness.synth import babble, encode_file, noise

EVIL_TITLE = "<script>alert('owned')</script><img src=\"https://evil.example/x.png\">"

RATES = ErrorRates(
    detector="fake_duplicates",
    summary="on the validation set this detector finds 90% of pasted segments",
    figures={"recall": 0.9},
    dataset="synthetic",
    produced_by="tests",
    measured_at="2026-11-25",
)


def make_recording(path: Path, rng: np.random.Generator, *, seconds: float = 6.0) -> Path:
    """Speech-like babble over noise with a pasted segment, as AAC in .m4a, evil title tag."""
    sr = 16000
    y = babble(duration_s=seconds, sr=sr, rng=rng, amp=0.3)
    y = y + noise(duration_s=seconds, sr=sr, rng=rng, amp=0.01, color="pink")
    if seconds >= 4.5:
        y[int(4.0 * sr) : int(4.5 * sr)] = y[int(1.0 * sr) : int(1.5 * sr)]
    return encode_file(path, y, sr=sr, codec="m4a", tags={"title": EVIL_TITLE})


class FakeSignals:
    name: ClassVar[str] = "duplicated_segments"
    version: ClassVar[str] = "0.0-test"
    description: ClassVar[str] = "Test stand-in producing one finding of each drawn kind."
    requires: ClassVar[tuple[str, ...]] = ()

    def params(self) -> Mapping[str, Any]:
        return {"threshold": 0.5}

    def enabled(self, ctx: AnalysisContext) -> str | None:
        return None

    def run(self, ctx: AnalysisContext) -> StageResult:
        f = [
            Finding(
                kind="duplicated_segment",
                start_s=4.0,
                end_s=4.5,
                score=0.97,
                label="copy of 1.00–1.50 s <b>pasted</b>",
                details={"source_start_s": 1.0, "source_end_s": 1.5, "note": "</td><script>x"},
                method="fake-corr",
                error_rates=RATES,
            ),
            Finding(
                kind="edit_point",
                start_s=2.5,
                end_s=2.5,
                score=3.1,
                label="noise floor jump",
                details={
                    "evidence": {
                        "noise_floor_db": {
                            "before": -60.0,
                            "after": -48.0,
                            "unit": "dB",
                            "moved": True,
                        },
                        "dc_offset": {"before": 0.0, "after": 0.01},
                    }
                },
                method="fake-edit",
            ),
            Finding(
                kind="acoustic_event",
                start_s=0.5,
                end_s=0.8,
                score=0.8,
                label="gunshot",
                method="fake-events",
            ),
            Finding(
                kind="acoustic_event",
                start_s=3.0,
                end_s=3.2,
                score=0.6,
                label="explosion",
                method="fake-events",
                advisory=True,
            ),
            Finding(
                kind="archive_match",
                start_s=1.0,
                end_s=3.0,
                score=0.9,
                label="re-uses archived item",
                details={"item_id": "00112233aabbccdd", "ref_start_s": 10.0, "ref_end_s": 12.0},
                method="fake-fp",
            ),
        ]
        return StageResult(
            findings=tuple(f), params={"threshold": 0.5}, limitations=("Test limitation.",)
        )


class FakeSpeech:
    name: ClassVar[str] = "speech"
    version: ClassVar[str] = "0.0-test"
    description: ClassVar[str] = "Test stand-in for transcription."
    requires: ClassVar[tuple[str, ...]] = ()

    def params(self) -> Mapping[str, Any]:
        return {}

    def enabled(self, ctx: AnalysisContext) -> str | None:
        return "no speech model installed" if ctx.options.no_asr else None

    def run(self, ctx: AnalysisContext) -> StageResult:
        return StageResult(
            findings=(
                Finding(
                    kind="transcript",
                    start_s=0.2,
                    end_s=2.0,
                    score=0.9,
                    label="<i>hello</i>",
                    details={"text": "hello", "lang": "ar"},
                ),
            ),
            summary={"language": "ar", "language_probability": 0.93},
        )


class BrokenStage:
    name: ClassVar[str] = "edit_points"
    version: ClassVar[str] = "0.0-test"
    description: ClassVar[str] = "A stage that always raises."
    requires: ClassVar[tuple[str, ...]] = ()

    def params(self) -> Mapping[str, Any]:
        return {"k": 1}

    def enabled(self, ctx: AnalysisContext) -> str | None:
        return None

    def run(self, ctx: AnalysisContext) -> StageResult:
        raise RuntimeError("boom <script>")


class DependentStage:
    name: ClassVar[str] = "voice_background"
    version: ClassVar[str] = "0.0-test"
    description: ClassVar[str] = "Needs the broken stage."
    requires: ClassVar[tuple[str, ...]] = ("edit_points",)

    def params(self) -> Mapping[str, Any]:
        return {}

    def enabled(self, ctx: AnalysisContext) -> str | None:
        return None

    def run(self, ctx: AnalysisContext) -> StageResult:
        return StageResult()


def fake_registry(*, broken: bool = True) -> StageRegistry:
    reg = StageRegistry()
    if broken:
        reg.register(BrokenStage())
        reg.register(DependentStage())
    reg.register(FakeSignals())
    reg.register(FakeSpeech())
    return reg
