"""A sweep's rows: one JSON file per finished run (`rows/RUNID.json`), written atomically.

A row counts only while its run's log is whole; `log_problem` says why one is not.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from simstage.report.files import atomic_write_text
from simstage.sweep.plan import ROWS, SweepError, SweepPlan


def row_path(out: Path, run_id: str) -> Path:
    """Where a run's row lives."""
    return out / ROWS / f"{run_id}.json"


def write_row(out: Path, row: dict[str, Any]) -> None:
    """Write a run's row atomically: after this, the run counts as finished.

    Raises:
        SweepError: the row cannot be written (a full disk); the run stays unfinished.
    """
    path = row_path(out, row["run_id"])
    written(path, lambda: atomic_write_text(path, json.dumps(row, indent=1) + "\n"))


def written(path: Path, write: Callable[[], object]) -> None:
    """Run `write`; an OSError (a full disk, a folder where the file goes) is a SweepError naming `path`."""
    try:
        write()
    except OSError as exc:
        raise SweepError(f"{path}: cannot write: {exc.strerror or exc}") from None


def read_rows(
    out: Path,
    plan: SweepPlan,
    damaged: dict[Path, str] | None = None,
    unread: list[str] | None = None,
) -> dict[str, dict[str, Any]]:
    """The rows of the plan's runs that exist, by run id.

    An unreadable row counts as missing, and so does a row whose log is gone or
    no longer whole (`log_problem`: a line appended, the end cut off): the run
    is played again rather than listed with a log that does not hold it.

    Args:
        out: the sweep folder.
        plan: the sweep's plan.
        damaged: filled with each log that is not whole (its row is left out) and its `FILE:LINE: problem`.
        unread: filled with why each other row that is there was left out (`FILE: problem`): it
            cannot be read, is not its run's, or its log is gone.
    """
    rows: dict[str, dict[str, Any]] = {}
    for run in plan.runs:
        path = row_path(out, run.run_id)
        try:
            row = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            continue  # not finished
        except (OSError, ValueError):
            row = None
        if not isinstance(row, dict) or row.get("run_id") != run.run_id:
            if unread is not None:
                unread.append(f"{path}: not a readable result row")
            continue
        log = out / str(row.get("log") or "")
        if not log.is_file():
            if unread is not None:
                unread.append(f"{path}: its run log {row.get('log')} is gone")
            continue
        problem = log_problem(log)
        if problem is not None:
            if damaged is not None:
                damaged[log] = problem
            continue
        rows[run.run_id] = row
    return rows


def log_problem(path: Path) -> str | None:
    """Why a finished run's log is not whole (`FILE:LINE: what`), or None.

    Quick enough for every row at every start: each line must be a JSON object,
    the first the header and the last the run's end (`run_ended`), each ended by
    a newline. The events themselves are not validated (`replay` does that).
    """
    try:
        lines = path.read_bytes().split(b"\n")
    except OSError as exc:
        return f"{path}: cannot read: {exc.strerror or exc}"
    tail = lines.pop()  # what follows the last newline: nothing, in a whole log
    kind, where = None, 1
    for number, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        try:
            event = json.loads(raw)
        except (ValueError, RecursionError):
            return f"{path}:{number}: not a run log line (not JSON)"
        if not isinstance(event, dict):
            return f"{path}:{number}: not a run log line (not a JSON object)"
        if number == 1 and event.get("type") != "header":
            return f"{path}:1: not a simstage run log (no header line)"
        kind, where = event.get("type"), number
    if tail:
        return f"{path}:{len(lines) + 1}: the last line is cut short"
    if kind != "run_ended":
        return f"{path}:{where}: the log does not end with the run's end (run_ended)"
    return None
