"""Playing the pending runs of a sweep or a battery: the rows finished before, the progress bar
and a line per run, and how the play ended (its exit status)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from simstage.cli.errors import sigterm_as_interrupt


def say_ending(
    err: Any,
    folder: Path,
    out: str | None,
    finished: int,
    total: int,
    failed: int,
    interrupted: bool,
    *,
    after: str = "",
    then: Callable[[], None] | None = None,
) -> None:
    """Say how a sweep or battery in `folder` ended and how to finish it (`out`: the --out given),
    and exit as it ended.

    Stopped: the runs finished, and exit status 130. Else the runs finished and the table
    (`after` added to that line), then `then` (a plot), then, if some run failed, how many
    and exit status 1.
    """
    again = "re-run the same command" if out is not None else f"re-run with --out {folder}"
    if interrupted:
        err.print(f"{finished} of {total} runs finished; {again} to finish the rest", markup=False)
        raise SystemExit(130)
    err.print(
        f"{finished} of {total} runs finished; table: {folder / 'results.csv'}{after}", markup=False
    )
    if then is not None:
        then()
    if failed:
        many = failed != 1
        err.print(
            f"{failed} run{'s' if many else ''} failed; {again} to retry {'them' if many else 'it'}",
            markup=False,
        )
        raise SystemExit(1)


def finished_rows(folder: Path, plan: Any, err: Any) -> dict[str, Any]:
    """The rows of the runs a sweep or battery folder finished before, by run id.

    A damaged log is set aside (said on `err`), so that its run is played again.
    """
    from rich.text import Text

    from simstage.sweep.folder import set_aside_damaged
    from simstage.sweep.table import read_rows

    damaged: dict[Path, str] = {}
    rows: dict[str, Any] = read_rows(folder, plan, damaged)
    for log, problem in damaged.items():
        kept = set_aside_damaged(log)
        err.print(
            Text(f"warning: {problem}; the run is played again (its log as it was: {kept.name})")
        )
    return rows


def run_pending(
    plan: Any,
    folder: Path,
    pending: list[Any],
    rows: dict[str, Any],
    size: int,
    max_turns: int | None,
    threads: int | None,
    failures: list[Any],
    console: Any,
    err: Any,
    play_one: Any = None,
) -> bool:
    """Play the pending runs under a progress bar, adding their rows to `rows`; True when stopped.

    `play_one` plays each run instead of `play_run` (a battery's: on its model's loaded stage)."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from simstage.sweep.runner import play_pending

    progress = Progress(
        SpinnerColumn(),
        TextColumn("[bold]runs"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        TextColumn("{task.fields[current]}", markup=False, style="dim"),
        console=err,
        disable=not err.is_terminal,
    )
    task = progress.add_task("sweep", total=len(plan.runs), completed=len(rows), current="")
    # Lines printed past the live bar's own console would land in the middle of the bar.
    lines = progress.console if err.is_terminal and console.is_terminal else console
    shown = _Shown(progress, task, lines, err, len(plan.runs))
    with progress, sigterm_as_interrupt():
        ending = play_pending(
            plan,
            folder,
            pending,
            rows,
            failures,
            shown,
            concurrency=size,
            max_turns=max_turns,
            threads=threads,
            play_one=play_one,
        )
    if ending == "gave_up":
        err.print(
            f"giving up: the first {len(failures)} runs all failed and none finished "
            "(is the stage reachable?)",
            markup=False,
        )
    return ending == "stopped"


class _Shown:
    """The sweep as the terminal shows it: a progress bar naming the runs in flight, a line per run."""

    def __init__(self, progress: Any, task: Any, lines: Any, err: Any, total: int):
        self.progress, self.task, self.lines, self.err, self.total = (
            progress,
            task,
            lines,
            err,
            total,
        )
        self.current: list[str] = []
        self.lock = threading.Lock()

    def _show_current(self) -> None:
        current = self.current
        text = ", ".join(current[:2]) + (f" +{len(current) - 2}" if len(current) > 2 else "")
        self.progress.update(self.task, current=text)

    def run_started(self, run: Any) -> None:
        with self.lock:
            self.current.append(run.run_id)
            self._show_current()

    def run_ended(self, run: Any) -> None:
        with self.lock:
            self.current.remove(run.run_id)
            self._show_current()

    def heard(self, outcome: Any, finished: int) -> None:
        from rich.text import Text

        if outcome.status == "finished":
            self.progress.advance(self.task)
            self.lines.print(Text(_finished_line(outcome.row, finished, self.total)))
        else:
            self.err.print(
                Text.assemble(("failed ", "bold red"), f"{outcome.run.run_id}: {outcome.message}")
            )

    def stopping(self) -> None:
        from rich.text import Text

        self.err.print(
            Text(
                "stopping: the runs in flight end after their current turn "
                "(Ctrl-C again to quit at once)",
                style="yellow",
            )
        )

    def quitting(self, finished: int) -> None:
        self.progress.stop()
        self.err.print(
            f"stopped at once; {finished} of {self.total} runs finished; runs in flight "
            "will be played again next time",
            markup=False,
        )


def _finished_line(row: dict[str, Any], done: int, total: int) -> str:
    parts = [f"done {row.get('run_id', '?')}", f"{row.get('turns', '?')} turns"]
    if row.get("tom_accuracy") is not None:
        tom = f"ToM {row['tom_accuracy']:.2f}"
        if row.get("tom_false_belief") is not None:
            tom += f" (false-belief {row['tom_false_belief']:.2f})"
        parts.append(tom)
    for name, value in (row.get("rewards") or {}).items():
        parts.append(f"{name} {value:.2f}")
    parts.append(f"{row.get('wall_s', 0):.1f}s")
    parts.append(f"[{done}/{total}]")
    return "  ".join(parts)
