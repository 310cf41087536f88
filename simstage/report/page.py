"""The run report: one self-contained HTML page (inline CSS, SVG and a little JavaScript).

Every piece of text from the run (model output, names, the scenario) is passed
through `html.escape`; the page loads nothing from anywhere. The belief graph and
matrix (`belief_view`) follow the slider, and `report.html#turn=N` (or `?turn=N`) opens at turn N.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

from simstage.render import narrate, speaker_colours
from simstage.report.belief_view import belief_script, belief_section, page_extent
from simstage.report.charts import metric_charts
from simstage.scenario.models import Scenario
from simstage.stats import WILSON, wilson

CSS_COLOURS = {
    "cyan": "#0e7490",
    "magenta": "#a21caf",
    "green": "#15803d",
    "yellow": "#a16207",
    "bright_blue": "#2563eb",
    "bright_red": "#dc2626",
    "bright_cyan": "#0891b2",
    "orange1": "#ea580c",
}
PRIVATE_EVENTS = ("tell", "direction")
KINDS = {"object": "objects", "fact": "facts", "who_knows": "who knows (exact set)"}
"""How the probe table names each kind of probe."""
MAX_TEXT = 20_000
"""Longest text of one transcript line (a model can loop); the rest is cut with a note."""

STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1440px;padding:16px;color:#111827}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:20px 0 8px}
.meta{color:#6b7280}.warn{background:#fef3c7;border:1px solid #f59e0b;padding:6px 10px;margin:8px 0}
.cols{display:flex;gap:20px;align-items:flex-start;flex-wrap:wrap}
.transcript{flex:1 1 380px;max-height:720px;overflow:auto;border:1px solid #e5e7eb;padding:8px}
.turnhead{font-weight:600;color:#6b7280;margin-top:8px;border-top:1px solid #f3f4f6}
.row{padding:1px 4px;white-space:pre-wrap;word-break:break-word}.row.current{background:#eff6ff}
.private{background:#faf5ff;border-left:3px solid #7c3aed}.tag{font-size:11px;color:#7c3aed;margin-right:4px}
.book{color:#6b7280;font-style:italic}svg text{font-size:11px}.axis{fill:#6b7280;font-size:10px}
#turnlabel{margin-right:14px}.controls label{margin-right:14px}.controls select{font:inherit}
.beliefcols{display:flex;gap:16px;align-items:flex-start;flex-wrap:wrap}
.graphbox{flex:0 1 auto;max-width:100%;max-height:760px;overflow:auto;border:1px solid #e5e7eb}
.side{flex:1 1 320px;min-width:300px;max-height:760px;overflow:auto}
#beliefs text{font-size:12px}#beliefs .label{pointer-events:none}
#beliefs .mind .shape{fill:#dbeafe;stroke:#1e3a8a}#beliefs .mind.leaf .shape{fill:#bfdbfe}
#beliefs .mind.disagrees .shape{stroke:#b45309;stroke-width:2}
#beliefs .container .shape{fill:#f3f4f6;stroke:#374151}#beliefs .container.real .shape{fill:#fef3c7;stroke:#a16207;stroke-width:2.5}
#beliefs .container.unused{opacity:.45}#beliefs .room{fill:#6b7280;font-style:italic}
#beliefs .container.who.thought .shape{stroke:#1d4ed8;stroke-width:2.5}#beliefs .none .wire{stroke-dasharray:2 3}
#whoknows table{margin-bottom:10px}#whoknows caption{text-align:left;font-size:12px;color:#374151;padding:2px 0}
table.matrix th.fact,table.matrix td.fact{border-left:2px solid #cbd5e1}
#beliefs .link{fill:none;stroke:#94a3b8;stroke-width:1.2}
#beliefs .wire{fill:none;stroke-width:1.8}#beliefs .lie .wire{stroke-dasharray:6 4}#beliefs .changed .wire{stroke-width:3}
#beliefs .hit{fill:none;stroke:transparent;stroke-width:10;cursor:pointer}#beliefs .node{cursor:pointer}
#edgeinfo{white-space:pre-line;min-height:3.2em;border-left:3px solid #93c5fd;padding:2px 8px;margin-bottom:8px}
table.matrix td,table.matrix th{font-size:12px;padding:2px 6px;white-space:nowrap}table.matrix .sel{background:#f0f9ff}
table.matrix td.false{color:#dc2626;font-weight:600}table.matrix td.changed{background:#fef9c3}
table.matrix .mark{color:#b45309;font-weight:400}.real-key{background:#fef3c7;border:2px solid #a16207;padding:0 4px}
.changed-key{background:#fef9c3;padding:0 4px}
.legend span{margin-right:14px}
table{border-collapse:collapse}td,th{border:1px solid #e5e7eb;padding:3px 8px;text-align:left}
.charts{display:flex;flex-wrap:wrap;gap:10px}figure{margin:0}figcaption{font-size:12px;color:#374151}
"""


