"""A sweep's results: one row per finished run (`rows/RUNID.json`), gathered into `results.csv`.

A row holds the run's varied settings, seed, ToM metrics (from `tom_metrics`),
puppeteer metrics (from `run_metrics`), token counts and wall time. The table is
rebuilt from the rows, in plan order, so it never holds a run twice; Parquet is
written beside it when pyarrow is installed.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Sequence
from pathlib import Path
from statistics import fmean
from typing import Any

from simstage.events import ProbeScore, RunEnded, RunMetrics, TomMetrics
from simstage.report.files import atomic_write_text
from simstage.stage.base import StageCounters
from simstage.sweep.plan import ROWS, PlannedRun, SweepPlan, value_text

RESULTS_CSV = "results.csv"
RESULTS_PARQUET = "results.parquet"

METRIC_COLUMNS = (
    "seed",
    "status",
    "turns",
    "tom_n",
    "tom_accuracy",
    "tom_false_belief_n",
    "tom_false_belief",
    "tom_reality_n",
    "tom_reality",
    "voice_collapse",
    "reward_gain",
    "persona_drift",
)
"""Columns after the run id and the varied settings, in order; `reward.NAME` columns follow."""
TAIL_COLUMNS = ("parse_failures", "prompt_tokens", "generated_tokens", "wall_s", "log")


def _mean(values: Sequence[float]) -> float | None:
    return fmean(values) if values else None


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
    tom = next((e for e in reversed(events) if isinstance(e, TomMetrics)), None)
    metrics = next((e for e in reversed(events) if isinstance(e, RunMetrics)), None)
    ended = next((e for e in reversed(events) if isinstance(e, RunEnded)), None)
    empty = ProbeScore()
    return {
        "run_id": run.run_id,
        "settings": run.settings,
        "seed": run.seed,
        "status": ended.reason if ended is not None else "completed",
        "turns": turns,
        "tom_n": (tom.overall if tom else empty).n,
        "tom_accuracy": tom.overall.accuracy if tom else None,
        "tom_false_belief_n": (tom.false_belief if tom else empty).n,
        "tom_false_belief": tom.false_belief.accuracy if tom else None,
        "tom_reality_n": (tom.reality if tom else empty).n,
        "tom_reality": tom.reality.accuracy if tom else None,
        "voice_collapse": metrics.voice_collapse if metrics else None,
        "reward_gain": metrics.reward_gain if metrics else None,
        "persona_drift": _mean(list(metrics.persona_drift.values())) if metrics else None,
        "rewards": dict(sorted(metrics.rewards.items())) if metrics else {},
        "parse_failures": sum(1 for e in events if getattr(e, "type", None) == "parse_failed"),
        "prompt_tokens": counters.prompt_tokens,
        "generated_tokens": counters.generated_tokens,
        "wall_s": round(wall_s, 3),
        "log": log,
    }


def row_path(out: Path, run_id: str) -> Path:
    """Where a run's row lives."""
    return out / ROWS / f"{run_id}.json"


def write_row(out: Path, row: dict[str, Any]) -> None:
    """Write a run's row atomically: after this, the run counts as finished."""
    atomic_write_text(row_path(out, row["run_id"]), json.dumps(row, indent=1) + "\n")


def read_rows(out: Path, plan: SweepPlan) -> dict[str, dict[str, Any]]:
    """The rows of the plan's runs that exist, by run id.

    An unreadable row counts as missing, and so does a row whose log is gone:
    the run is played again rather than listed with a log that is not there.
    """
    rows: dict[str, dict[str, Any]] = {}
    for run in plan.runs:
        path = row_path(out, run.run_id)
        try:
            row = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(row, dict) or row.get("run_id") != run.run_id:
            continue
        if not (out / str(row.get("log") or "")).is_file():
            continue
        rows[run.run_id] = row
    return rows


def columns(plan: SweepPlan, rows: Sequence[dict[str, Any]]) -> list[str]:
    """The table's columns: run id, each varied setting, metrics, `reward.NAME`s, tokens, time, log."""
    rewards = sorted({name for row in rows for name in row.get("rewards") or {}})
    return ["run_id", *plan.keys, *METRIC_COLUMNS, *(f"reward.{n}" for n in rewards), *TAIL_COLUMNS]


def flatten(row: dict[str, Any], keys: Sequence[str]) -> dict[str, Any]:
    """A row as table cells: settings and rewards spread into their own columns."""
    flat = {name: value for name, value in row.items() if name not in ("settings", "rewards")}
    settings = row.get("settings") or {}
    for key in keys:
        flat[key] = settings.get(key)
    for name, value in (row.get("rewards") or {}).items():
        flat[f"reward.{name}"] = value
    return flat


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
    """Rebuild `results.csv` (and `results.parquet` with pyarrow) from the rows, atomically.

    Args:
        out: the sweep folder.
        plan: the sweep's plan (the table follows its order).
        rows: the rows by run id; default: every row written so far in `out`.

    Returns:
        The CSV's path and the Parquet file's path (None without pyarrow).
    """
    names, flat = table(plan, read_rows(out, plan) if rows is None else rows)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(names)
    for row in flat:
        writer.writerow([_cell(row.get(name)) for name in names])
    csv_path = out / RESULTS_CSV
    atomic_write_text(csv_path, buffer.getvalue())
    return csv_path, _write_parquet(out / RESULTS_PARQUET, names, flat)


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
    temporary = path.with_name(f".{path.name}.tmp")
    pq.write_table(pa.Table.from_arrays(arrays, names=names), temporary)
    os.replace(temporary, path)
    return path
