"""Pictures for the HTML report (PNG bytes, drawn with matplotlib's Agg canvas, no pyplot).

* :func:`overview_png`: waveform, spectrogram and an event lane on one time axis, with the
  findings marked as coloured spans (lines for instants).
* Per-finding pictures come from a :class:`FigureRegistry` of :class:`FigureRenderer` objects
  keyed by finding kind. A renderer first names the audio windows it needs (collected in the
  single streaming pass, :mod:`earwitness.report.audio_pass`), then draws from those clips.
  Built-ins: ``duplicated_segment`` (both copies side by side), ``edit_point`` (the signals
  around the instant), ``archive_match`` (the matched span, with the reference named).
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from earwitness.report.audio_pass import AudioDigest, FigureOptions, Window

Finding = Mapping[str, Any]

KIND_COLOURS: Mapping[str, str] = {
    "archive_match": "#1f77b4",
    "duplicated_segment": "#d62728",
    "edit_point": "#ff7f0e",
    "compression": "#8c564b",
    "metadata_anomaly": "#7f7f7f",
    "voice_background": "#9467bd",
    "acoustic_event": "#2ca02c",
    "speech_activity": "#17becf",
    "transcript": "#bcbd22",
    "watchlist_hit": "#e377c2",
    "speaker_turn": "#aec7e8",
    "speaker_match": "#c5b0d5",
    "speaker_recurrence": "#98df8a",
}
_FALLBACK = ("#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd")
#: kinds too dense to shade over the waveform (they still get event-lane rows)
UNMARKED_KINDS = frozenset({"transcript", "speech_activity", "speaker_turn"})
MAX_LANE_ROWS = 14
FINDING_DPI = 85


def kind_colour(kind: str) -> str:
    return KIND_COLOURS.get(kind) or _FALLBACK[sum(map(ord, kind)) % len(_FALLBACK)]


def to_png(fig: Figure) -> bytes:
    """The figure as a 256-colour palette PNG (colormaps have 256 entries, so this is
    visually lossless and several times smaller than RGBA), without metadata."""
    from PIL import Image

    raw = io.BytesIO()
    fig.savefig(raw, format="png", metadata={"Software": None})
    raw.seek(0)
    with Image.open(raw) as im:
        rgb = im.convert("RGB")
    buf = io.BytesIO()
    rgb.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def _spec_db(*, y: np.ndarray, sr: int, n_fft: int = 512) -> tuple[np.ndarray, np.ndarray]:
    """Short-time power spectrum in dB (Hann window, hop n_fft/4) and frame times."""
    hop = n_fft // 4
    if y.shape[0] < n_fft:
        y = np.pad(y, (0, n_fft - y.shape[0]))
    frames = np.lib.stride_tricks.sliding_window_view(y, n_fft)[::hop]
    p = np.abs(np.fft.rfft(frames * np.hanning(n_fft), axis=1)) ** 2
    times = (np.arange(frames.shape[0]) * hop + n_fft / 2) / sr
    return (10 * np.log10(p.T + 1e-10)).astype(np.float32), times


def _show_spec(ax: Axes, *, y: np.ndarray, sr: int, t0: float, vmin: float | None = None) -> None:
    db, times = _spec_db(y=y, sr=sr)
    top = float(np.max(db)) if db.size else 0.0
    ax.imshow(
        db,
        origin="lower",
        aspect="auto",
        cmap="magma",
        extent=(t0, t0 + y.shape[0] / sr, 0, sr / 2000),
        vmin=vmin if vmin is not None else top - 80,
        vmax=top,
        interpolation="nearest",
    )
    ax.set_ylabel("kHz")
    del times


def is_whole_file(f: Finding, duration_s: float) -> bool:
    """A finding about the whole recording (metadata, compression...): not drawn in time."""
    return float(f["start_s"]) <= 0.01 and float(f["end_s"]) >= duration_s - 0.05


def _is_marked(f: Finding, duration_s: float) -> bool:
    span = float(f["end_s"]) - float(f["start_s"])
    return str(f["kind"]) not in UNMARKED_KINDS and span < 0.9 * max(duration_s, 1e-9)


def lane_rows(findings: Sequence[Finding]) -> list[str]:
    """Event-lane rows: one per ``acoustic_event`` label, then one per other kind."""
    events = sorted({f"event: {f['label']}" for f in findings if f["kind"] == "acoustic_event"})
    kinds = sorted({str(f["kind"]) for f in findings if f["kind"] != "acoustic_event"})
    rows = events + kinds
    if len(rows) > MAX_LANE_ROWS:
        rows = [*rows[: MAX_LANE_ROWS - 1], "other"]
    return rows


def _row_of(f: Finding, rows: Sequence[str]) -> str:
    key = f"event: {f['label']}" if f["kind"] == "acoustic_event" else str(f["kind"])
    return key if key in rows else "other"


def overview_png(*, digest: AudioDigest, findings: Sequence[Finding], opts: FigureOptions) -> bytes:
    """Waveform, spectrogram and event lane of the whole recording, findings marked."""
    dur = max(digest.duration_s, 1e-6)
    timed = [f for f in findings if not is_whole_file(f, dur)]
    rows = lane_rows(timed)
    lane_h = 0.45 + 0.28 * max(1, len(rows))
    fig = Figure(figsize=(opts.width_px / 100, 2.0 + 3.0 + lane_h), dpi=100)
    gs = fig.add_gridspec(3, 1, height_ratios=[2.0, 3.0, lane_h], hspace=0.08)
    ax_w = fig.add_subplot(gs[0])
    ax_s = fig.add_subplot(gs[1], sharex=ax_w)
    ax_l = fig.add_subplot(gs[2], sharex=ax_w)
    x = np.linspace(0, dur, digest.env_min.shape[0])
    ax_w.fill_between(x, digest.env_min, digest.env_max, color="#333333", linewidth=0.4)
    lim = max(1e-3, float(np.max(np.abs(np.r_[digest.env_min, digest.env_max]))))
    ax_w.set_ylim(-lim * 1.05, lim * 1.05)
    ax_w.set_ylabel("amplitude")
    ax_w.set_xlim(0, dur)
    db = digest.spec_db
    top = float(np.max(db)) if db.size else 0.0
    ax_s.imshow(
        db,
        origin="lower",
        aspect="auto",
        cmap="magma",
        extent=(0, dur, 0, digest.sr / 2000),
        vmin=top - 80,
        vmax=top,
        interpolation="nearest",
    )
    ax_s.set_ylabel("kHz")
    marked = [f for f in findings if _is_marked(f, dur)]
    for f in marked:
        c = kind_colour(str(f["kind"]))
        t0, t1 = float(f["start_s"]), float(f["end_s"])
        for ax in (ax_w, ax_s):
            if t1 - t0 < dur / 400:
                ax.axvline(t0, color=c, linewidth=1.4, alpha=0.9)
            else:
                ax.axvspan(t0, t1, color=c, alpha=0.22 if ax is ax_w else 0.0, ec=c, linewidth=1.2)
        if len(marked) <= 40:
            ax_w.text(
                t0,
                lim * 1.0,
                str(f.get("id", "")),
                color=c,
                fontsize=7,
                va="top",
                ha="left",
                clip_on=True,
            )
    min_w = dur / 300
    for f in timed:
        r = rows.index(_row_of(f, rows))
        t0, t1 = float(f["start_s"]), float(f["end_s"])
        ax_l.broken_barh(
            [(t0, max(t1 - t0, min_w))],
            (r - 0.38, 0.76),
            color=kind_colour(str(f["kind"])),
            alpha=0.85,
        )
    ax_l.set_ylim(max(len(rows), 1) - 0.5, -0.5)
    ax_l.set_yticks(range(len(rows)), labels=[r[:28] for r in rows], fontsize=8)
    ax_l.set_xlabel("time (s)")
    ax_l.grid(axis="x", alpha=0.3)
    if not rows:
        ax_l.text(dur / 2, 0, "no timed findings", ha="center", va="center", fontsize=8)
        ax_l.set_yticks([])
    for ax in (ax_w, ax_s):
        ax.tick_params(labelbottom=False)
    fig.subplots_adjust(left=0.11, right=0.99, top=0.98, bottom=0.3 / (5.0 + lane_h) + 0.04)
    return to_png(fig)


@runtime_checkable
class FigureRenderer(Protocol):
    """Draws the picture of one finding kind. ``windows`` names the audio spans it needs;
    ``render`` returns PNG bytes (or None when it has nothing to draw) from ``clips``."""

    kind: str

    def windows(self, finding: Finding, *, opts: FigureOptions) -> list[Window]: ...

    def render(
        self,
        finding: Finding,
        *,
        clips: Mapping[Window, np.ndarray],
        sr: int,
        opts: FigureOptions,
        duration_s: float,
    ) -> bytes | None: ...


class FigureRegistry:
    """Per-kind figure renderers; one per kind, replaceable like stages."""

    def __init__(self) -> None:
        self._by_kind: dict[str, FigureRenderer] = {}

    def register(self, renderer: FigureRenderer, *, replace: bool = False) -> None:
        if not isinstance(renderer, FigureRenderer):
            raise TypeError(f"{renderer!r} does not implement FigureRenderer")
        if renderer.kind in self._by_kind and not replace:
            raise ValueError(f"a figure renderer for {renderer.kind!r} is already registered")
        self._by_kind[renderer.kind] = renderer

    def for_kind(self, kind: str) -> FigureRenderer | None:
        return self._by_kind.get(kind)

    def kinds(self) -> list[str]:
        return sorted(self._by_kind)


def _clamp(w: Window, duration_s: float, opts: FigureOptions) -> Window:
    a = max(0.0, min(w[0], duration_s))
    return a, max(a, min(w[1], duration_s, a + opts.max_clip_s))


def figure_windows(
    findings: Sequence[Finding],
    *,
    duration_s: float,
    opts: FigureOptions,
    registry: FigureRegistry,
) -> list[Window]:
    """All audio windows the registered renderers need, for the first findings that have
    a renderer (at most ``opts.max_finding_figures``)."""
    out: list[Window] = []
    for f in [f for f in findings if registry.for_kind(str(f["kind"]))][: opts.max_finding_figures]:
        r = registry.for_kind(str(f["kind"]))
        assert r is not None
        for w in r.windows(f, opts=opts):
            cw = _clamp(w, duration_s, opts)
            if cw[1] - cw[0] > 1e-3 and cw not in out:
                out.append(cw)
    return out


def _clip(
    clips: Mapping[Window, np.ndarray], w: Window, duration_s: float, opts: FigureOptions
) -> tuple[Window, np.ndarray] | None:
    cw = _clamp(w, duration_s, opts)
    y = clips.get(cw)
    return (cw, y) if y is not None and y.size else None


def _span_window(f: Finding, pad: float) -> Window:
    return float(f["start_s"]) - pad, float(f["end_s"]) + pad


class DuplicatedSegmentFigure:
    """The two copies' spectrograms side by side (source span from ``details``)."""

    kind = "duplicated_segment"

    def _source(self, f: Finding) -> Window | None:
        d = f.get("details") or {}
        try:
            return float(d["source_start_s"]), float(d["source_end_s"])
        except (KeyError, TypeError, ValueError):
            return None

    def windows(self, finding: Finding, *, opts: FigureOptions) -> list[Window]:
        src = self._source(finding)
        out = [_span_window(finding, 0.0)]
        return [*out, src] if src else out

    def render(
        self,
        finding: Finding,
        *,
        clips: Mapping[Window, np.ndarray],
        sr: int,
        opts: FigureOptions,
        duration_s: float,
    ) -> bytes | None:
        src = self._source(finding)
        parts = [("copy", _span_window(finding, 0.0))]
        if src:
            parts.insert(0, ("source", src))
        got = [(name, _clip(clips, w, duration_s, opts)) for name, w in parts]
        drawn = [(name, c) for name, c in got if c is not None]
        if not drawn:
            return None
        fig = Figure(figsize=(9, 2.6), dpi=FINDING_DPI)
        axes = fig.subplots(1, len(drawn), sharey=True, squeeze=False)[0]
        for ax, (name, (w, y)) in zip(axes, drawn, strict=True):
            _show_spec(ax, y=y, sr=sr, t0=w[0])
            ax.set_title(f"{name}: {w[0]:.2f}–{w[1]:.2f} s", fontsize=9)
            if ax is not axes[0]:
                ax.set_ylabel("")
            ax.set_xlabel("time (s)")
        fig.subplots_adjust(left=0.08, right=0.98, bottom=0.17, top=0.88, wspace=0.12)
        return to_png(fig)


