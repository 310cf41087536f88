"""A sweep's results: one row per finished run (`rows/RUNID.json`), gathered into `results.csv`.

A row holds the run's varied settings, seed, ToM metrics (folded from the events:
overall with its 95% Wilson interval over the run's probes, false-belief,
reality, by probe style and by belief order, and the chance level of its
probes, 1/number of options), puppeteer metrics (`run_metrics`, likewise), token
counts and wall time. The table is rebuilt from the rows, in plan order, so it
never holds a run twice; Parquet is written beside it when pyarrow is
installed. `summary.csv` has one row per variant: each metric's mean over seeds
with its 95% bootstrap interval over seeds.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path
from statistics import fmean
from typing import Any

from simstage.events import ParseFailed, RunEnded
from simstage.puppeteer.metrics import run_metrics
from simstage.report.files import atomic_replace, atomic_write_text
from simstage.stage.base import StageCounters
from simstage.stats import bootstrap_mean, bootstrap_method, wilson
from simstage.sweep.plan import PlannedRun, SweepPlan, value_text
from simstage.sweep.rows import log_problem, read_rows, row_path, write_row, written
from simstage.tom.metrics import ProbeScore, ProbeVerdict, run_verdicts, score_verdicts

RESULTS_CSV = "results.csv"
RESULTS_PARQUET = "results.parquet"
SUMMARY_CSV = "summary.csv"

# The row files (`simstage.sweep.rows`) are imported from here too.
__all__ = [
    "GROUPS",
    "METRIC_COLUMNS",
    "RESULTS_CSV",
    "RESULTS_PARQUET",
    "SUMMARY_CSV",
    "SUMMARY_METRICS",
    "TAIL_COLUMNS",
    "columns",
    "flatten",
    "group_columns",
    "log_problem",
    "make_row",
    "metric_value",
    "read_rows",
    "row_path",
    "summarise",
    "summary_table",
    "table",
    "variant_rows",
    "variant_values",
    "write_results",
    "write_row",
]

METRIC_COLUMNS = (
    "seed",
    "status",
    "turns",
    "tom_n",
    "tom_accuracy",
    "tom_accuracy_low",
    "tom_accuracy_high",
    "tom_chance",
    "tom_false_belief_n",
    "tom_false_belief",
    "tom_reality_n",
    "tom_reality",
    "tom_who_knows_f1",
    "voice_collapse",
    "reward_gain",
    "persona_drift",
)
"""Columns after the run id and the varied settings, in order; `tom.style.S`, `tom.order.N`, `tom.kind.K`
(object, fact, who_knows; each with `.n`, `.low` and `.high`, its 95% Wilson interval) and `reward.NAME`
columns follow. `tom_accuracy_low`/`_high`: its 95% Wilson interval. `tom_who_knows_f1`: the mean
per-name F1 of the who-knows probes."""
TAIL_COLUMNS = ("parse_failures", "prompt_tokens", "generated_tokens", "wall_s", "log")


def _mean(values: Sequence[float]) -> float | None:
    return fmean(values) if values else None


def _scores(scores: dict[str, ProbeScore]) -> dict[str, dict[str, Any]]:
    return {
        key: {"n": score.n, "agreed": score.agreed, "accuracy": score.accuracy}
        for key, score in scores.items()
    }


GROUPS = (
    ("tom_by_style", "tom.style."),
    ("tom_by_order", "tom.order."),
    ("tom_by_kind", "tom.kind."),
)
"""A row's ToM groups (probe style, order, kind) and their columns' prefixes."""


def _groups(row: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A row's ToM scores by probe style, order and kind, as `tom.style.S` / `tom.order.N` / `tom.kind.K` columns."""
    out: dict[str, dict[str, Any]] = {}
    for field_name, prefix in GROUPS:
        for key, score in sorted((row.get(field_name) or {}).items()):
            out[prefix + key] = score
    return out


