"""report.html: self-contained, escaped, sectioned, with the findings table and player."""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from html.parser import HTMLParser
from typing import Any

import numpy as np
import pytest

from earwitness.analysis import AnalysisOutcome, make_context
from earwitness.custody.store import EvidenceStore
from earwitness.pipeline import AnalyzeOptions
from earwitness.report.audio_pass import FigureOptions, Window
from earwitness.report.figures import FigureRegistry, default_figure_registry
from earwitness.report.html import fmt_span, render_html
from tests.report.fakes import EVIL_TITLE

# an attribute or CSS reference that would make the browser fetch something
EXTERNAL = re.compile(
    r"""(?:\b(?:src|href|action|poster|data|srcset|xlink:href)\s*=\s*["']?\s*(?:https?:)?//)"""
    r"""|(?:url\(\s*["']?\s*(?:https?:)?//)|(?:@import)""",
    re.IGNORECASE,
)


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.in_findings = False
        self.rows: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.append((tag, a))
        if tag == "table" and a.get("id") == "findings":
            self.in_findings = True
        elif tag == "tr" and self.in_findings and a.get("id"):
            self.rows.append(str(a["id"]))
        elif tag == "script":
            self.scripts += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self.in_findings = False


def parse(html: str) -> _Collector:
    c = _Collector()
    c.feed(html)
    return c


def test_findings_table_has_a_row_per_finding(analyzed: AnalysisOutcome, report_html: str) -> None:
    c = parse(report_html)
    assert c.rows == [f["id"] for f in analyzed.report["findings"]]
    buttons = [a for t, a in c.tags if t == "button" and "play" in (a.get("class") or "")]
    assert len(buttons) == len(analyzed.report["findings"])
    f = analyzed.report["findings"][0]
    assert float(buttons[0]["data-start"] or "nan") == pytest.approx(f["start_s"], abs=1e-4)


def test_attacker_text_is_escaped(report_html: str) -> None:
    assert parse(report_html).scripts == 1  # only the report's own script
    assert "<script>alert" not in report_html
    assert "&lt;script&gt;alert(&#x27;owned&#x27;)&lt;/script&gt;" in report_html
    assert "<b>pasted</b>" not in report_html and "&lt;b&gt;pasted&lt;/b&gt;" in report_html
    assert "boom &lt;script&gt;" in report_html  # a stage's error text
    assert "</td><script>x" not in report_html  # finding details
    assert EVIL_TITLE not in report_html


def test_no_external_resources(report_html: str) -> None:
    assert not EXTERNAL.findall(report_html)
    assert "https://t.me/example/123" in report_html  # the source, shown as plain text
    srcs = [a["src"] for t, a in parse(report_html).tags if "src" in a]
    assert srcs and all((s or "").startswith("data:") for s in srcs)
    assert "default-src 'none'" in report_html  # the CSP forbids fetching anything


def test_sections_in_reporting_order(report_html: str) -> None:
    ids = ["item", "questions", "methods", "results", "interpretation"]
    positions = [report_html.index(f'<section id="{i}">') for i in ids]
    assert positions == sorted(positions)
    assert "was not modified" in report_html
    assert "is not proof of authenticity" in report_html


def test_failed_and_skipped_stages_are_listed(report_html: str) -> None:
    box = report_html[report_html.index("Stages that did not produce results") :]
    assert "edit_points</strong> failed: RuntimeError: boom" in box
    assert "voice_background</strong> skipped: needs stage(s) edit_points" in box


def test_error_rates_beside_findings(analyzed: AnalysisOutcome, report_html: str) -> None:
    assert "on the validation set this detector finds 90% of pasted segments" in report_html
    unmeasured = sum(1 for f in analyzed.report["findings"] if f["error_rates"] is None)
    assert report_html.count("error rate not measured") == unmeasured


def test_player_is_an_inline_listening_copy(report_html: str) -> None:
    m = re.search(
        r'<audio id="player"[^>]*src="data:audio/mpeg;base64,([A-Za-z0-9+/=]+)"', report_html
    )
    assert m is not None
    assert len(base64.b64decode(m.group(1))) > 1000
    assert "not the evidence" in report_html


