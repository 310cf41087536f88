"""Playing a sweep's runs: one run on a fresh stage, and a pool that plays many at once.

A run is finished when its log is complete and its row is written (atomically,
after the log is closed); anything less is redone from scratch next time. Each
run steps its simulation itself, so a stop flag ends in-flight runs between
turns with a clean `interrupted` record in their logs.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from simstage.stage import StageError
from simstage.stage.abilities import counters
from simstage.stage.base import ClosableStage, StageCounters
from simstage.sweep.plan import PlannedRun
from simstage.sweep.table import make_row, write_row

if TYPE_CHECKING:
    from simstage.run.open import RunSession

CONCURRENT_BACKENDS = ("litellm", "scripted")
"""Backends whose runs may play at once: a remote engine serves them, or nothing heavy does."""
DEFAULT_CONCURRENCY = 4

Status = Literal["finished", "failed", "interrupted", "skipped"]


@dataclass(frozen=True)
class RunOutcome:
    """How one run went: `finished` (row written), `failed` (a stage error), `interrupted`, `skipped`."""

    run: PlannedRun
    status: Status
    row: dict[str, Any] | None = None
    message: str = ""


def log_name(run: PlannedRun) -> str:
    """The run log's file name in the sweep folder."""
    return f"{run.run_id}.jsonl"


def play_run(
    run: PlannedRun,
    out: Path,
    stop: threading.Event,
    *,
    max_turns: int | None = None,
    threads: int | None = None,
    loaded_stage: Callable[[PlannedRun], ClosableStage] | None = None,
) -> RunOutcome:
    """Play one run on a fresh stage, write its log (from scratch) and then its row.

    With `loaded_stage`, the run plays on the stage it gives instead (a battery's model,
    loaded once and restarted between runs), which stays open; the run's sequences are
    dropped when it ends, and its row counts only the tokens it spent.

    A `StageError` (the stage cannot start, a server is unreachable) ends the run's
    log with an `error` record and returns `failed`, with no row, so the next
    sweep retries it. Any other exception also ends the log, then propagates.
    """
    from simstage.run.open import open_run

    if stop.is_set():
        return RunOutcome(run, "skipped")
    log_path = out / log_name(run)
    try:
        if loaded_stage is None:
            opened = open_run(
                run.variant.loaded,
                log_path,
                seed=run.seed,
                max_turns=max_turns,
                threads=threads,
                overwrite=True,
            )
        else:
            opened = _on_stage(loaded_stage(run), run, log_path, max_turns)
        with opened as session:
            simulation = session.simulation
            before = counters(session.stage)
            spent_before = StageCounters(before.prompt_tokens, before.generated_tokens)
            started = time.perf_counter()
            try:
                result = simulation.run(stop=stop, stopped="the sweep was stopped")
            except StageError:
                raise  # `run` recorded it
            except Exception as exc:
                simulation.finish("error", f"{type(exc).__name__}: {exc}")
                raise
            if result == "interrupted":
                return RunOutcome(run, "interrupted")
            wall_s = time.perf_counter() - started
            after = counters(session.stage)
            spent = StageCounters(
                after.prompt_tokens - spent_before.prompt_tokens,
                after.generated_tokens - spent_before.generated_tokens,
            )
            row = make_row(
                run,
                simulation.events,
                spent,
                turns=simulation.turn,
                wall_s=wall_s,
                log=log_name(run),
            )
    except StageError as exc:
        return RunOutcome(run, "failed", message=str(exc))
    # The log is closed (and synced) before the row exists: a row always means a whole log.
    write_row(out, row)
    return RunOutcome(run, "finished", row)


@contextlib.contextmanager
def _on_stage(
    stage: ClosableStage, run: PlannedRun, log_path: Path, max_turns: int | None
) -> Iterator[RunSession]:
    """A run on a stage already loaded: its log closed and its sequences dropped at the end; the stage left open."""
    from simstage.run.open import new_run

    session = new_run(
        run.variant.loaded, stage, log_path, seed=run.seed, max_turns=max_turns, overwrite=True
    )
    try:
        yield session
    finally:
        session.writer.close()
        with contextlib.suppress(StageError):
            session.simulation.release_sequences()


def pool_size(backends: Sequence[str], requested: int | None) -> tuple[int, str | None]:
    """How many runs may play at once, with a note when the request was lowered.

    The in-process llama stage plays one run at a time: a second model on the same
    cores only slows both.
    """
    if any(backend not in CONCURRENT_BACKENDS for backend in backends):
        if requested is not None and requested > 1:
            return 1, (
                "--concurrency 1: the llama stage runs the model in this process, "
                "and two models on the same cores only slow each other"
            )
        return 1, None
    return (requested or DEFAULT_CONCURRENCY), None


class SweepInterrupted(Exception):
    """Ctrl-C a second time: the sweep stopped without waiting for in-flight turns."""