def _speaker(event: Any) -> str | None:
    for attr in ("who", "speaker", "ask", "to"):
        value = getattr(event, attr, None)
        if isinstance(value, str):
            return value
    return None


def transcript_html(
    events: Sequence[Any], colours: dict[str, str], trackers: dict[int, Any]
) -> str:
    """The transcript: one row per narrated event under a header per turn; private lines marked.

    `trackers` gives the tracker's answer to each probe, by the probe event's `id`.
    """
    out: list[str] = []
    turn = -1
    for event in events:
        line = narrate(event, trackers.get(id(event)))
        if line is None:
            continue
        if len(line) > MAX_TEXT:
            line = line[:MAX_TEXT] + f" … [{len(line) - MAX_TEXT} more characters]"
        event_turn = event.turn
        if event_turn != turn:
            turn = event_turn
            out.append(f'<div class="turnhead" data-turn="{turn}">turn {turn}</div>')
        kind = event.type
        classes = ["row", escape(kind)]
        tag = ""
        if kind in PRIVATE_EVENTS:
            classes.append("private")
            tag = '<span class="tag">private</span>'
        if kind in (
            "probe",
            "run_ended",
            "rejected",
            "parse_failed",
            "candidate",
            "candidate_chosen",
            "speaker_chosen",
        ) or kind.endswith("metrics"):
            classes.append("book")
        who = _speaker(event)
        colour = colours.get(who or "", "")
        text = escape(line)
        if who and colour and line.startswith(who):
            text = f'<b style="color:{colour}">{escape(who)}</b>{escape(line[len(who) :])}'
        out.append(f'<div class="{" ".join(classes)}" data-turn="{turn}">{tag}{text}</div>')
    return "\n".join(out) or '<p class="meta">No events were recorded.</p>'


def _score_cell(score: Any) -> str:
    """Agreed/n (accuracy), its 95% Wilson interval, and n."""
    if score is None or not getattr(score, "n", 0):
        return "<td>–</td><td>–</td><td>0</td>"
    interval = wilson(score.agreed, score.n)
    bounds = "–" if interval is None else f"{interval.low:.0%}–{interval.high:.0%}"
    return f"<td>{score.agreed}/{score.n} ({(score.accuracy or 0):.0%})</td><td>{bounds}</td><td>{score.n}</td>"


def tom_table(metrics: Any) -> str:
    """Probe accuracy (model vs tracker) overall, by order, by style and (with facts) by kind, false
    beliefs, reality, each with its 95% Wilson interval (a run's probes are few: the interval says
    how few); who-knows probes add their mean per-name F1."""
    if metrics is None:
        return '<p class="meta">No belief probes were asked in this run.</p>'
    rows = [("overall (vs tracker)", metrics.overall)]
    rows += [(f"order {escape(str(order))}", score) for order, score in metrics.by_order.items()]
    rows += [(f"style {escape(str(style))}", score) for style, score in metrics.by_style.items()]
    if len(metrics.by_kind) > 1 or metrics.who_knows_f1 is not None:
        rows += [
            (f"kind {escape(KINDS.get(kind, kind))}", score)
            for kind, score in metrics.by_kind.items()
        ]
    rows += [("false beliefs (vs tracker)", metrics.false_belief), ("vs reality", metrics.reality)]
    body = "".join(f"<tr><th>{name}</th>{_score_cell(score)}</tr>" for name, score in rows)
    if metrics.who_knows_f1 is not None:
        body += f'<tr><th>who knows: per-name F1</th><td colspan="3">{metrics.who_knows_f1:.2f}</td></tr>'
    return (
        f"<table><tr><th>probes</th><th>accuracy</th><th>{WILSON}</th><th>n</th></tr>{body}</table>"
    )


