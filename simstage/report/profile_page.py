"""A battery's profile as one self-contained HTML page: it renders a `Profile`, it computes nothing.

Each model's ToM accuracy by belief order, false and true beliefs side by side,
with its 95% interval and, on the same probes, chance and the trivial baselines;
the full table by order × style × belief × kind; direct vs indirect agreement;
the puppeteers paired; the models paired; and the latent probes per layer where
the runs captured activations. Charts are inline SVG drawn by matplotlib (text as
paths, so the page needs no font and no network); without matplotlib the page
keeps its tables and says so.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from html import escape
from typing import Any

from simstage.analysis.profile_shape import Cell, Estimate, ModelDifference, ModelProfile, Profile
from simstage.report.page import STYLE

COLOURS = ("#2563eb", "#ea580c", "#16a34a", "#9333ea", "#db2777", "#0891b2")
"""One colour per model, in the battery's order."""
BASELINE_MARKS = {
    "reality": ("v", "#b91c1c", "answer reality"),
    "lower": ("D", "#a16207", "answer the lower order"),
    "first_named": ("<", "#4b5563", "answer the first-named option"),
    "last_named": (">", "#111827", "answer the last-named option"),
}
"""How each trivial baseline is drawn: marker, colour, and its name on the page."""
SHORT = {
    "reality": "reality",
    "lower": "lower order",
    "first_named": "first-named",
    "last_named": "last-named",
}
"""Each baseline's name in a table's heading."""
EXTRA_STYLE = """
.wide{max-width:100%;overflow-x:auto}td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
figure{margin:8px 0 16px}figure svg{max-width:100%;height:auto}
td.best{font-weight:600;background:#ecfdf5}td.weak{color:#9ca3af}.key span{margin-right:16px}
h3{font-size:15px;margin:18px 0 6px}
"""