def make_row(
    run: PlannedRun,
    events: Sequence[Any],
    counters: StageCounters,
    *,
    turns: int,
    wall_s: float,
    log: str,
) -> dict[str, Any]:
    """A finished run's row, from its events and its stage's counters."""
    scenario = run.variant.loaded.scenario
    verdicts = run_verdicts(scenario, events)
    tom = score_verdicts(verdicts, turns)
    metrics = run_metrics(events, scenario.puppeteer.kind)
    ended = next((e for e in reversed(events) if isinstance(e, RunEnded)), None)
    empty = ProbeScore()
    overall = wilson(tom.overall.agreed, tom.overall.n) if tom else None
    scored = [
        v.probe
        for v in verdicts
        if isinstance(v, ProbeVerdict) and v.tracker is not None and v.probe.options
    ]
    return {
        "run_id": run.run_id,
        "settings": run.settings,
        "seed": run.seed,
        "status": ended.reason if ended is not None else "completed",
        "turns": turns,
        "tom_n": (tom.overall if tom else empty).n,
        "tom_accuracy": tom.overall.accuracy if tom else None,
        "tom_accuracy_low": overall.low if overall else None,
        "tom_accuracy_high": overall.high if overall else None,
        "tom_chance": _mean([1 / len(probe.options) for probe in scored]),
        "tom_by_style": _scores(tom.by_style) if tom else {},
        "tom_by_order": _scores(tom.by_order) if tom else {},
        "tom_by_kind": _scores(tom.by_kind) if tom else {},
        "tom_false_belief_n": (tom.false_belief if tom else empty).n,
        "tom_false_belief": tom.false_belief.accuracy if tom else None,
        "tom_reality_n": (tom.reality if tom else empty).n,
        "tom_reality": tom.reality.accuracy if tom else None,
        "tom_who_knows_f1": tom.who_knows_f1 if tom else None,
        "voice_collapse": metrics.voice_collapse if metrics else None,
        "reward_gain": metrics.reward_gain if metrics else None,
        "persona_drift": _mean(list(metrics.persona_drift.values())) if metrics else None,
        "rewards": dict(sorted(metrics.rewards.items())) if metrics else {},
        "parse_failures": sum(1 for e in events if isinstance(e, ParseFailed)),
        "prompt_tokens": counters.prompt_tokens,
        "generated_tokens": counters.generated_tokens,
        "wall_s": round(wall_s, 3),
        "log": log,
    }


def group_columns(rows: Sequence[dict[str, Any]]) -> list[str]:
    """`tom.style.S`, `tom.order.N` and `tom.kind.K` columns the rows have, in that order."""
    names = {name for row in rows for name in _groups(row)}
    rank = {prefix: index for index, (_, prefix) in enumerate(GROUPS)}
    return sorted(names, key=lambda name: (rank[name[: name.index(".", 4) + 1]], name))


def columns(plan: SweepPlan, rows: Sequence[dict[str, Any]]) -> list[str]:
    """The table's columns: run id, each varied setting, metrics, ToM groups, `reward.NAME`s, tokens, time, log."""
    rewards = sorted({name for row in rows for name in row.get("rewards") or {}})
    groups = [
        part
        for name in group_columns(rows)
        for part in (name, f"{name}.n", f"{name}.low", f"{name}.high")
    ]
    return [
        "run_id",
        *plan.keys,
        *METRIC_COLUMNS,
        *groups,
        *(f"reward.{n}" for n in rewards),
        *TAIL_COLUMNS,
    ]


def flatten(row: dict[str, Any], keys: Sequence[str]) -> dict[str, Any]:
    """A row as table cells: settings, ToM groups and rewards spread into their own columns."""
    hidden = ("settings", "rewards", *(field_name for field_name, _ in GROUPS))
    flat = {name: value for name, value in row.items() if name not in hidden}
    settings = row.get("settings") or {}
    for key in keys:
        flat[key] = settings.get(key)
    for name, score in _groups(row).items():
        flat[name] = score.get("accuracy")
        flat[f"{name}.n"] = score.get("n")
        flat[f"{name}.low"], flat[f"{name}.high"] = _wilson(score.get("agreed"), score.get("n"))
    for name, value in (row.get("rewards") or {}).items():
        flat[f"reward.{name}"] = value
    return flat


def _wilson(agreed: Any, n: Any) -> tuple[float | None, float | None]:
    """The 95% Wilson interval of a group's counts (none for counts that are not counts)."""
    if (
        isinstance(agreed, bool)
        or isinstance(n, bool)
        or not isinstance(agreed, int)
        or not isinstance(n, int)
    ):
        return None, None
    try:
        interval = wilson(agreed, n)
    except ValueError:
        return None, None
    return (interval.low, interval.high) if interval else (None, None)


def metric_value(row: dict[str, Any], column: str) -> float | None:
    """One run's value of a table column (a number; None when the run has none)."""
    value = flatten(row, ()).get(column)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


SUMMARY_METRICS = (
    "tom_accuracy",
    "tom_false_belief",
    "tom_reality",
    "tom_who_knows_f1",
    "voice_collapse",
    "reward_gain",
    "persona_drift",
)
"""Metrics `summary.csv` gives per variant, before the ToM groups and rewards."""


def variant_rows(
    plan: SweepPlan, rows: dict[str, dict[str, Any]]
) -> list[tuple[Any, list[dict[str, Any]]]]:
    """Per variant (plan order), its finished runs' rows (plan order)."""
    return [
        (
            variant,
            [
                rows[run.run_id]
                for run in plan.runs
                if run.variant is variant and run.run_id in rows
            ],
        )
        for variant in plan.variants
    ]


