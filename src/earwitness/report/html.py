"""``report.html``: one self-contained file a journalist can read, offline.

Sections follow forensic reporting practice (SWGDE best practices for the reporting of
digital and multimedia evidence examinations; ENFSI Best Practice Manual for Forensic
Audio, 2022): 1) the item and its integrity, 2) the questions asked, 3) methods with versions
and parameters, 4) results, kept apart from 5) interpretation notes and limitations.

Everything is inline: CSS, a few lines of JavaScript (no framework), the pictures (PNG, base64)
and a compressed listening copy (MP3, base64 data URI) that plays each finding's span. No
external URL is referenced; a Content-Security-Policy forbids loading any. Every piece of
text taken from the file or the findings is HTML-escaped (container tags are attacker-
controlled).
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from html import escape
from importlib import resources
from string import Template
from typing import TYPE_CHECKING, Any

from earwitness.report.audio_pass import AudioDigest, FigureOptions, digest_audio
from earwitness.report.player import PlayerOptions

if TYPE_CHECKING:
    from earwitness.pipeline.context import AnalysisContext
    from earwitness.report.figures import FigureRegistry

log = logging.getLogger(__name__)

PLAYER_NOTE = (
    "The player plays a compressed listening copy (MP3, {kbps} kbit/s, {sr} Hz mono) made "
    "for this report. It is not the evidence: the evidence is the stored original "
    "identified by its SHA-256 above."
)


@dataclass(frozen=True)
class HtmlOptions:
    """Pictures and player settings of the HTML report (recorded in its methods section)."""

    figures: FigureOptions = field(default_factory=FigureOptions)
    player: PlayerOptions = field(default_factory=PlayerOptions)
    max_detail_chars: int = 400


def e(value: Any) -> str:
    """HTML-escape any value as text (quotes too, so it is safe in attributes)."""
    return escape("" if value is None else str(value), quote=True)


def _template(name: str) -> str:
    return (resources.files("earwitness.report") / "templates" / name).read_text("utf-8")


def _img(png: bytes, alt: str) -> str:
    return f'<img alt="{e(alt)}" src="data:image/png;base64,{base64.b64encode(png).decode()}">'


def fmt_time(t: float) -> str:
    """``75.25`` → ``1:15.25``; below a minute just ``12.50``."""
    m, s = divmod(max(0.0, float(t)), 60.0)
    return f"{int(m)}:{s:05.2f}" if m else f"{s:.2f}"


def fmt_span(start: float, end: float) -> str:
    return fmt_time(start) if end - start < 0.005 else f"{fmt_time(start)}–{fmt_time(end)}"


def fmt_score(score: Any) -> str:
    return "–" if not isinstance(score, int | float) else f"{score:.3g}"


def _size(n: int) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)


def _kv(rows: Sequence[tuple[str, str]]) -> str:
    body = "".join(f"<tr><th>{e(k)}</th><td>{v}</td></tr>" for k, v in rows)
    return f'<table class="kv">{body}</table>'


def _display(value: Any) -> Any:
    """Floats rounded to 6 significant digits for reading (report.json keeps them whole)."""
    if isinstance(value, float):
        return float(f"{value:.6g}")
    if isinstance(value, Mapping):
        return {k: _display(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_display(v) for v in value]
    return value


def _json_text(value: Any, limit: int) -> str:
    text = value if isinstance(value, str) else json.dumps(_display(value), ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _collapsible(text: str, *, summary: str, inline_max: int = 160) -> str:
    """Short text inline, long text in a closed ``<details>`` (both escaped)."""
    if len(text) <= inline_max:
        return f"<code>{e(text)}</code>"
    return f"<details><summary>{e(summary)}</summary><code>{e(text)}</code></details>"


def section_glance(report: Mapping[str, Any]) -> str:
    from earwitness.report.figures import kind_colour

    chips = []
    for kind, n in sorted(report.get("finding_counts", {}).items()):
        chips.append(
            f'<span class="chip"><span class="swatch" style="background:{kind_colour(kind)}">'
            f"</span>{e(kind)}: {int(n)}</span>"
        )
    bad = [s for s in report["stages"] if s["status"] == "failed"]
    if bad:
        chips.append(f'<span class="chip status-failed">{len(bad)} stage(s) failed</span>')
    if not chips:
        chips.append('<span class="chip">no findings</span>')
    return f'<div class="glance">{"".join(chips)}</div>'


def section_item(report: Mapping[str, Any]) -> str:
    item, cus = report["item"], report["custody"]
    pr = item["probe"]
    codec = ", ".join(
        x
        for x in (
            e(pr.get("codec")),
            f"{pr['sample_rate']} Hz" if pr.get("sample_rate") else "",
            f"{pr['channels']} channel(s)" if pr.get("channels") else "",
            f"{round(pr['bit_rate'] / 1000)} kbit/s" if pr.get("bit_rate") else "",
        )
        if x
    )
    verified = (
        '<span class="verified">✓ matches the hash recorded at ingest</span>'
        if cus["verified"]
        else '<span class="not-verified">✗ NOT verified</span>'
    )
    head = cus.get("audit_head")
    rows = [
        ("Original file name", e(item["original_name"])),
        ("Item id", f'<span class="mono">{e(item["id"])}</span>'),
        ("SHA-256 (recorded at ingest)", f'<span class="mono">{e(item["sha256"])}</span>'),
        (
            "SHA-256 at analysis",
            f'<span class="mono">{e(cus.get("sha256_at_analysis") or "not checked")}</span> '
            f"{verified}",
        ),
        ("Size", f"{e(_size(int(item['size'])))} ({int(item['size'])} bytes)"),
        ("Duration (decoded)", f"{float(item['duration_s']):.3f} s"),
        ("Container", f"{e(pr.get('format'))} ({e(pr.get('format_long'))})"),
        ("Audio stream", codec),
        (
            "Streams",
            e(", ".join(f"#{s['index']} {s['type']} {s['codec']}" for s in pr.get("streams", []))),
        ),
        ("First ingested", e(item["ingested_at"])),
        ("Evidence store", f'<span class="mono">{e(cus.get("store"))}</span>'),
        (
            "Audit chain head",
            f"entry {int(head['seq'])} ({e(head.get('action', ''))}, {e(head['at'])}), hash "
            f'<span class="mono">{e(head["hash"])}</span>'
            if head
            else "no audit log",
        ),
    ]
    sources = "".join(
        f"<tr><td>{e(s.get('source') or '(not given)')}</td><td>{e(s['original_name'])}</td>"
        f"<td>{e(s.get('collected_at') or '')}</td><td>{e(s['ingested_at'])}</td>"
        f"<td>{e(s.get('user', ''))}@{e(s.get('host', ''))}</td></tr>"
        for s in item["sources"]
    )
    tags = pr.get("tags") or {}
    tag_rows = "".join(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in tags.items())
    cls = "box" if cus["verified"] else "box warn"
    return (
        f'<div class="{cls}"><p>{e(cus["statement"])}</p><p>The original was not modified: '
        "it is stored read-only, content-addressed by its SHA-256, and every action on it is "
        "recorded in the store's hash-chained audit log.</p></div>"
        + _kv(rows)
        + "<h3>Sources (every ingest of these bytes)</h3>"
        + "<table><tr><th>Source</th><th>File name</th><th>Collected</th><th>Ingested</th>"
        + f"<th>By</th></tr>{sources}</table>"
        + (
            "<h3>Container tags (as found in the file, untrusted)</h3>"
            f'<table class="kv">{tag_rows}</table>'
            if tag_rows
            else ""
        )
    )


def section_questions(report: Mapping[str, Any]) -> str:
    items = []
    for q in report["questions"]:
        state = (
            ""
            if q["addressed"]
            else f' <span class="status-{e(q.get("status", "skipped"))}">'
            f"(not answered: stage {e(q['stage'])} {e(q.get('status', ''))})</span>"
        )
        items.append(f"<li>{e(q['question'])}{state}</li>")
    return (
        "<p>The examination addressed these questions. Each is answered only by the findings "
        "in section 4, read with the notes in section 5.</p>"
        f"<ol>{''.join(items) or '<li>No analysis stage ran.</li>'}</ol>"
    )


def section_methods(report: Mapping[str, Any], opts: HtmlOptions) -> str:
    rows = []
    for s in report["stages"]:
        status = f'<span class="status-{e(s["status"])}">{e(s["status"])}</span>'
        why = s.get("error") or s.get("reason")
        if why:
            status += f"<br><span class='note'>{e(why)}</span>"
        params = _collapsible(
            _json_text(s.get("params") or {}, 4000),
            summary=f"{len(s.get('params') or {})} parameters",
        )
        rows.append(
            f"<tr><td><strong>{e(s['name'])}</strong><br><span class='note'>v{e(s['version'])}"
            f"</span></td><td>{e(s['description'])}</td><td>{status}</td>"
            f"<td>{float(s['elapsed_s']):.2f}&nbsp;s</td><td>{params}</td></tr>"
        )
    bad = [s for s in report["stages"] if s["status"] != "ok"]
    warn = ""
    if bad:
        lis = "".join(
            f"<li><strong>{e(s['name'])}</strong> {e(s['status'])}: "
            f"{e(s.get('error') or s.get('reason') or '')}</li>"
            for s in bad
        )
        warn = (
            '<div class="box warn"><strong>Stages that did not produce results.</strong> Their '
            f"questions are not answered by this report.<ul>{lis}</ul></div>"
        )
    gen = report["generator"]
    o = report.get("options", {})
    return (
        f"<p>earwitness {e(gen['version'])} (Python {e(gen['python'])}, NumPy {e(gen['numpy'])},"
        f" PyAV {e(gen['av'])}, FFmpeg {e(gen.get('ffmpeg'))}). Analysis options: "
        f"<code>{e(_json_text(o, 1500))}</code></p>"
        + warn
        + "<table><tr><th>Stage</th><th>Method</th><th>Status</th><th>Time</th>"
        "<th>Parameters</th></tr>" + "".join(rows) + "</table>"
        f"<p class='note'>Pictures: decoded at {opts.figures.sr} Hz mono; spectrograms use a "
        f"{opts.figures.n_fft}-point Hann STFT (long recordings averaged to at most "
        f"{opts.figures.spec_columns} columns). Times are seconds from the first presented "
        "sample of the decoded original.</p>"
    )


def _details_html(details: Mapping[str, Any], limit: int) -> str:
    """Short scalar fields shown; nested or long ones in a closed ``<details>``."""
    if not details:
        return ""
    shown: list[str] = []
    more: list[str] = []
    for k, v in details.items():
        text = _json_text(v, limit)
        row = f"<dt>{e(k)}</dt><dd>{e(text)}</dd>"
        short = not isinstance(v, Mapping | list | tuple) and len(text) <= 60
        (shown if short and len(shown) < 6 else more).append(row)
    out = f'<dl class="details">{"".join(shown)}</dl>' if shown else ""
    if more:
        out += (
            f"<details><summary>{'more' if shown else 'details'} ({len(more)} fields)"
            f'</summary><dl class="details">{"".join(more)}</dl></details>'
        )
    return out


def _finding_row(f: Mapping[str, Any], fig: bytes | None, opts: HtmlOptions) -> str:
    er = f.get("error_rates")
    rate = (
        f'<span class="er">{e(er["summary"])}</span>'
        if er
        else '<span class="er none">error rate not measured</span>'
    )
    adv = ' <span class="adv" title="advisory: context, not a forensic signal">advisory</span>'
    start, end = float(f["start_s"]), float(f["end_s"])
    extra = _details_html(f.get("details") or {}, opts.max_detail_chars)
    if fig is not None:
        alt = f"picture of finding {f['id']}"
        extra += f"<details><summary>picture</summary>{_img(fig, alt)}</details>"
    if f.get("kind") == "archive_match":
        from earwitness.report.figures import archive_reference_text

        extra = f"<p>{e(archive_reference_text(f))}</p>" + extra
    return (
        f'<tr id="{e(f["id"])}" data-kind="{e(f["kind"])}"><td>{e(f["id"])}</td>'
        f'<td class="time"><button class="play" type="button" data-start="{start:.4f}" '
        f'data-end="{end:.4f}" title="play this span">▶ {e(fmt_span(start, end))}</button></td>'
        f"<td>{e(f['kind'])}{adv if f.get('advisory') else ''}</td>"
        f"<td>{e(f['label'])}</td><td>{e(fmt_score(f.get('score')))}</td><td>{rate}</td>"
        f"<td>{e(f.get('method') or '')}<br><span class='note'>{e(f.get('stage'))}</span></td>"
        f"<td>{extra}</td></tr>"
    )


def section_results(
    report: Mapping[str, Any],
    digest: AudioDigest | None,
    figs: Mapping[str, bytes],
    overview: bytes | None,
    problem: str | None,
    opts: HtmlOptions,
) -> str:
    parts: list[str] = []
    if digest is not None and digest.player is not None:
        uri = "data:audio/mpeg;base64," + base64.b64encode(digest.player).decode()
        note = PLAYER_NOTE.format(kbps=digest.player_kbps, sr=digest.sr)
        parts.append(
            f'<div class="player"><audio id="player" controls preload="auto" src="{uri}">'
            f"</audio><div class='note'>{e(note)}</div></div>"
        )
    else:
        parts.append(
            "<p class='note'>No listening copy is embedded (recording too long for the size "
            "cap, or it could not be decoded). Use the stored original.</p>"
        )
    if overview is not None:
        parts.append(
            f"<figure>{_img(overview, 'waveform, spectrogram and event lane')}<figcaption>"
            "Waveform (top), spectrogram (middle) and event lane (bottom) on one time axis. "
            "Coloured spans and lines mark findings (labels are finding ids); each lane row "
            "is one event label or finding kind. Findings about the whole recording "
            "(e.g. metadata, compression) are listed in the table, not drawn.</figcaption></figure>"
        )
    if problem:
        parts.append(f'<div class="box warn">Pictures could not be drawn: {e(problem)}</div>')
    findings = report["findings"]
    rows = "".join(_finding_row(f, figs.get(f["id"]), opts) for f in findings)
    parts.append(
        f"<h3>Findings ({len(findings)})</h3>"
        "<p class='note'>Results only, in time order; interpretation notes are in section 5. "
        "Click a time to play that span.</p>"
        '<div class="scroll"><table id="findings"><thead><tr><th>Id</th><th>Time</th>'
        "<th>Kind</th><th>Finding</th>"
        "<th>Score</th><th>Measured error rate</th><th>Method / stage</th><th>Details</th></tr>"
        f"</thead><tbody>{rows}</tbody></table></div>"
    )
    if not findings:
        parts.append("<p>No stage reported a finding.</p>")
    lang = report.get("language")
    if lang:
        prob = lang.get("probability")
        p = f" (probability {prob:.2f})" if isinstance(prob, int | float) else ""
        parts.append(
            f"<p>Spoken language: <strong>{e(lang['code'])}</strong>{e(p)}, "
            f"from stage {e(lang['stage'])}.</p>"
        )
    if report.get("summary"):
        rows_s = "".join(
            f"<tr><th>{e(k)}</th><td>{_collapsible(_json_text(v, 6000), summary='summary')}"
            "</td></tr>"
            for k, v in report["summary"].items()
        )
        parts.append(f'<h3>Stage summaries</h3><table class="kv">{rows_s}</table>')
    return "".join(parts)


def section_limitations(report: Mapping[str, Any]) -> str:
    lim = report["limitations"]
    general = "".join(f"<li>{e(x)}</li>" for x in lim["general"])
    per_stage = "".join(
        f"<h3>{e(name)}</h3><ul>{''.join(f'<li>{e(x)}</li>' for x in items)}</ul>"
        for name, items in lim["stages"].items()
    )
    missing = [s["name"] for s in report["stages"] if s["status"] != "ok"]
    extra = (
        f"<li>These stages did not produce results, so their questions are unanswered: "
        f"{e(', '.join(missing))}.</li>"
        if missing
        else ""
    )
    return f"<ul>{general}{extra}</ul>{per_stage}"


def _pictures(
    report: Mapping[str, Any],
    ctx: AnalysisContext,
    opts: HtmlOptions,
    registry: FigureRegistry,
) -> tuple[AudioDigest, bytes, dict[str, bytes], list[str]]:
    """The digest, overview and per-finding figures, plus "finding id: error" per figure that
    could not be drawn."""
    from earwitness.report.figures import figure_windows, overview_png

    fo = opts.figures
    findings = report["findings"]
    duration = float(report["item"]["duration_s"])
    windows = figure_windows(findings, duration_s=duration, opts=fo, registry=registry)
    digest = digest_audio(
        chunks=ctx.chunks(sr=fo.sr, mono=True),
        duration_s=duration,
        windows=windows,
        opts=fo,
        player=opts.player,
    )
    overview = overview_png(digest=digest, findings=findings, opts=fo)
    figs: dict[str, bytes] = {}
    failed: list[str] = []
    for f in findings:
        r = registry.for_kind(str(f["kind"]))
        if r is None or len(figs) >= fo.max_finding_figures:
            continue
        try:
            png = r.render(f, clips=digest.clips, sr=digest.sr, opts=fo, duration_s=duration)
        except Exception as exc:  # a broken picture must not lose the report
            log.warning("figure for %s failed: %s", f["id"], exc)
            failed.append(f"{f['id']}: {type(exc).__name__}: {exc}")
            continue
        if png is not None:
            figs[str(f["id"])] = png
    return digest, overview, figs, failed


def render_html(
    report: Mapping[str, Any],
    ctx: AnalysisContext | None,
    *,
    options: HtmlOptions | None = None,
    figures: FigureRegistry | None = None,
) -> str:
    """The report as one self-contained HTML page. ``ctx`` gives access to the decoded audio
    for the pictures and the player; with ``None`` (or a decoding failure) the page is
    written without them and says so."""
    from earwitness.report.figures import default_figure_registry

    opts = options or HtmlOptions()
    digest: AudioDigest | None = None
    overview: bytes | None = None
    figs: dict[str, bytes] = {}
    problem: str | None = None
    if ctx is None:
        problem = "no decoded audio was available to this renderer"
    else:
        try:
            digest, overview, figs, failed = _pictures(
                report, ctx, opts, figures or default_figure_registry()
            )
            if failed:
                problem = "; ".join(failed)
        except Exception as exc:  # pictures are a convenience; the findings are not lost
            log.warning("report pictures failed: %s", exc)
            problem = f"{type(exc).__name__}: {exc}"
    item = report["item"]
    gen = report["generator"]
    footer = (
        f"Generated by earwitness {e(gen['version'])} at {e(report['created_at'])} "
        f"(report schema {e(report['schema'])}). The machine-readable report.json holds "
        "every value shown here. Picture and player settings: "
        f"<code>{e(json.dumps(asdict(opts), ensure_ascii=False))}</code>"
    )
    page = Template(_template("report.html")).substitute(
        generator=e(f"earwitness {gen['version']}"),
        title=e(f"earwitness report: {item['original_name']}"),
        subtitle=e(
            f"item {item['id']} · {float(item['duration_s']):.1f} s · analysed "
            f"{report['created_at']}"
        ),
        css=_template("report.css"),
        js=_template("report.js"),
        glance=section_glance(report),
        item=section_item(report),
        questions=section_questions(report),
        methods=section_methods(report, opts),
        results=section_results(report, digest, figs, overview, problem, opts),
        limitations=section_limitations(report),
        footer=footer,
    )
    return page
