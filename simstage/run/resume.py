"""Resuming a run: continue an interrupted or failed run, appending to its own log."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console

from simstage.events import RunEnded
from simstage.run.log import RunLog, RunLogError, logged_scenario, read_runlog
from simstage.run.open import LogFile, RunSession, open_simulation, printer_for, stage_for_log
from simstage.run.verify import replay, reproducible
from simstage.scenario import LoadedScenario
from simstage.stage import Stage, StageError


def resumable_events(log: RunLog) -> tuple[list[Any], str]:
    """The events a resumed run continues from, and how the run had stopped.

    The run's end marker goes, and so does every event of its last turn, which
    is played again from its start: a turn's events are written one by one and a
    kill can fall between any two of them (after its line, before what the line
    did), so only a turn that a later one followed is known to have finished.

    Raises:
        RunLogError: the run completed; there is nothing to resume.
    """
    events = list(log.events)
    previous = "cut off"
    while events and isinstance(end := events[-1], RunEnded):
        events.pop()
        if end.reason == "completed":
            raise RunLogError(
                f"{log.path}: the run completed at turn {end.turn}; nothing to resume"
            )
        previous = end.reason + (f": {end.message}" if end.message else "")
    last = max((e.turn for e in events), default=0)
    if last == 0:
        return events, previous
    return [e for e in events if e.turn != last], previous


def restore_stage(
    log: RunLog,
    loaded: LoadedScenario,
    stage: Stage,
    kept: list[Any],
    console: Console | None = None,
) -> dict[str, int]:
    """Bring a stage whose answers depend on its earlier calls (`remembers_calls`) to where the
    run stopped, by playing the kept events again on it, as `replay --verify` will.

    The scripted stage numbers its lines; the llama stage's KV cache, decoded in other
    batches (a character's whole history at once), gives slightly different logits, so
    its seeded samplers can draw other tokens. A stage that answers each call from its
    prompt and seed alone (litellm) needs nothing.

    Returns:
        The stage sequence holding each seat's context (empty: the run opens its own).
        When the replay does not reproduce the kept events, they are dropped, the run
        goes on from the log, and a warning says it will not verify.
    """
    described = stage.describe()
    if not described.remembers_calls:
        return {}
    from simstage.terminal import printable

    wanted = reproducible(log, kept)
    if console is not None and wanted:
        console.print(
            f"[dim]restoring the {described.backend} stage: playing {len(wanted)} kept events again…[/]"
        )
    again = replay(log, loaded, stage, len(wanted))
    differs = next(
        (
            i
            for i, (a, b) in enumerate(zip(wanted, again.events, strict=False))
            if a.model_dump() != b.model_dump()
        ),
        None if len(again.events) == len(wanted) else min(len(wanted), len(again.events)),
    )
    if differs is None:
        return again.held_sequences()
    again.release_sequences()
    if console is not None:
        console.print(
            f"{printable(str(log.path))}: the {described.backend} stage played the kept events otherwise (event "
            f"{differs + 1} differs); the run goes on from its log, but replay --verify will not match",
            style="yellow",
            markup=False,
        )
    return {}


def _next_backup(path: Path) -> Path:
    for index in range(1, 10_000):
        candidate = path.with_name(f"{path.name}.before-resume-{index}")
        if not candidate.exists():
            return candidate
    raise StageError(f"too many backups of {path}")  # pragma: no cover


def _set_aside(path: Path, header: Any, events: list[Any], count: int) -> Path:
    """Keep the log as it is in a backup, then rewrite it with `header` and `events` only; return the backup.

    Both files are written whole or not at all (a temporary file, then a rename):
    on a full disk or a read-only file system the log is left as it was and no
    backup, empty or partial, is left behind.

    Raises:
        RunLogError: either file cannot be written; the message names the log and
            says it is unchanged (`count` events).
    """
    from simstage.report.files import atomic_replace, atomic_write_text

    backup = _next_backup(path)
    lines = [header.model_dump_json(), *(event.model_dump_json() for event in events)]
    try:
        data = path.read_bytes()
        atomic_replace(backup, lambda temporary: temporary.write_bytes(data))
    except OSError as exc:
        raise RunLogError(
            f"{path}: cannot resume: cannot write the backup {backup.name} ({exc.strerror or exc}); "
            f"the log is unchanged ({count} events)"
        ) from None
    try:
        atomic_write_text(path, "".join(line + "\n" for line in lines))
    except OSError as exc:
        backup.unlink(missing_ok=True)  # the log is as it was: the backup would only repeat it
        raise RunLogError(
            f"{path}: cannot resume: cannot rewrite the log ({exc.strerror or exc}); "
            f"it is unchanged ({count} events)"
        ) from None
    return backup


def _kept_in(backup: Path | None) -> str:
    return f"; the log as it was before resuming is {backup.name}" if backup else ""


@contextmanager
def resume_run(
    path: str | Path,
    *,
    threads: int | None = None,
    max_turns: int | None = None,
    console: Console | None = None,
) -> Iterator[RunSession]:
    """Continue an interrupted or failed run, appending to its own log.

    The scenario, stage, seed and turn count come from the log's header. When
    events of an unfinished turn (or a cut last line) must be set aside, or
    `max_turns` changes the header's, the log as it was is kept beside it as
    `RUN.jsonl.before-resume-N` first; the log itself is rewritten atomically, so
    a crash while resuming loses nothing.

    Raises:
        RunLogError: unreadable log, or a run that already completed.
        ScenarioError: the header's scenario is invalid.
        StageError: the stage cannot start.
    """
    from simstage.events import RunResumed

    path = Path(path)
    log = read_runlog(path)
    header = log.header
    loaded = logged_scenario(header)
    scenario = loaded.scenario
    events, previous = resumable_events(log)
    discarded = len(log.events) - len(events)
    stage = stage_for_log(log, loaded, threads=threads)
    try:
        backup = None
        turns = max_turns or header.max_turns
        played = max((event.turn for event in events), default=0)
        if turns < played:
            raise RunLogError(
                f"{path}: max_turns {turns} is before turn {played}, which the run has played"
            )
        if discarded or log.warnings or turns != header.max_turns:
            # The header says how long the run is: readers refuse turns past it.
            header = header.model_copy(update={"max_turns": turns})
            backup = _set_aside(path, header, events, len(log.events))
        held = restore_stage(log, loaded, stage, events, console)
        try:
            opened = open_simulation(
                scenario,
                stage,
                log=LogFile(path, header, "append", len(events)),
                events=events,
                sequences=held,
            )
        except RunLogError as exc:
            raise RunLogError(f"{exc}{_kept_in(backup)}") from None
        assert opened.sink is not None
        simulation, writer = opened.simulation, opened.sink.writer
        with writer:
            try:
                simulation.emit(
                    RunResumed(
                        turn=simulation.turn,
                        previous=previous,
                        discarded=discarded,
                        backup=str(backup) if backup else None,
                    )
                )
                yield RunSession(
                    loaded, stage, simulation, opened.sink, printer_for(simulation, console)
                )
            except RunLogError as exc:
                if writer.fault is None or backup is None:
                    raise
                raise RunLogError(f"{exc}{_kept_in(backup)}") from None
    finally:
        stage.close()
