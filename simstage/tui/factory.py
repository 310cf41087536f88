"""Factories for the app, shared by the CLI and the tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from simstage.run.open import RunSession, new_run
from simstage.scenario import LoadedScenario
from simstage.stage import ClosableStage
from simstage.tui.app import SimstageApp
from simstage.tui.live import LiveRun


def make_app(
    loaded: LoadedScenario,
    stage: ClosableStage,
    out: str | Path,
    *,
    autorun: bool = False,
    **run: Any,
) -> SimstageApp:
    """A live app on a new run log (`simstage.run.open.new_run`); the tests' way in.

    Close the run with `app.live.close()` after the app exits.

    Args:
        loaded: the scenario.
        stage: the model.
        out: the run log to write.
        autorun: start playing at once.
        **run: `seed`, `max_turns`, `overwrite`, as `simstage.run.open.new_run` takes them.

    Raises:
        StageError: the run log exists or cannot be written.
    """
    return live_app(new_run(loaded, stage, out, **run), autorun=autorun)


def live_app(session: RunSession, *, autorun: bool = False) -> SimstageApp:
    """A live app over an open run (`simstage.run.open.open_run`, as the CLI opens it): wire the panes.

    Close the run with `app.live.close()` after the app exits.
    """
    live = LiveRun(session)
    stage = session.stage
    described = stage.describe()
    app = SimstageApp(
        session.loaded.scenario,
        live=live,
        backend=described.backend,
        model=described.model,
        log_path=str(session.writer.path),
        max_turns=live.simulation.max_turns,
    )
    if autorun:
        live.play()
        app.state = "running"
    return app


def make_replay_app(path: str | Path) -> SimstageApp:
    """An app over a finished or interrupted run log (no model).

    Raises:
        RunLogError: the log cannot be read.
    """
    from simstage.run.log import logged_scenario, read_runlog

    log = read_runlog(path)
    loaded = logged_scenario(log.header)
    app = SimstageApp(
        loaded.scenario,
        events=log.events,
        backend=log.header.stage.backend,
        model=log.header.stage.model,
        log_path=str(path),
        max_turns=log.header.max_turns,
    )
    app.warnings = list(log.warnings)
    if not log.ended:
        app.state = "replay (cut off)"
    return app
