"""The four forensic stages: duplicated segments, edit points, compression, voice/background.

Each stage loads its detector's calibrated parameters and measured error rates from
``earwitness/calibration/<detector>.json`` (written by ``benchmarks/validate_forensics.py``) and
attaches the rates to every finding it produces.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from earwitness.findings import Finding
from earwitness.forensics.calib import calibrated_params, params_dict
from earwitness.forensics.compression import CompressionParams, assess
from earwitness.forensics.duplicates import DuplicateParams, find_duplicates, group_occurrences
from earwitness.forensics.edits import EditParams, find_edit_points
from earwitness.forensics.voice_background import (
    VoiceBackgroundParams,
    check_events,
    find_loud_events,
)
from earwitness.pipeline.stage import StageResult

if TYPE_CHECKING:
    from earwitness.pipeline.context import AnalysisContext

NO_PROOF = ("Finding nothing is not proof that the recording is unedited.",)


def _fmt_t(t: float) -> str:
    m, s = divmod(t, 60.0)
    return f"{int(m)}:{s:05.2f}"


P = TypeVar("P")


class _CalibratedStage(Generic[P]):
    """Shared part of the forensic stages: parameters default to the calibrated values stored
    for the stage's detector (``name``), whose measured error rates go on every finding."""

    name: ClassVar[str]
    params_type: ClassVar[type[Any]]

    def __init__(self, params: P | None = None) -> None:
        loaded, self.rates = calibrated_params(self.params_type, self.name)
        self.p: P = params or loaded

    def params(self) -> Mapping[str, Any]:
        return params_dict(self.p)

    def enabled(self, ctx: AnalysisContext) -> str | None:
        return None


class DuplicatedSegmentsStage(_CalibratedStage[DuplicateParams]):
    """Copy-move detection: self-matching candidates verified by fine-structure coherence."""

    name: ClassVar[str] = "duplicated_segments"
    params_type: ClassVar[type[Any]] = DuplicateParams
    version: ClassVar[str] = "1.0"
    description: ClassVar[str] = (
        "Finds spans of 0.3 s or more that occur twice or more in the recording (pasted or "
        "looped material), verified by spectral coherence of the aligned copies."
    )
    requires: ClassVar[tuple[str, ...]] = ()
    method: ClassVar[str] = (
        "landmark self-matching (Wang 2003; earwitness.fingerprint.self_match) + aligned "
        "STFT magnitude-squared coherence verification (Carter 1987)"
    )

    def __init__(
        self, params: DuplicateParams | None = None, *, use_self_match: bool = True
    ) -> None:
        super().__init__(params)
        self.use_self_match = use_self_match

    def params(self) -> Mapping[str, Any]:
        return {**params_dict(self.p), "use_self_match": self.use_self_match}

    def run(self, ctx: AnalysisContext) -> StageResult:
        a = ctx.audio(sr=self.p.sr)
        extra: list[tuple[float, float, float]] = []
        limitations: list[str] = []
        if self.use_self_match:
            try:
                from earwitness.fingerprint.selfmatch import self_match

                for m in self_match(y=a.samples, sr=a.sr, min_duration_s=self.p.min_duration_s):
                    if abs(m.speed - 1.0) < 1e-3:
                        extra.append((m.src_start_s, m.src_end_s, m.copy_start_s - m.src_start_s))
            except ImportError:  # pragma: no cover - the fingerprint package is part of core
                limitations.append("archive self-matching unavailable; own landmarks only")
        matches = find_duplicates(y=a.samples, sr=a.sr, params=self.p, candidates=extra)
        findings = []
        for o in group_occurrences(matches):
            findings.append(
                Finding(
                    kind="duplicated_segment",
                    start_s=o.start_s,
                    end_s=o.end_s,
                    score=o.coherence,
                    label=(
                        f"copy of {_fmt_t(o.source_start_s)}-{_fmt_t(o.source_end_s)} "
                        f"(coherence {o.coherence:.2f})"
                    ),
                    details={
                        "source_start_s": round(o.source_start_s, 4),
                        "source_end_s": round(o.source_end_s, 4),
                        "lag_s": round(o.start_s - o.source_start_s, 4),
                        "coherence": round(o.coherence, 4),
                        "gain_db": round(o.gain_db, 2),
                        "group": o.group,
                        "occurrences_in_group": o.n_occurrences,
                        "threshold": self.p.coherence_threshold,
                    },
                    method=self.method,
                    error_rates=self.rates,
                )
            )
        return StageResult(
            findings=tuple(findings),
            params=self.params(),
            summary={
                "copies": len(findings),
                "self_match_candidates": len(extra),
                "verified_pairs": len(matches),
            },
            limitations=(
                *tuple(limitations),
                "Copies shorter than about 0.25 s of dominant sound, or time-stretched or "
                "pitch-shifted copies, are not searched.",
                *NO_PROOF,
            ),
        )