def run_pool(
    runs: Sequence[PlannedRun],
    play: Callable[[PlannedRun, threading.Event], RunOutcome],
    *,
    concurrency: int,
    on_outcome: Callable[[RunOutcome], None],
    on_stopping: Callable[[], None] = lambda: None,
) -> bool:
    """Play `runs` on `concurrency` threads; `on_outcome` hears each one in this (the main) thread.

    Ctrl-C sets the stop flag: runs not started are skipped and in-flight runs end
    after their current turn (`on_stopping` is told once). A second Ctrl-C raises
    `SweepInterrupted` at once.

    Returns:
        True when the sweep was stopped by Ctrl-C.

    Raises:
        SweepInterrupted: Ctrl-C twice.
        Exception: whatever a run raised other than a `StageError` (a bug, or a
            `SimstageError` such as a full disk), or `on_outcome` raised; the other runs
            are stopped first, and those in flight end after their current turn.
    """
    stop = threading.Event()
    pool = ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="sweep-run")
    pending: set[Future[RunOutcome]] = {pool.submit(play, run, stop) for run in runs}
    interrupted = False
    try:
        while pending:
            try:
                done, _ = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                for future in done:
                    pending.discard(future)
                    if not future.cancelled():
                        on_outcome(future.result())
            except KeyboardInterrupt:
                if interrupted:
                    raise SweepInterrupted from None
                interrupted = True
                stop.set()
                on_stopping()
    except BaseException as exc:
        stop.set()
        # A failure (a full disk) waits for the runs in flight to end their turn, so nothing is
        # left half-written; Ctrl-C twice does not wait.
        quit_now = isinstance(exc, SweepInterrupted | KeyboardInterrupt)
        pool.shutdown(wait=not quit_now, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return interrupted


GIVE_UP_AFTER = 3
"""Stop a sweep whose first this-many runs all failed: the stage is down, not one run unlucky."""

TABLE_EVERY_S = 1.0
"""Rebuild the table after a finished run at most this often (and always at the end):
a sweep of thousands of quick runs would otherwise spend its time rewriting it."""

Ending = Literal["played", "stopped", "gave_up"]


def gives_up(failed: int, finished: int) -> bool:
    """Whether a sweep stops: `failed` runs failed and none `finished` since it started."""
    return failed >= GIVE_UP_AFTER and finished == 0


class _GaveUp(Exception):
    """Every run so far failed."""


class SweepListener(Protocol):
    """What a sweep's display hears; every call comes from the main thread but `run_started`/`run_ended`."""

    def run_started(self, run: PlannedRun) -> None:
        """A run begins playing (on its worker thread)."""

    def run_ended(self, run: PlannedRun) -> None:
        """A run stops playing, however it went (on its worker thread)."""

    def heard(self, outcome: RunOutcome, finished: int) -> None:
        """A run finished (its row is in the table's rows, `finished` of them) or failed."""

    def stopping(self) -> None:
        """Ctrl-C: the runs in flight end after their current turn."""

    def quitting(self, finished: int) -> None:
        """Ctrl-C again: the process exits at once, with `finished` rows in the table."""


def play_pending(
    plan: Any,
    folder: Path,
    pending: Sequence[PlannedRun],
    rows: dict[str, Any],
    failures: list[RunOutcome],
    listener: SweepListener,
    *,
    concurrency: int,
    max_turns: int | None = None,
    threads: int | None = None,
    play_one: Callable[[PlannedRun, Path, threading.Event], RunOutcome] | None = None,
) -> Ending:
    """Play a sweep's pending runs, adding each finished row to `rows` and each failure to `failures`.

    Each run plays through `play_one` (a battery's: on its model's loaded stage), or `play_run`.

    The table is rebuilt as rows come (at most every `TABLE_EVERY_S`). The sweep gives up
    when its first `GIVE_UP_AFTER` runs all fail (`gives_up`). Ctrl-C once stops it after
    the turns in flight (`stopped`); a second time writes the table and exits the process
    with status 130 at once: the worker threads may be mid-turn and would hold up a normal
    exit, and nothing is lost, since a run's row is written only after its whole log.

    Returns:
        `played`, `stopped` (Ctrl-C) or `gave_up`.
    """
    import os
    import sys

    from simstage.sweep.table import write_results

    finished_before = len(rows)
    last_table = [0.0]

    def play(run: PlannedRun, stop: threading.Event) -> RunOutcome:
        listener.run_started(run)
        try:
            if play_one is not None:
                return play_one(run, folder, stop)
            return play_run(run, folder, stop, max_turns=max_turns, threads=threads)
        finally:
            listener.run_ended(run)

    def heard(outcome: RunOutcome) -> None:
        if outcome.status == "finished" and outcome.row is not None:
            rows[outcome.run.run_id] = outcome.row
            if time.monotonic() - last_table[0] >= TABLE_EVERY_S:
                write_results(folder, plan, rows)
                last_table[0] = time.monotonic()
            listener.heard(outcome, len(rows))
        elif outcome.status == "failed":
            failures.append(outcome)
            listener.heard(outcome, len(rows))
            if gives_up(len(failures), len(rows) - finished_before):
                raise _GaveUp

    try:
        stopped = run_pool(
            pending, play, concurrency=concurrency, on_outcome=heard, on_stopping=listener.stopping
        )
    except _GaveUp:
        return "gave_up"
    except SweepInterrupted:
        write_results(folder, plan, rows)
        listener.quitting(len(rows))
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(130)
    return "stopped" if stopped else "played"
