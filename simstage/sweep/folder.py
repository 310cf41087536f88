"""A sweep's folder: its `sweep.json`, checked on resume, and the plan read back from it."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from simstage.sweep.plan import (
    LOCK_FILE,
    PLAN_FILE,
    PLAN_FORMAT,
    ROWS,
    Setting,
    SweepError,
    SweepPlan,
    seeds_text,
    value_text,
)


def refused_folder(out: Path, plan_file: str = PLAN_FILE) -> str | None:
    """Why `out` cannot hold a sweep (a file, or a folder of other things), or None.

    A folder holding only what a sweep killed as it started leaves (its lock, an
    empty `rows/`, a temporary `sweep.json`) is a sweep's, not another's. `plan_file`:
    the file that records the plan (a battery's: `battery.json`).
    """
    if out.exists() and not out.is_dir():
        return f"--out {out}: is a file, not a folder"
    if not out.is_dir() or (out / plan_file).exists():
        return None
    started = {out / LOCK_FILE, *_sweep_temporaries(out, plan_file)}
    rows = out / ROWS
    if rows.is_dir() and not any(rows.iterdir()):
        started.add(rows)
    if any(path not in started for path in out.iterdir()):
        return f"--out {out}: the folder is not empty and holds no {plan_file}; choose another"
    return None


def _sweep_temporaries(out: Path, plan_file: str = PLAN_FILE) -> list[Path]:
    """Temporaries of the sweep's own files (plan, tables, plot, rows) that a killed write left."""
    from simstage.report.files import stale_temporaries
    from simstage.sweep.plot import PLOT_FILE
    from simstage.sweep.table import RESULTS_CSV, RESULTS_PARQUET, SUMMARY_CSV

    names = (plan_file, RESULTS_CSV, SUMMARY_CSV, RESULTS_PARQUET, PLOT_FILE)
    own = [
        path
        for path in stale_temporaries(out)
        if path.name.startswith(tuple(f".{n}." for n in names))
    ]
    return own + stale_temporaries(out / ROWS)


def remove_stale_temporaries(out: Path, plan_file: str = PLAN_FILE) -> None:
    """Remove the temporaries a killed sweep left (call holding the folder's lock: no sweep is writing)."""
    for path in _sweep_temporaries(out, plan_file):
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)


def prepare_folder(
    out: Path,
    plan: SweepPlan,
    *,
    kind: str = PLAN_FILE,
    differences: Callable[[dict[str, Any]], list[str]] | None = None,
) -> bool:
    """Make `out` the sweep's folder: write `sweep.json`, or check that it holds this same plan.

    Call it holding the folder's lock (`sweep_lock`): it first removes the
    temporaries a killed sweep left. A battery's plan goes to its own file
    (`kind`, `battery.json`) and says itself how another one differs (`differences`).

    Returns:
        True when the folder already held this sweep (a resume).

    Raises:
        SweepError: `out` is a file, a folder of something else, or holds another sweep.
    """
    from simstage.report.files import atomic_write_text

    what = "sweep" if kind == PLAN_FILE else "battery"
    plan_file = out / kind
    if out.is_dir():
        remove_stale_temporaries(out, kind)
    problem = refused_folder(out, kind)
    if problem:
        raise SweepError(problem)
    if plan_file.exists():
        before = read_plan_file(out) if kind == PLAN_FILE else _read_json(plan_file)
        found = _differences(before, plan) if differences is None else differences(before)
        if found:
            raise SweepError(
                f"--out {out} holds another {what} ({'; '.join(found)}); "
                f"choose another --out, or repeat that {what}'s command to finish it"
            )
        (out / ROWS).mkdir(exist_ok=True)
        return True
    try:
        # sweep.json first: a kill between the two leaves a sweep folder, never a foreign one.
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_text(plan_file, json.dumps(plan.describe(), indent=2) + "\n")
        (out / ROWS).mkdir(exist_ok=True)
    except OSError as exc:
        raise SweepError(f"{plan_file}: cannot write: {exc.strerror or exc}") from None
    return False


def set_aside_damaged(log: Path) -> Path:
    """Rename a finished run's damaged log to `RUNID.jsonl.damaged-N` before the run is played again.

    Raises:
        SweepError: the log cannot be renamed.
    """
    for index in range(1, 10_000):
        kept = log.with_name(f"{log.name}.damaged-{index}")
        if not kept.exists():
            break
    try:
        os.rename(log, kept)
    except OSError as exc:
        raise SweepError(
            f"{log}: cannot set the damaged log aside: {exc.strerror or exc}"
        ) from None
    return kept


def read_plan_file(out: Path) -> dict[str, Any]:
    """The `sweep.json` of a sweep folder.

    Raises:
        SweepError: missing, unreadable, or not a sweep plan.
    """
    plan_file = out / PLAN_FILE
    if not plan_file.is_file():
        raise SweepError(f"{out}: not a sweep folder (no {PLAN_FILE})")
    data = _read_json(plan_file)
    if data.get("format") != PLAN_FORMAT or "scenario" not in data:
        raise SweepError(f"{plan_file}: not a simstage sweep plan")
    return data


def _read_json(path: Path) -> dict[str, Any]:
    """A plan file's JSON object.

    Raises:
        SweepError: unreadable, or not a JSON object.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SweepError(f"{path}: cannot read: {exc.strerror}") from None
    except ValueError as exc:
        raise SweepError(f"{path}: not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise SweepError(f"{path}: not a simstage plan")
    return data


def _differences(before: dict[str, Any], plan: SweepPlan) -> list[str]:
    now = plan.identity()
    found = []
    if (before.get("scenario") or {}).get("sha256") != now["scenario_sha256"]:
        found.append("the scenario file differs from the one it ran")
    if before.get("sets") != now["sets"]:
        found.append(
            f"--set there: {sets_text(before.get('sets'))}; here: {sets_text(now['sets'])}"
        )
    if before.get("seeds") != now["seeds"]:
        found.append(
            f"--seeds there: {seeds_text(before.get('seeds'))}; here: {seeds_text(now['seeds'])}"
        )
    if before.get("max_turns") != now["max_turns"]:
        found.append(f"--max-turns there: {before.get('max_turns')}; here: {now['max_turns']}")
    return found


def sets_text(sets: Any) -> str:
    """A plan's `sets` as the `--set` options that made them (`none`; `?` for a damaged plan)."""
    if not sets:
        return "none"
    try:
        return " ".join(
            f"--set {s['key']}={','.join(value_text(v) for v in s['values'])}" for s in sets
        )
    except (TypeError, KeyError):
        return "?"


def plan_from_folder(out: Path) -> tuple[str, list[Setting], list[int], int | None]:
    """The scenario path, settings, seeds and max turns a sweep folder was started with.

    Raises:
        SweepError: the folder holds no readable `sweep.json`.
    """
    data = read_plan_file(out)
    try:
        sets = [Setting(str(s["key"]), tuple(s["values"])) for s in data.get("sets") or []]
        seeds = [int(seed) for seed in data["seeds"]]
        path = str(data["scenario"]["path"])
        max_turns = data.get("max_turns")
    except (TypeError, KeyError, ValueError):
        raise SweepError(f"{out / PLAN_FILE}: not a simstage sweep plan") from None
    return path, sets, seeds, max_turns if isinstance(max_turns, int) else None


def default_out(scenario_path: str | Path) -> Path:
    """`sweeps/NAME-TIME/`."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path("sweeps") / f"{Path(scenario_path).stem}-{stamp}"