class EditPointsStage(_CalibratedStage[EditParams]):
    """Edit points from noise floor, DC, digital silence and ENF discontinuities."""

    name: ClassVar[str] = "edit_points"
    params_type: ClassVar[type[Any]] = EditParams
    version: ClassVar[str] = "1.0"
    description: ClassVar[str] = (
        "Finds instants where the recording was cut, joined or inserted into, from jumps in the "
        "background noise floor and spectrum, DC offset, inserted digital silence and the phase "
        "of mains hum (ENF)."
    )
    requires: ClassVar[tuple[str, ...]] = ()
    method: ClassVar[str] = (
        "two-sided change statistics: minimum-statistics noise floor (Martin 2001), DC step, "
        "digital-silence runs, ENF phase discontinuity (Grigoras 2005/2007; Rodríguez, "
        "Apolinário & Biscainho 2010)"
    )

    def run(self, ctx: AnalysisContext) -> StageResult:
        a = ctx.audio(sr=self.p.sr)
        n = ctx.audio()
        points, summary = find_edit_points(
            y=a.samples, sr=a.sr, y_native=n.samples, native_sr=n.sr, params=self.p
        )
        findings = []
        for pt in points:
            moved = [k for k, v in pt.evidence.items() if v.get("moved")]
            findings.append(
                Finding(
                    kind="edit_point",
                    start_s=pt.t_s,
                    end_s=pt.t_s,
                    score=pt.score,
                    label=f"possible edit at {_fmt_t(pt.t_s)}: "
                    + ", ".join(m.replace("_", " ") for m in moved or pt.triggered_by),
                    details={
                        "evidence": pt.evidence,
                        "triggered_by": list(pt.triggered_by),
                        "localisation_s": self.p.hop_s,
                    },
                    method=self.method,
                    error_rates=self.rates,
                )
            )
        lim = list(NO_PROOF)
        if "hum" not in summary:
            lim.append("No mains hum found: ENF analysis was not possible.")
        lim.append(
            "Cuts inside one continuous background without hum, DC or silence traces "
            "leave no signal these methods can see. Room reverberation (reverb_decay) is "
            "evidence at instants found by the other signals only: a change of room alone "
            "is not searched for."
        )
        return StageResult(
            findings=tuple(findings), params=self.params(), summary=summary, limitations=tuple(lim)
        )