class EditPointFigure:
    """The signals around the instant: ``details['evidence']`` (signal name →
    ``{before, after, ...}``) as before/after bars, beside the spectrogram ±``context_s``."""

    kind = "edit_point"

    def windows(self, finding: Finding, *, opts: FigureOptions) -> list[Window]:
        t = float(finding["start_s"])
        return [(t - opts.context_s, float(finding["end_s"]) + opts.context_s)]

    def _evidence(self, f: Finding) -> list[tuple[str, float, float, bool]]:
        """(title, before, after, moved) per signal with numeric before/after; the signals
        that moved (triggered the finding) first, at most six."""
        ev = (f.get("details") or {}).get("evidence")
        out: list[tuple[str, float, float, bool]] = []
        if isinstance(ev, Mapping):
            for name, v in ev.items():
                if not isinstance(v, Mapping):
                    continue
                try:
                    before, after = float(v["before"]), float(v["after"])
                except (KeyError, TypeError, ValueError):
                    continue
                unit = f" ({v['unit']})" if v.get("unit") else ""
                moved = bool(v.get("moved"))
                out.append((f"{name}{unit}{' — moved' if moved else ''}", before, after, moved))
        out.sort(key=lambda x: not x[3])
        return out[:6]

    def render(
        self,
        finding: Finding,
        *,
        clips: Mapping[Window, np.ndarray],
        sr: int,
        opts: FigureOptions,
        duration_s: float,
    ) -> bytes | None:
        got = _clip(clips, self.windows(finding, opts=opts)[0], duration_s, opts)
        evidence = self._evidence(finding)
        if got is None and not evidence:
            return None
        n_ev = len(evidence)
        fig = Figure(figsize=(9 if n_ev else 7, 3.2), dpi=FINDING_DPI)
        t = float(finding["start_s"])
        if got is not None:
            (w, y) = got
            ax_wave, ax_spec = fig.subplots(
                2,
                1,
                sharex=True,
                gridspec_kw={
                    "left": 0.08,
                    "right": 0.62 if n_ev else 0.98,
                    "hspace": 0.1,
                    "height_ratios": [1, 2],
                },
            )
            ax_wave.plot(w[0] + np.arange(y.shape[0]) / sr, y, color="#333333", linewidth=0.5)
            ax_wave.set_yticks([])
            _show_spec(ax_spec, y=y, sr=sr, t0=w[0])
            for ax in (ax_wave, ax_spec):
                ax.axvline(t, color=kind_colour(self.kind), linewidth=1.5)
            ax_spec.set_xlabel("time (s)")
            ax_wave.set_title(f"±{opts.context_s:g} s around {t:.3f} s", fontsize=9)
        if n_ev:
            left = 0.7 if got is not None else 0.3
            axes = fig.subplots(
                n_ev, 1, squeeze=False, gridspec_kw={"left": left, "right": 0.98, "hspace": 0.9}
            )[:, 0]
            for ax, (name, before, after, moved) in zip(axes, evidence, strict=True):
                after_colour = kind_colour(self.kind) if moved else "#bbbbbb"
                ax.barh([1, 0], [before, after], color=["#999999", after_colour])
                ax.set_yticks([1, 0], labels=["before", "after"], fontsize=7)
                ax.set_title(name[:40], fontsize=8)
                ax.tick_params(axis="x", labelsize=7)
        fig.subplots_adjust(bottom=0.16, top=0.9)
        return to_png(fig)


