"""Helpers for the TUI tests: polling the app, finished run logs, tracker presence."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from simstage.engine import Simulation
from simstage.run.log import RunLogWriter
from simstage.run.open import make_header
from simstage.scenario import load_scenario
from simstage.stage.scripted import ScriptedStage

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


def tracker_available() -> bool:
    """Whether simstage.tom.tracker has landed."""
    try:
        import simstage.tom.tracker  # noqa: F401 - only whether it imports
    except ImportError:
        return False
    return True


needs_tracker = pytest.mark.skipif(
    not tracker_available(), reason="simstage.tom.tracker is not there yet (issue: ToM tracker)"
)


async def wait_for(pilot, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    """Let the app run until `predicate()` holds (fails the test after `timeout` seconds)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the app")
        await pilot.pause(0.01)


async def wait_idle(pilot) -> None:
    """Wait until the stage thread has nothing queued or running, and the UI caught up."""
    app = pilot.app
    live = app.live
    await wait_for(pilot, lambda: live.jobs.empty() and not live.busy)
    await asyncio.sleep(0.05)
    await pilot.pause()


def write_finished_run(
    path: Path, scenario: str = "sally-anne.yaml", stop_after: int | None = None
) -> Path:
    """Play a scenario on the scripted stage into a run log (all turns, or `stop_after` then interrupt)."""
    loaded = load_scenario(SCENARIOS / scenario)
    stage = ScriptedStage()
    header = make_header(loaded, stage, loaded.scenario.seed, loaded.scenario.max_turns)
    with RunLogWriter(path, header, overwrite=True) as writer:
        simulation = Simulation(loaded.scenario, stage, sink=writer.append)
        if stop_after is None:
            simulation.run()
        else:
            for _ in range(stop_after):
                simulation.step()
            simulation.finish("interrupted", "stopped by the user")
    return path