class CompressionStage(_CalibratedStage[CompressionParams]):
    """Prior lossy encoding, codec class, bit-rate range and double MP3."""

    name: ClassVar[str] = "compression"
    params_type: ClassVar[type[Any]] = CompressionParams
    version: ClassVar[str] = "1.1"
    description: ClassVar[str] = (
        "Estimates whether the audio was lossy-encoded before its current container, from the "
        "spectral cutoff versus the container's Nyquist frequency, quantisation holes and "
        "MDCT coefficients zeroed on an AAC/Vorbis frame grid."
    )
    requires: ClassVar[tuple[str, ...]] = ()
    method: ClassVar[str] = (
        "long-term spectrum cutoff and quantisation-hole statistics (D'Alessandro & Shi 2009; "
        "Yang, Shi & Huang 2009); MDCT frame-grid search for zeroed coefficients (Yang, Shi & "
        "Huang 2009; Moehrs, Herre & Geiger 2002)"
    )

    def run(self, ctx: AnalysisContext) -> StageResult:
        a = ctx.audio()
        st = ctx.probe.audio
        rep = assess(
            y=a.samples,
            sr=a.sr,
            codec=st.codec,
            channels=int(st.channels or 1),
            bit_rate=st.bit_rate,
            params=self.p,
        )
        if rep.prior_lossy:
            label = f"earlier lossy encoding likely ({rep.codec_class})"
        else:
            label = "no trace of earlier lossy encoding found"
        if rep.current_lossy:
            label = f"currently {rep.current_codec}; " + label
        if rep.double_mp3:
            label += "; MP3 encoded twice"
        f = Finding(
            kind="compression",
            start_s=0.0,
            end_s=a.duration_s,
            score=rep.score,
            label=label,
            details=rep.details(),
            method=self.method,
            error_rates=self.rates,
        )
        return StageResult(
            findings=(f,),
            params=self.params(),
            summary=rep.details(),
            limitations=(
                "A recording band-limited by its source (e.g. a "
                "telephone line, or an 8 kHz original) looks like a "
                "narrow-band codec.",
                "The frame-grid trace needs the decoded samples unchanged apart from gain "
                "and 16-bit rounding: resampling, mixing, filtering or clipping after the "
                "decode erase it, so full-band AAC that was processed is missed.",
            ),
        )


class VoiceBackgroundStage(_CalibratedStage[VoiceBackgroundParams]):
    """Advisory: signs that loud events were mixed in after the voice was recorded."""

    name: ClassVar[str] = "voice_background"
    params_type: ClassVar[type[Any]] = VoiceBackgroundParams
    version: ClassVar[str] = "1.0"
    description: ClassVar[str] = (
        "Advisory: for loud events overlapping speech, compares bandwidth, automatic-gain "
        "pumping and noise floor of the voice and the event."
    )
    requires: ClassVar[tuple[str, ...]] = ()
    method: ClassVar[str] = "bandwidth, AGC-pumping and noise-floor consistency (Maher 2009)"

    def run(self, ctx: AnalysisContext) -> StageResult:
        a = ctx.audio(sr=self.p.sr)
        n = ctx.audio()
        ev_res = ctx.results.get("acoustic_events")
        source = "own loud-event detector"
        events: list[tuple[float, float]] = []
        if ev_res is not None:
            events = [
                (f.start_s, max(f.end_s, f.start_s + 0.05))
                for f in ev_res.findings
                if f.kind == "acoustic_event"
            ]
            source = "acoustic_events stage"
        if not events:
            events = find_loud_events(y=a.samples, sr=a.sr, params=self.p)
            if ev_res is not None:
                source = "own loud-event detector (acoustic_events found none)"
        checks = check_events(
            y=a.samples, sr=a.sr, events=events, y_native=n.samples, native_sr=n.sr, params=self.p
        )
        findings = []
        for c in checks:
            n_checks = max(1, len(c.checks))
            label = (
                f"{len(c.signs)} sign(s) of later mixing (advisory)"
                if c.signs
                else "event consistent with the voice's recording chain (advisory)"
            )
            findings.append(
                Finding(
                    kind="voice_background",
                    start_s=c.start_s,
                    end_s=c.end_s,
                    score=float(len(c.signs)) / n_checks,
                    label=label,
                    details={"signs": list(c.signs), "checks": c.checks, "event_source": source},
                    method=self.method,
                    error_rates=self.rates,
                    advisory=True,
                )
            )
        return StageResult(
            findings=tuple(findings),
            params=self.params(),
            summary={
                "events_considered": len(events),
                "events_near_speech": len(checks),
                "event_source": source,
                "advisory": True,
            },
            limitations=(
                "Advisory only: phones without AGC, compressed uploads and "
                "post-processing can produce or hide every sign.",
            ),
        )
