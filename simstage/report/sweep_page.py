"""The report of a sweep folder: what was played, ToM per variant, and what the probes read inside.

One self-contained HTML page, like a run's: the plan, each variant's metrics
(mean over seeds with its 95% bootstrap interval), the sweep's chart, every run,
and, when the runs captured activations (`--latent`), the probes' accuracy per
layer for each target, as `simstage.analysis.sweep_latent.latent_profile`
computed it: mean difference, logistic regression and CCS with their intervals
shaded, chance and the model's behavioural accuracy as lines. The page renders
that profile; it fits nothing. Charts are drawn by matplotlib; without it the
page says so and keeps its tables.
"""

from __future__ import annotations

import base64
import tempfile
from collections.abc import Sequence
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simstage.analysis.results import CcsRows, FitResult, Skipped
from simstage.report.page import STYLE

if TYPE_CHECKING:
    from simstage.analysis.sweep_latent import SweepLatent


def sweep_report_html(folder: Path, latent: SweepLatent | None = None) -> tuple[str, list[str]]:
    """The report of the sweep in `folder` as HTML, and the warnings it carries.

    Args:
        folder: the sweep folder.
        latent: the probes fitted on its captured runs (`latent_profile`); None: no latent section.

    Raises:
        SweepError: `folder` holds no readable sweep plan.
    """
    from simstage.sweep.folder import read_plan_file, sets_text
    from simstage.sweep.plan import seeds_text

    described = read_plan_file(folder)
    warnings: list[str] = []
    plan, rows = _plan_and_rows(folder, warnings)
    rows = {run_id: _checked(run_id, row, warnings) for run_id, row in rows.items()}
    entry = described.get("scenario")
    scenario = str(entry.get("path", "?")) if isinstance(entry, dict) else "?"
    listed = described.get("sets")
    sets = listed if isinstance(listed, list) else []
    keys = [str(s["key"]) for s in sets if isinstance(s, dict) and "key" in s]
    sections = [
        _summary(keys, rows),
        _chart(plan, rows, warnings) if plan is not None else "",
        latent_section(latent, warnings),
        _runs(rows),
    ]
    notes = "".join(f'<div class="warn">warning: {escape(w)}</div>' for w in warnings)
    runs = described.get("runs")
    total = len(plan.runs) if plan is not None else runs if isinstance(runs, int) else "?"
    title = f"Sweep of {Path(scenario).name}"
    return (
        f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>{escape(title)} — simstage report</title><style>{STYLE}{EXTRA_STYLE}</style></head>
<body>
<h1>{escape(title)}</h1>
<p class="meta">{escape(scenario)} · settings: {escape(sets_text(described.get("sets")))} · seeds {escape(seeds_text(described.get("seeds")))} ·
{len(rows)} of {total} runs finished · folder {escape(str(folder))}</p>
{notes}
{"".join(sections)}
</body></html>
""",
        warnings,
    )


EXTRA_STYLE = """
.wide{max-width:100%;overflow-x:auto}.wide td{white-space:nowrap}.latent svg{max-width:100%;height:auto}.latent figure{margin:8px 0 16px}td.num{text-align:right}
"""


def _plan_and_rows(folder: Path, warnings: list[str]) -> tuple[Any, dict[str, dict[str, Any]]]:
    """The sweep's plan (None when its scenario can no longer be read) and its finished rows."""
    import json

    from simstage.scenario import ScenarioError
    from simstage.sweep.folder import plan_from_folder
    from simstage.sweep.plan import ROWS, SweepError, make_plan
    from simstage.sweep.table import read_rows

    try:
        path, settings, seeds, turns = plan_from_folder(folder)
        plan = make_plan(path, settings, seeds, turns)
    except (SweepError, ScenarioError, OSError) as exc:
        warnings.append(f"the sweep's scenario cannot be read again ({exc}); its chart is left out")
        rows: dict[str, dict[str, Any]] = {}
        for row_file in sorted((folder / ROWS).glob("*.json")):
            try:
                row = json.loads(row_file.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                warnings.append(f"{row_file}: not a readable result row; skipped")
                continue
            if isinstance(row, dict):
                rows[row_file.stem] = row
        return None, rows
    damaged: dict[Path, str] = {}
    unread: list[str] = []
    rows = read_rows(folder, plan, damaged, unread)
    warnings.extend(f"{problem}; the run is left out" for problem in [*damaged.values(), *unread])
    return plan, rows


TABLES = ("settings", "rewards", "tom_by_style", "tom_by_order")
"""A row's fields that hold a table (by style and order: a table of tables)."""


def _checked(run_id: str, row: dict[str, Any], warnings: list[str]) -> dict[str, Any]:
    """`row` without any table field of the wrong shape (a hand-edited or damaged row file), each one warned about."""
    bad = [
        name for name in TABLES
        if name in row and row[name] is not None and not (
            isinstance(row[name], dict)
            and all(isinstance(k, str) for k in row[name])
            and (name not in ("tom_by_style", "tom_by_order") or all(isinstance(v, dict) for v in row[name].values()))
        )
    ]  # fmt: skip
    for name in bad:
        warnings.append(
            f"rows/{run_id}.json: {name} is not a table of the expected shape; left out"
        )
    return {k: v for k, v in row.items() if k not in bad}


def _summary(keys: Sequence[str], rows: dict[str, dict[str, Any]]) -> str:
    """Each variant's metrics, mean over seeds [95% bootstrap over seeds], from the result rows alone."""
    import json

    from simstage.sweep.table import summarise

    if not rows:
        return ""
    variants: dict[str, tuple[dict[str, Any], list[dict[str, Any]]]] = {}
    for row in rows.values():
        settings = row.get("settings") or {}  # a table, or left out by `_checked`
        key = json.dumps([settings.get(k) for k in keys], default=str)
        variants.setdefault(key, (settings, []))[1].append(row)
    names, table = summarise(keys, list(variants.values()))
    metrics = [
        n for n in names if f"{n}.low" in names and any(entry.get(n) is not None for entry in table)
    ]
    head = "".join(f"<th>{escape(k)}</th>" for k in [*keys, "runs", "chance", *metrics])
    body = []
    for entry in table:
        cells = [escape(str(entry.get(k))) for k in keys] + [
            str(entry["runs"]),
            _number(entry.get("tom_chance")),
        ]
        cells += [_with_interval(entry, m) for m in metrics]
        body.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return (
        "<h2>Theory of mind per variant</h2>"
        '<p class="meta">mean over seeds, [95% bootstrap interval over seeds]</p>'
        f"<div class='wide'><table><tr>{head}</tr>{''.join(body)}</table></div>"
    )


def _chart(plan: Any, rows: dict[str, dict[str, Any]], warnings: list[str]) -> str:
    try:
        from simstage.sweep.plot import panels, require_plotting, write_png

        require_plotting()
    except Exception as exc:
        warnings.append(f"no charts: {exc}")
        return ""
    charts = panels(plan, rows)
    if not charts:
        return ""
    with tempfile.TemporaryDirectory() as scratch:
        png = write_png(Path(scratch) / "plot.png", plan, charts).read_bytes()
    data = base64.b64encode(png).decode("ascii")
    return f'<figure><img alt="the sweep\'s metrics per variant" src="data:image/png;base64,{data}" style="max-width:100%"></figure>'


def latent_section(latent: SweepLatent | None, warnings: list[str]) -> str:
    """Probe accuracy per layer for each target, when the sweep's runs captured activations ("" when none did)."""
    if latent is None:
        return ""
    if isinstance(latent.dataset, Skipped):
        warnings.append(f"latent probes left out: {latent.dataset.reason}")
        return ""
    dataset = latent.dataset
    parts = [
        '<section class="latent"><h2>Latent beliefs: what the stage represents</h2>'
        f'<p class="meta">{dataset.probes} captured probes from {dataset.runs} runs, '
        f"blocks {dataset.layers[0]}–{dataset.layers[-1]}; probes fitted per block and tested on runs they "
        "were not fitted on (seeded group 5-fold); shading: 95% bootstrap interval over runs. "
        "The same figures: <code>simstage latent fit</code>.</p>"
    ]
    parts.extend(_target(target, result) for target, result in latent.targets)
    parts.append("</section>")
    return "".join(parts)


def _target(target: str, result: FitResult | Skipped) -> str:
    if isinstance(result, Skipped):
        return f"<h3>{escape(target)}</h3><p class='meta'>not fitted: {escape(result.reason)}</p>"
    try:
        from simstage.analysis.plot import fit_svg

        picture = f"<figure>{fit_svg(result)}</figure>"
    except ImportError:
        picture = "<p class='meta'>no picture: plotting needs matplotlib (pip install 'simstage[sweep]')</p>"
    ccs = result.ccs
    note = (
        f"CCS: {ccs.rows} contrast pairs, its chance {ccs.chance:.2f} (which of the pair is the answer)."
        if isinstance(ccs, CcsRows)
        else f"CCS not fitted: {ccs.reason}."
    )
    behaviour = result.behaviour.all
    return (
        f"<h3>{escape(target)}</h3>"
        f"<p class='meta'>{result.summary.n} probes, chance {result.summary.chance:.2f}"
        + (f", behaviour {behaviour.estimate:.2f}" if behaviour else "")
        + f". {escape(note)}</p>{best_table(result)}{picture}"
    )


def best_table(result: FitResult) -> str:
    """Each probe kind's best block and its accuracy with interval."""
    from simstage.analysis.plot import KINDS

    rows = []
    for kind, label in KINDS.items():
        cells = [
            (entry.layer, cell) for entry in result.layers if (cell := entry.cell(kind)) is not None
        ]
        if not cells:
            continue
        layer, best = max(cells, key=lambda pair: pair[1].estimate)
        rows.append(
            f"<tr><td>{escape(label)}</td><td class='num'>{layer}</td>"
            f"<td>{best.estimate:.2f} [{_number(best.low)}, {_number(best.high)}]</td></tr>"
        )
    return f"<table><tr><th>probe</th><th>best block</th><th>accuracy [95%]</th></tr>{''.join(rows)}</table>"


def _runs(rows: dict[str, dict[str, Any]]) -> str:
    if not rows:
        return "<h2>Runs</h2><p class='meta'>no run has finished yet</p>"
    body = []
    for run_id, row in rows.items():
        overall = row.get("tom_accuracy")
        body.append(
            f"<tr><td>{escape(run_id)}</td><td>{escape(str(row.get('seed')))}</td>"
            f"<td>{escape(str(row.get('status')))}</td><td class='num'>{_number(overall)}</td>"
            f"<td class='num'>{escape(str(row.get('tom_n')))}</td></tr>"
        )
    return (
        "<h2>Runs</h2><table><tr><th>run</th><th>seed</th><th>status</th><th>ToM</th><th>probes</th></tr>"
        f"{''.join(body)}</table>"
    )


def _with_interval(row: dict[str, Any], metric: str) -> str:
    if row.get(metric) is None:
        return ""
    return f"{_number(row[metric])} [{_number(row.get(metric + '.low'))}, {_number(row.get(metric + '.high'))}]"


def _number(value: Any) -> str:
    return f"{value:.2f}" if isinstance(value, int | float) and not isinstance(value, bool) else ""
