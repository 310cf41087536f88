"""The run report: one self-contained HTML page (inline CSS, SVG and a little JavaScript).

Every piece of text from the run (model output, names, the scenario) is passed
through `html.escape`; the page loads nothing from anywhere. The belief graph's
turn follows the slider, and `report.html#turn=N` (or `?turn=N`) opens at turn N.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

from simstage.render import narrate, speaker_colours
from simstage.report.charts import metric_charts
from simstage.report.graph_svg import (
    FALSE_COLOUR,
    TRUE_COLOUR,
    belief_svg,
    layout,
    sampled_turns,
    turn_graphs,
)
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
MAX_TEXT = 20_000
"""Longest text of one transcript line (a model can loop); the rest is cut with a note."""

STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1200px;padding:16px;color:#111827}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:20px 0 8px}
.meta{color:#6b7280}.warn{background:#fef3c7;border:1px solid #f59e0b;padding:6px 10px;margin:8px 0}
.cols{display:flex;gap:20px;align-items:flex-start;flex-wrap:wrap}
.transcript{flex:1 1 380px;max-height:720px;overflow:auto;border:1px solid #e5e7eb;padding:8px}
.graph{flex:0 0 auto}.turnhead{font-weight:600;color:#6b7280;margin-top:8px;border-top:1px solid #f3f4f6}
.row{padding:1px 4px;white-space:pre-wrap;word-break:break-word}.row.current{background:#eff6ff}
.private{background:#faf5ff;border-left:3px solid #7c3aed}.tag{font-size:11px;color:#7c3aed;margin-right:4px}
.book{color:#6b7280;font-style:italic}svg text{font-size:11px}.axis{fill:#6b7280;font-size:10px}
g.turn path{fill:none;stroke-width:1.8}.legend span{margin-right:14px}
table{border-collapse:collapse}td,th{border:1px solid #e5e7eb;padding:3px 8px;text-align:left}
.charts{display:flex;flex-wrap:wrap;gap:10px}figure{margin:0}figcaption{font-size:12px;color:#374151}
"""

SCRIPT = """
(function(){
  var groups=[].slice.call(document.querySelectorAll('#beliefs g.turn'));
  var rows=[].slice.call(document.querySelectorAll('.row'));
  var slider=document.getElementById('turn'), label=document.getElementById('turnlabel');
  var turns=groups.map(function(g){return parseInt(g.getAttribute('data-turn'),10);});
  function show(index){
    index=Math.max(0,Math.min(groups.length-1,index|0));
    groups.forEach(function(g,i){g.style.display=(i===index)?'':'none';});
    var t=turns[index]; slider.value=index; label.textContent='turn '+t;
    document.body.setAttribute('data-shown-turn',String(t));
    rows.forEach(function(r){r.classList.toggle('current',parseInt(r.getAttribute('data-turn'),10)===t);});
  }
  function fromUrl(){
    var m=/(?:^|[#?&])turn=(\\d+)/.exec(location.hash)||/(?:^|[?&])turn=(\\d+)/.exec(location.search);
    if(!m) return null;
    var want=parseInt(m[1],10), best=0;
    turns.forEach(function(t,i){if(t<=want) best=i;});
    return best;
  }
  if(!groups.length) return;
  slider.addEventListener('input',function(){show(parseInt(slider.value,10));});
  window.addEventListener('hashchange',function(){var i=fromUrl(); if(i!==null) show(i);});
  var start=fromUrl(); show(start===null?groups.length-1:start);
})();
"""


def _speaker(event: Any) -> str | None:
    for attr in ("who", "speaker", "ask", "to"):
        value = getattr(event, attr, None)
        if isinstance(value, str):
            return value
    return None


def transcript_html(events: Sequence[Any], colours: dict[str, str], trackers: dict[int, str | None]) -> str:
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
    """Probe accuracy (model vs tracker) overall, by order and by style, false beliefs, reality,
    each with its 95% Wilson interval (a run's probes are few: the interval says how few)."""
    if metrics is None:
        return '<p class="meta">No belief probes were asked in this run.</p>'
    rows = [("overall (vs tracker)", metrics.overall)]
    rows += [(f"order {escape(str(order))}", score) for order, score in metrics.by_order.items()]
    rows += [(f"style {escape(str(style))}", score) for style, score in metrics.by_style.items()]
    rows += [("false beliefs (vs tracker)", metrics.false_belief), ("vs reality", metrics.reality)]
    body = "".join(f"<tr><th>{name}</th>{_score_cell(score)}</tr>" for name, score in rows)
    return f"<table><tr><th>probes</th><th>accuracy</th><th>{WILSON}</th><th>n</th></tr>{body}</table>"


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
        f"<tr><th>{escape(str(k))}</th><td>{escape(_flat(v))}</td></tr>" for k, v in metrics.model_dump().items()
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
    from simstage.tom.metrics import probe_verdicts, score_verdicts

    colours = {
        name: CSS_COLOURS.get(c, "#111827")
        for name, c in speaker_colours(scenario.cast_names).items()
    }
    last = max((e.turn for e in events), default=0)
    turns = sampled_turns(last)
    graphs = turn_graphs(scenario, events, turns)
    svg = belief_svg(graphs, layout(graphs), shown=turns[-1])
    verdicts = probe_verdicts(scenario, events)
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
    if len(turns) < last + 1:
        notes.append(
            f'<p class="meta">The belief graph shows {len(turns)} of the run\'s {last + 1} turns.</p>'
        )
    legend = (
        f'<p class="legend"><span style="color:{TRUE_COLOUR}">&#8594; true belief</span>'
        f'<span style="color:{FALSE_COLOUR}">&#8594; false belief</span><span>- - - higher order</span>'
        '<span style="color:#9ca3af">&#183;&#183;&#183; where it really is</span></p>'
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
<div class="cols">
<section class="transcript"><h2>Transcript</h2>
{transcript_html(events, colours, {id(v.probe): v.tracker for v in verdicts})}
</section>
<section class="graph"><h2>Beliefs</h2>
<label>Turn <input type="range" id="turn" min="0" max="{len(turns) - 1}" value="{len(turns) - 1}" step="1"></label>
<span id="turnlabel">turn {turns[-1]}</span>
{legend}
{svg}
</section>
</div>
<h2>Theory-of-mind probes</h2>
{tom_table(metrics)}
{puppeteer}
<script>{SCRIPT}</script>
</body></html>
"""
