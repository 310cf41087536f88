"""`simstage tui SCENARIO`: play a scene live in the terminal UI (textual imported only inside)."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Unpack

import click

from simstage.cli.errors import fail, friendly_errors
from simstage.cli.options import (
    RunOverrides,
    default_log_path,
    given_overrides,
    packs_overrides,
    run_log_options,
    scene_options,
    stage_options,
    warn_left_out,
)


def run_tui(
    scenario: str,
    *,
    out: str | None = None,
    force: bool = False,
    autorun: bool = False,
    **overrides: Unpack[RunOverrides],
) -> int:
    """Open the live TUI on SCENARIO; return the exit status (0 when quit cleanly)."""
    from simstage.run.open import open_run
    from simstage.tui.factory import live_app

    out_path = Path(out) if out else default_log_path(Path(scenario))
    with open_run(scenario, out_path, overwrite=force, **overrides) as session:
        app = live_app(session, autorun=autorun)
        try:
            app.run()
        finally:
            assert app.live is not None
            app.live.close()
        # Once the screen is back: the TUI's own screen would hide it.
        warn_left_out(session.loaded.scenario, overrides.get("max_turns"))
    click.echo(f"run log: {app.log_path} ({len(app.events)} events)")
    return 0


def replay_tui(runlog: str) -> int:
    """Open a finished or interrupted run log in the TUI, with a turn scrubber."""
    from simstage.tui import make_replay_app

    app = make_replay_app(runlog)
    for warning in app.warnings:
        click.echo(f"warning: {warning}", err=True)
    app.run()
    return 0


def pick_and_play() -> int:
    """`simstage` with no arguments: pick a scenario (scenarios/ and here), then play it."""
    from simstage.tui.screens import PickerApp, scenario_candidates

    choice = PickerApp(scenario_candidates([Path("scenarios"), Path(".")])).run()
    if choice is None:
        return 0
    return run_tui(str(choice))


def serve_web(argv: list[str], port: int) -> None:
    """Serve the same command through textual-serve, in a browser."""
    try:
        from textual_serve.server import Server
    except ImportError:
        fail("the web TUI needs textual-serve: pip install 'simstage[web]'")
        return
    command = shlex.join([sys.executable, "-m", "simstage", "tui", *argv])
    Server(command, port=port).serve()


@click.command()
@click.argument("scenario", type=click.Path(dir_okay=False))
@stage_options(api_base=True)
@run_log_options
@scene_options
@click.option("--run", "autorun", is_flag=True, help="Start playing at once instead of paused.")
@click.option("--web", is_flag=True, help="Serve the TUI in a browser (needs simstage[web]).")
@click.option("--port", type=int, default=8000, show_default=True, help="Port for --web.")
@friendly_errors
@packs_overrides
def tui(
    scenario: str,
    overrides: RunOverrides,
    out: str | None,
    force: bool,
    autorun: bool,
    web: bool,
    port: int,
) -> None:
    """Play SCENARIO live in the terminal UI.

    Space runs or pauses, n steps one turn, s speaks as a character, e injects
    a world event, p probes, f forks, ? lists every key, q quits (the run log
    records the interruption).
    """
    if web:
        argv = [scenario]
        for flag, value in [*given_overrides(overrides), ("--out", out)]:
            if value is not None:
                argv += [flag, str(value)]
        argv += [flag for flag, on in (("--force", force), ("--run", autorun)) if on]
        serve_web(argv, port)
        return
    raise SystemExit(run_tui(scenario, out=out, force=force, autorun=autorun, **overrides))