def profile_html(profile: Profile) -> str:
    """The page of a battery's profile."""
    notes = "".join(f'<div class="warn">warning: {escape(w)}</div>' for w in profile.warnings)
    models = ", ".join(escape(m.model) for m in profile.models)
    sections = [
        _overview(profile),
        *(_model_section(model) for model in profile.models),
        _agreement(profile.models),
        _puppeteers(profile.models),
        _differences(profile.differences),
        *(_latent(model) for model in profile.models if model.latent or model.latent_note),
    ]
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>{escape(profile.title)} — simstage battery profile</title><style>{STYLE}{EXTRA_STYLE}</style></head>
<body>
<h1>{escape(profile.title)}</h1>
<p class="meta">models {models} · {profile.runs_finished} of {profile.runs_planned} runs finished ·
folder {escape(profile.folder)} · intervals: {escape(profile.method)} (probes of one scene are one unit)</p>
{notes}
{"".join(sections)}
</body></html>
"""


def _overview(profile: Profile) -> str:
    scored = [m for m in profile.models if m.overall is not None]
    if not scored:
        return "<h2>Theory of mind</h2><p class='meta'>no finished run asked a question the tracker could answer</p>"
    rows = "".join(
        f"<tr><td>{escape(m.model)}</td><td class='num'>{m.runs}</td><td class='num'>{m.probes}</td>"
        f"<td class='num'>{_estimate(m.overall)}</td></tr>"
        for m in profile.models
    )
    return (
        "<h2>Theory of mind: each model beside the trivial strategies</h2>"
        "<p class='meta'>Accuracy: how often the model's answer is the tracker's (the belief the question asks "
        "about). Bars: each model, with its 95% interval; on each bar the baselines scored on the same probes: "
        + "; ".join(f"{_mark_text(name)} {label}" for name, (_, _, label) in BASELINE_MARKS.items())
        + "; dashed: chance (1/number of options). A model has learnt something the baselines have not only where "
        "its bar clears every mark.</p>"
        + _picture(lambda: _order_figure(profile.models))
        + f"<table><tr><th>model</th><th>runs</th><th>probes</th><th>accuracy [95%]</th></tr>{rows}</table>"
    )


def _mark_text(name: str) -> str:
    symbol = {"v": "▼", "D": "◆", "<": "◀", ">": "▶"}[BASELINE_MARKS[name][0]]
    return f"<span style='color:{BASELINE_MARKS[name][1]}'>{symbol}</span>"


def _model_section(model: ModelProfile) -> str:
    full = [c for c in model.cells if c.style != "all"]
    if not full:
        return ""
    head = (
        "<tr><th>order</th><th>style</th><th>belief</th><th>kind</th><th>probes</th><th>scenes</th>"
        "<th>accuracy [95%]</th><th>chance</th>"
        + "".join(f"<th>{_mark_text(name)} {SHORT[name]}</th>" for name in BASELINE_MARKS)
        + "</tr>"
    )
    body = "".join(_cell_row(cell) for cell in full)
    return (
        f"<h2>{escape(model.model)}: accuracy by order × style × belief × kind</h2>"
        "<p class='meta'>Each baseline's accuracy on the same probes; in green, the model's accuracy where its "
        "interval lies above chance and above every baseline.</p>"
        f"<div class='wide'><table>{head}{body}</table></div>"
    )


def _cell_row(cell: Cell) -> str:
    marks = [b.value for b in cell.baselines.values() if b is not None] + [cell.chance]
    beats = cell.accuracy.low is not None and cell.accuracy.low > max(marks)
    baselines = "".join(
        f"<td class='num'>{_estimate(cell.baselines.get(name))}</td>" for name in BASELINE_MARKS
    )
    return (
        f"<tr><td class='num'>{cell.order}</td><td>{cell.style}</td><td>{cell.belief}</td><td>{cell.kind}</td>"
        f"<td class='num'>{cell.accuracy.n}</td><td class='num'>{cell.accuracy.units}</td>"
        f"<td class='num{' best' if beats else ''}'>{_estimate(cell.accuracy)}</td>"
        f"<td class='num'>{cell.chance:.2f}</td>{baselines}</tr>"
    )


def _agreement(models: Sequence[ModelProfile]) -> str:
    rows = "".join(
        f"<tr><td>{escape(m.model)}</td><td class='num'>{m.agreement.pairs}</td><td class='num'>{_estimate(m.agreement.same)}</td>"
        f"<td class='num'>{_estimate(m.agreement.direct)}</td><td class='num'>{_estimate(m.agreement.indirect)}</td></tr>"
        for m in models
        if m.agreement is not None
    )
    if not rows:
        return ""
    return (
        "<h2>Direct vs indirect</h2><p class='meta'>The same question asked both ways (where is it? / where would "
        "they look first?) in the same scene with the same seed: how often the two answers are the same, and how "
        "often each is right.</p><table><tr><th>model</th><th>pairs</th><th>same answer [95%]</th>"
        f"<th>direct right</th><th>indirect right</th></tr>{rows}</table>"
    )


def _puppeteers(models: Sequence[ModelProfile]) -> str:
    rows = "".join(
        f"<tr><td>{escape(m.model)}</td><td>{escape(d.metric)}</td><td>{escape(d.a)} − {escape(d.b)}</td>"
        f"<td class='num'>{d.mean_a:.3f}</td><td class='num'>{d.mean_b:.3f}</td>"
        f"<td class='num'>{_estimate(d.difference, digits=3)}</td><td class='num'>{d.difference.n}</td></tr>"
        for m in models
        for d in m.puppeteers
    )
    if not rows:
        return ""
    return (
        "<h2>Puppeteers, paired</h2><p class='meta'>Each metric under two puppeteers on the same scene, seed and "
        "style: the mean difference with its 95% interval. <code>reward.sycophancy</code>: how much the steered "
        "lines agree with the loud character; <code>persona_drift</code>: persona fit lost from a character's first "
        "half of lines to its second.</p><table><tr><th>model</th><th>metric</th><th>pair</th><th>mean a</th>"
        f"<th>mean b</th><th>a − b [95%]</th><th>pairs</th></tr>{rows}</table>"
    )


def _differences(differences: Sequence[ModelDifference]) -> str:
    if not differences:
        return ""
    rows = "".join(
        f"<tr><td>{escape(d.a)} − {escape(d.b)}</td><td>{escape(d.group)}</td><td class='num'>{d.accuracy_a:.2f}</td>"
        f"<td class='num'>{d.accuracy_b:.2f}</td><td class='num'>{_estimate(d.difference, signed=True)}</td>"
        f"<td class='num'>{d.difference.n}</td><td class='num'>{d.difference.units}</td></tr>"
        for d in differences
    )
    return (
        "<h2>Model vs model, paired</h2><p class='meta'>Accuracy on identical questions (same scene, seed, "
        "puppeteer and style), the difference a − b with its 95% interval; an interval that excludes 0 is a "
        "difference these scenes show.</p>"
        + _picture(lambda: _difference_figure(differences))
        + "<table><tr><th>pair</th><th>probes</th><th>accuracy a</th><th>accuracy b</th><th>a − b [95%]</th>"
        f"<th>pairs</th><th>scenes</th></tr>{rows}</table>"
    )


def _latent(model: ModelProfile) -> str:
    if model.latent_note:
        return f"<h2>{escape(model.model)}: latent</h2><p class='meta'>not fitted: {escape(model.latent_note)}</p>"
    parts = [
        f"<h2>{escape(model.model)}: what the layers hold</h2><p class='meta'>Probes fitted per block on the "
        "captured activations and tested on runs they were not fitted on; dotted: the model's own answers "
        "(behaviour); dashed: chance. The same figures: <code>simstage latent fit</code>.</p>"
    ]
    for target in model.latent:
        if target.skipped:
            parts.append(
                f"<h3>{escape(target.target)}</h3><p class='meta'>not fitted: {escape(target.skipped)}</p>"
            )
            continue
        parts.append(
            f"<h3>{escape(target.target)}</h3>" + _picture(lambda t=target: _latent_figure(t))
        )
    return "".join(parts)


def _estimate(value: Estimate | None, *, digits: int = 2, signed: bool = False) -> str:
    if value is None:
        return "–"
    sign = "+" if signed else ""
    text = f"{value.value:{sign}.{digits}f}"
    if value.low is None or value.high is None:
        return f"{text} [one scene]"
    return f"{text} [{value.low:{sign}.{digits}f}, {value.high:{sign}.{digits}f}]"


def _picture(draw: Any) -> str:
    """A figure as inline SVG (a note instead where matplotlib is missing)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "<p class='meta'>no chart: plotting needs matplotlib (pip install 'simstage[sweep]')</p>"
    figure = draw()
    if figure is None:
        return ""
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg")
    plt.close(figure)
    text = buffer.getvalue()
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", text[text.index("<svg") :], flags=re.S)
    return f"<figure>{svg}</figure>"