def test_pictures_are_inline_pngs(report_html: str) -> None:
    pngs = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', report_html)
    # overview + duplicated_segment + edit_point + archive_match
    assert len(pngs) == 4
    assert all(base64.b64decode(p).startswith(b"\x89PNG") for p in pngs)


def test_without_audio_the_page_still_renders(analyzed: AnalysisOutcome) -> None:
    html = render_html(analyzed.report, None)
    assert '<table id="findings">' in html
    assert "Pictures could not be drawn" in html
    assert "data:audio" not in html


class _Recorder:
    kind = "acoustic_event"

    def __init__(self) -> None:
        self.seen: list[str] = []
        # (finding id, clip samples, expected samples); checked by the test, because
        # render_html catches a renderer's exceptions (an assert here could never fail)
        self.clips: list[tuple[str, int, float]] = []

    def windows(self, finding: Mapping[str, Any], *, opts: FigureOptions) -> list[Window]:
        return [(float(finding["start_s"]), float(finding["end_s"]))]

    def render(
        self,
        finding: Mapping[str, Any],
        *,
        clips: Mapping[Window, np.ndarray],
        sr: int,
        opts: FigureOptions,
        duration_s: float,
    ) -> bytes | None:
        self.seen.append(str(finding["id"]))
        for w, c in clips.items():
            if w[0] == finding["start_s"]:
                want = (finding["end_s"] - finding["start_s"]) * sr
                self.clips.append((str(finding["id"]), c.shape[0], want))
        return None


def test_figure_registry_runs_a_plugin_renderer(analyzed: AnalysisOutcome) -> None:
    reg = FigureRegistry()
    rec = _Recorder()
    reg.register(rec)
    with EvidenceStore.open(analyzed.report["custody"]["store"]) as store:
        ctx = make_context(store, store.get(analyzed.item_id), AnalyzeOptions())
        render_html(analyzed.report, ctx, figures=reg)
    events = [f["id"] for f in analyzed.report["findings"] if f["kind"] == "acoustic_event"]
    assert len(events) == 2
    assert rec.seen == events
    # each renderer call got exactly one clip, the finding's own window, at the figure rate
    assert [c[0] for c in rec.clips] == events
    for _, got, want in rec.clips:
        assert got == pytest.approx(want, abs=2)


class _Broken(_Recorder):
    def render(
        self,
        finding: Mapping[str, Any],
        *,
        clips: Mapping[Window, np.ndarray],
        sr: int,
        opts: FigureOptions,
        duration_s: float,
    ) -> bytes | None:
        raise RuntimeError(f"no axes for {finding['id']}")


def test_a_failing_figure_is_named_on_the_page(analyzed: AnalysisOutcome) -> None:
    """A renderer that raises does not just leave a picture out: the page says which and why."""
    reg = FigureRegistry()
    reg.register(_Broken())
    with EvidenceStore.open(analyzed.report["custody"]["store"]) as store:
        ctx = make_context(store, store.get(analyzed.item_id), AnalyzeOptions())
        html = render_html(analyzed.report, ctx, figures=reg)
    events = [f["id"] for f in analyzed.report["findings"] if f["kind"] == "acoustic_event"]
    assert len(events) == 2
    box = re.search(r'<div class="box warn">Pictures could not be drawn: (.*?)</div>', html)
    assert box is not None
    for fid in events:
        assert f"{fid}: RuntimeError: no axes for {fid}" in box.group(1)
    assert "data:audio" in html  # the rest of the pictures and the player are still there


def test_figure_registry_rejects_duplicates_and_non_renderers() -> None:
    reg = default_figure_registry()
    assert reg.kinds() == ["archive_match", "duplicated_segment", "edit_point"]
    with pytest.raises(ValueError, match="already registered"):
        reg.register(_Recorder.__new__(type("X", (_Recorder,), {"kind": "edit_point"})))
    with pytest.raises(TypeError):
        reg.register(object())  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("start", "end", "text"),
    [(1.0, 1.0, "1.00"), (1.0, 2.5, "1.00–2.50"), (75.25, 75.25, "1:15.25")],
)
def test_time_format(start: float, end: float, text: str) -> None:
    assert fmt_span(start, end) == text