def _flat(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_flat(v)}" for k, v in value.items()) or "–"
    if isinstance(value, float):
        return f"{value:.3g}"
    return "–" if value is None else str(value)


def run_metrics_table(metrics: Any) -> str:
    """A run's puppeteer metrics (`RunMetrics`) as a table, or "" when it recorded none."""
    if metrics is None:
        return ""
    rows = "".join(
        f"<tr><th>{escape(str(k))}</th><td>{escape(_flat(v))}</td></tr>"
        for k, v in metrics.model_dump().items()
    )
    return f"<h3>Run metrics</h3><table>{rows}</table>"


def render_page(
    scenario: Scenario,
    events: Sequence[Any],
    *,
    header: Any = None,
    warnings: Sequence[str] = (),
    ended: bool = True,
) -> str:
    """The whole report as one HTML string.

    Args:
        scenario: the scene.
        events: the run's events (up to the last whole one, for a cut log).
        header: the run log's header (stage, model, seed), if any.
        warnings: lines to show at the top (a cut last line).
        ended: whether the run recorded its end.
    """
    from simstage.puppeteer.metrics import run_metrics
    from simstage.tom.metrics import run_verdicts, score_verdicts
    from simstage.tom.timeline import probe_order

    colours = {
        name: CSS_COLOURS.get(c, "#111827")
        for name, c in speaker_colours(scenario.cast_names).items()
    }
    last = max((e.turn for e in events), default=0)
    # A large cast at a deep order has more chains of beliefs than a page can carry.
    order, turns, cut = page_extent(
        len(scenario.cast),
        len(scenario.world.objects) + len(scenario.world.facts),
        max(1, probe_order(scenario)),
        last,
    )
    verdicts = run_verdicts(scenario, events)
    metrics = score_verdicts(verdicts, last)
    summary = run_metrics_table(run_metrics(events, scenario.puppeteer.kind))
    charts = metric_charts(events, colours)
    meta = ""
    if header is not None:
        meta = (
            f"{escape(str(header.stage.backend))} stage, model {escape(str(header.stage.model))}, "
            f"seed {escape(str(header.seed))}, recorded {escape(str(header.created))}"
        )
    notes = [f'<div class="warn">warning: {escape(w)}</div>' for w in warnings]
    if not ended:
        notes.append(
            '<div class="warn">The run did not record its end (it was cut off); shown up to its last whole event.</div>'
        )
    if cut is not None:
        notes.append(f'<p class="meta">{escape(cut)}</p>')
    if len(turns) < last + 1:
        notes.append(
            f'<p class="meta">The belief graph shows {len(turns)} of the run\'s {last + 1} turns.</p>'
        )
    puppeteer = ""
    if charts or summary:
        puppeteer = f'<h2>Puppeteer metrics</h2><div class="charts">{charts}</div>{summary}'
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>{escape(scenario.title)} — simstage report</title><style>{STYLE}</style></head>
<body>
<h1>{escape(scenario.title)}</h1>
<p class="meta">{meta}{" · " if meta else ""}{len(events)} events, {last} turns</p>
{"".join(notes)}
{belief_section(scenario, events, turns, order)}
<section class="transcript"><h2>Transcript</h2>
{transcript_html(events, colours, {id(v.probe): v.tracker for v in verdicts})}
</section>
<h2>Theory-of-mind probes</h2>
{tom_table(metrics)}
{puppeteer}
<script>{belief_script()}</script>
</body></html>
"""