def _order_figure(models: Sequence[ModelProfile]) -> Any:
    """Accuracy by belief order, false and true beliefs side by side: a bar per model, marks for the baselines."""
    import matplotlib.pyplot as plt

    panels = [
        ("false", "False beliefs (the answer differs from reality)"),
        ("true", "True beliefs (or none: a fact's don't know)"),
    ]
    orders = sorted(
        {
            c.order
            for m in models
            for c in m.cells
            if c.style == "all" and c.belief != "all" and c.order
        }
    )
    if not orders:
        return None
    figure, axes = plt.subplots(1, 2, figsize=(13, 4.8), dpi=100, sharey=True)
    width = 0.8 / max(1, len(models))
    for axis, (belief, title) in zip(axes, panels, strict=True):
        for index, model in enumerate(models):
            found = {
                c.order: c
                for c in model.cells
                if c.style == "all" and c.belief == belief and c.kind == "all"
            }
            for position, order in enumerate(orders):
                cell = found.get(order)
                if cell is None:
                    continue
                x = position - 0.4 + width * (index + 0.5)
                _bar(
                    axis,
                    x,
                    width,
                    cell,
                    COLOURS[index % len(COLOURS)],
                    model.model if position == 0 else None,
                )
        axis.set_xticks(range(len(orders)), [f"order {o}" for o in orders], fontsize=11)
        axis.set_ylim(-0.04, 1.06)  # marks at 0 and 1 stay clear of the frame
        axis.set_title(title, fontsize=12)
        axis.grid(axis="y", alpha=0.3)
    axes[0].set_ylabel("accuracy (answer = tracker's)", fontsize=11)
    handles, labels = axes[0].get_legend_handles_labels()
    for marker, colour, label in BASELINE_MARKS.values():
        handles.append(axes[0].scatter([], [], marker=marker, color=colour, s=36))
        labels.append(label)
    handles.append(axes[0].plot([], [], color="#6b7280", linestyle="--", linewidth=1.2)[0])
    labels.append("chance")
    figure.legend(
        handles, labels, loc="lower center", ncol=min(5, len(labels)), fontsize=10, frameon=False
    )
    figure.tight_layout(rect=(0, 0.12 if len(labels) <= 5 else 0.17, 1, 1))
    return figure