def variant_values(
    plan: SweepPlan, rows: dict[str, dict[str, Any]], column: str
) -> list[tuple[Any, list[float]]]:
    """Per variant (plan order), the finished runs' values of `column` (runs without one left out)."""
    return [(variant, _values(group, column)) for variant, group in variant_rows(plan, rows)]


def summary_table(
    plan: SweepPlan, rows: dict[str, dict[str, Any]]
) -> tuple[list[str], list[dict[str, Any]]]:
    """One row per variant (plan order): runs, and for each metric its mean over seeds and 95% bootstrap interval."""
    return summarise(
        plan.keys, [(dict(variant.settings), group) for variant, group in variant_rows(plan, rows)]
    )


def summarise(
    keys: Sequence[str], variants: Sequence[tuple[dict[str, Any], list[dict[str, Any]]]]
) -> tuple[list[str], list[dict[str, Any]]]:
    """`summary_table` of variants given as (settings, their finished rows), without a plan (the sweep report)."""
    ordered = [row for _, group in variants for row in group]
    rewards = sorted({f"reward.{name}" for row in ordered for name in row.get("rewards") or {}})
    metrics = [*SUMMARY_METRICS, *group_columns(ordered), *rewards]
    names = [*keys, "runs", "method", "tom_chance"]
    names += [
        part
        for metric in metrics
        for part in (metric, f"{metric}.low", f"{metric}.high", f"{metric}.runs")
    ]
    table: list[dict[str, Any]] = []
    for settings, group in variants:
        entry = {key: settings.get(key) for key in keys} | {
            "runs": len(group),
            "method": bootstrap_method("seeds"),
        }
        entry["tom_chance"] = _mean(_values(group, "tom_chance"))
        for metric in metrics:
            interval = bootstrap_mean(_values(group, metric))
            if interval is not None:
                entry |= {
                    metric: interval.estimate,
                    f"{metric}.low": interval.low,
                    f"{metric}.high": interval.high,
                    f"{metric}.runs": interval.n,
                }
        table.append(entry)
    return names, table


def _values(group: Sequence[dict[str, Any]], column: str) -> list[float]:
    return [value for row in group if (value := metric_value(row, column)) is not None]


def table(
    plan: SweepPlan, rows: dict[str, dict[str, Any]]
) -> tuple[list[str], list[dict[str, Any]]]:
    """Columns and flat rows, in plan order."""
    ordered = [rows[run.run_id] for run in plan.runs if run.run_id in rows]
    return columns(plan, ordered), [flatten(row, plan.keys) for row in ordered]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool | list | dict):
        return value_text(value)
    return str(value)


def write_results(
    out: Path, plan: SweepPlan, rows: dict[str, dict[str, Any]] | None = None
) -> tuple[Path, Path | None]:
    """Rebuild `results.csv`, `summary.csv` (and `results.parquet` with pyarrow) from the rows, atomically.

    Args:
        out: the sweep folder.
        plan: the sweep's plan (the table follows its order).
        rows: the rows by run id; default: every row written so far in `out`.

    Returns:
        The CSV's path and the Parquet file's path (None without pyarrow).

    Raises:
        SweepError: a table cannot be written (a full disk, a folder in its place);
            the rows, which the tables are rebuilt from, are kept.
    """
    rows = read_rows(out, plan) if rows is None else rows
    names, flat = table(plan, rows)
    csv_path = out / RESULTS_CSV
    written(csv_path, lambda: atomic_write_text(csv_path, _csv_text(names, flat)))
    summary_path = out / SUMMARY_CSV
    written(
        summary_path, lambda: atomic_write_text(summary_path, _csv_text(*summary_table(plan, rows)))
    )
    return csv_path, _write_parquet(out / RESULTS_PARQUET, names, flat)


def _csv_text(names: list[str], flat: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(names)
    for row in flat:
        writer.writerow([_cell(row.get(name)) for name in names])
    return buffer.getvalue()


def _write_parquet(path: Path, names: list[str], flat: list[dict[str, Any]]) -> Path | None:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        return None
    arrays = []
    for name in names:
        values = [row.get(name) for row in flat]
        try:
            array = pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
            # Mixed kinds of values (a setting that is a number in one variant, text in another).
            array = pa.array([None if v is None else value_text(v) for v in values], pa.string())
        arrays.append(array)
    data = pa.Table.from_arrays(arrays, names=names)
    written(path, lambda: atomic_replace(path, lambda temporary: pq.write_table(data, temporary)))
    return path