class ArchiveMatchFigure:
    """The query span's spectrogram, titled with the reference item and its span."""

    kind = "archive_match"

    def windows(self, finding: Finding, *, opts: FigureOptions) -> list[Window]:
        return [_span_window(finding, 0.0)]

    def render(
        self,
        finding: Finding,
        *,
        clips: Mapping[Window, np.ndarray],
        sr: int,
        opts: FigureOptions,
        duration_s: float,
    ) -> bytes | None:
        got = _clip(clips, _span_window(finding, 0.0), duration_s, opts)
        if got is None:
            return None
        (w, y) = got
        fig = Figure(figsize=(7, 2.6), dpi=FINDING_DPI)
        ax = fig.add_subplot(1, 1, 1)
        _show_spec(ax, y=y, sr=sr, t0=w[0])
        ax.set_xlabel("time in this recording (s)")
        ax.set_title(archive_reference_text(finding)[:110], fontsize=8)
        fig.subplots_adjust(left=0.08, right=0.98, bottom=0.17, top=0.88, wspace=0.12)
        return to_png(fig)


def archive_reference_text(f: Finding) -> str:
    """``matches <ref item> <start>–<end> s`` from whatever reference fields ``details`` has."""
    d = f.get("details") or {}
    keys = ("item_id", "ref_item_id", "ref_id", "ref_item", "reference_id", "matched_item_id")
    ref = next((f"item {d[k]}" for k in keys if d.get(k)), "a reference item")
    name = d.get("ref_name") or d.get("ref_original_name")
    s, e = d.get("ref_start_s"), d.get("ref_end_s")
    span = (
        f" {float(s):.2f}–{float(e):.2f} s"
        if isinstance(s, int | float) and isinstance(e, int | float)
        else ""
    )
    return f"matches {ref}{f' ({name})' if name else ''}{span}"


def default_figure_registry() -> FigureRegistry:
    """The built-in renderers, registered as a plugin would register its own."""
    reg = FigureRegistry()
    reg.register(DuplicatedSegmentFigure())
    reg.register(EditPointFigure())
    reg.register(ArchiveMatchFigure())
    return reg