def _bar(axis: Any, x: float, width: float, cell: Cell, colour: str, label: str | None) -> None:
    """One model's bar for one order: accuracy, its interval, chance and the baselines on the same probes."""
    accuracy = cell.accuracy
    axis.bar(x, accuracy.value, width * 0.9, color=colour, alpha=0.75, label=label)
    if accuracy.low is not None and accuracy.high is not None:
        axis.errorbar(x, accuracy.value, yerr=[[accuracy.value - accuracy.low], [accuracy.high - accuracy.value]],
                      color="black", capsize=3, linewidth=1)  # fmt: skip
    axis.hlines(
        cell.chance,
        x - width * 0.45,
        x + width * 0.45,
        colors="#6b7280",
        linestyles="--",
        linewidth=1.2,
    )
    offsets = {"reality": -0.27, "lower": -0.09, "first_named": 0.09, "last_named": 0.27}
    for name, (marker, mark_colour, _) in BASELINE_MARKS.items():
        baseline = cell.baselines.get(name)
        if baseline is not None:
            axis.scatter(
                [x + width * offsets[name]],
                [baseline.value],
                marker=marker,
                color=mark_colour,
                s=30,
                zorder=3,
            )


def _difference_figure(differences: Sequence[ModelDifference]) -> Any:
    """Paired differences with their intervals, one row per pair and group (a forest plot)."""
    import matplotlib.pyplot as plt

    rows = list(reversed(differences))
    figure, axis = plt.subplots(figsize=(9, 0.9 + 0.34 * len(rows)), dpi=100)
    for y, d in enumerate(rows):
        value = d.difference
        colour = "#111827" if d.group == "all" else "#4b5563"
        if value.low is not None and value.high is not None:
            axis.hlines(y, value.low, value.high, colors=colour, linewidth=2)
        axis.plot([value.value], [y], "o", color=colour, markersize=5)
    axis.axvline(0, color="#9ca3af", linestyle="--", linewidth=1)
    axis.set_yticks(range(len(rows)), [f"{d.a} − {d.b}: {d.group}" for d in rows], fontsize=10)
    axis.set_xlim(-1.02, 1.02)
    axis.set_xlabel("difference in accuracy (a − b), paired on identical questions", fontsize=10)
    axis.grid(axis="x", alpha=0.3)
    figure.tight_layout()
    return figure


def _latent_figure(target: Any) -> Any:
    """Per-layer accuracy of each probe kind, chance and behaviour as lines."""
    import matplotlib.pyplot as plt

    from simstage.analysis.plot import KINDS, level_line

    figure, axis = plt.subplots(figsize=(8, 3.6), dpi=100)
    layers = [entry.layer for entry in target.layers]
    for kind, label in KINDS.items():
        cells = [getattr(entry, kind) for entry in target.layers]
        if not cells or any(cell is None for cell in cells):
            continue
        axis.plot(layers, [c.value for c in cells], marker="o", markersize=3, label=label)
        if all(c.low is not None and c.high is not None for c in cells):
            axis.fill_between(layers, [c.low for c in cells], [c.high for c in cells], alpha=0.2)
    level_line(axis, "chance", target.chance, "chance")
    level_line(axis, "behaviour", target.behaviour, "behaviour")
    axis.set_ylim(0, 1.02)
    axis.set_xlabel("layer")
    axis.set_ylabel("test accuracy")
    axis.legend(fontsize=8, loc="best")
    axis.grid(alpha=0.3)
    figure.tight_layout()
    return figure
