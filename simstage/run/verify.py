"""Verifying a run: re-run a logged scene with the same model and seed, compare every event."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rich.console import Console

from simstage.engine import Simulation
from simstage.run.log import RunLog, logged_scenario
from simstage.run.open import open_simulation, stage_for_log
from simstage.scenario import LoadedScenario


@dataclass(frozen=True)
class VerifyReport:
    """Whether a re-run reproduced a log."""

    matched: bool
    compared: int
    message: str


def _comparable(event: Any) -> dict[str, Any]:
    return event.model_dump()


def reproducible(log: RunLog, events: Sequence[Any] | None = None) -> list[Any]:
    """The log's events (or `events` of it) a re-run plays again: all but its ends and resumptions."""
    return [
        e
        for e in (log.events if events is None else events)
        if e.type not in ("run_ended", "run_resumed")
    ]


def replay(log: RunLog, loaded: LoadedScenario, stage: Any, upto: int) -> Simulation:
    """The scene of `log` played again on `stage` with its seed, in memory, until it ends or has `upto` events.

    Activations, where the run captured them, are re-read and given their digests; nothing is written.
    """
    header = log.header
    simulation = open_simulation(
        loaded.scenario, stage, seed=header.seed, max_turns=header.max_turns
    ).simulation
    while not simulation.done and len(simulation.events) < upto:
        simulation.step()
    return simulation


def replay_events(log: RunLog, loaded: LoadedScenario, stage: Any, upto: int) -> list[Any]:
    """The events of `replay`."""
    return replay(log, loaded, stage, upto).events


def verify_run(
    log: RunLog, *, threads: int | None = None, console: Console | None = None
) -> VerifyReport:
    """Re-run a logged scene with the same model and seed and compare every event.

    Raises:
        StageError: the model is missing or is not the one the log names.
    """
    header = log.header
    loaded = logged_scenario(header)
    backend = header.stage.backend
    stage = stage_for_log(log, loaded, threads=threads)
    try:
        original = reproducible(log)
        if console is not None:
            console.print(
                f"[dim]verifying: re-running {len(original)} events on the {backend} stage…[/]"
            )
        replayed = replay_events(log, loaded, stage, len(original))
        for index, expected in enumerate(original):
            if index >= len(replayed):
                return VerifyReport(
                    False, index, f"verify: MISMATCH — the re-run stopped after {index} events"
                )
            if _comparable(expected) != _comparable(replayed[index]):
                return VerifyReport(
                    False,
                    index,
                    f"verify: MISMATCH at event {index + 1} (log line {index + 2}):\n"
                    f"  logged:   {expected.model_dump_json()}\n"
                    f"  re-run:   {replayed[index].model_dump_json()}",
                )
        return VerifyReport(True, len(original), f"verify: match ({len(original)} events)")
    finally:
        stage.close()
