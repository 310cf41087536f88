"""`simstage run`: play a scenario (or resume a run) and write its run log."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from simstage.cli.errors import fail, friendly_errors, sigterm_as_interrupt, stderr_console
from simstage.cli.options import (
    RunOverrides,
    default_log_path,
    given_overrides,
    packs_overrides,
    refuse_latent_without_llama,
    run_log_option,
    run_log_options,
    scene_options,
    stage_options,
    warn_left_out,
)


@click.command()
@click.argument("scenario", required=False, type=click.Path(dir_okay=False))
@run_log_option(
    "--resume",
    "resume",
    "Continue an interrupted or failed run, appending to its log (the scenario, stage and seed come from the log).",
)
@click.option(
    "--headless",
    is_flag=True,
    help="Print the transcript instead of opening the TUI (the default when not in a terminal).",
)
@run_log_options
@stage_options(api_base=True)
@scene_options
@click.option(
    "--interactive",
    is_flag=True,
    help="Steer from the keyboard: pick speakers, write lines, inject events (stdin).",
)
@click.option(
    "--latent",
    is_flag=True,
    help="Capture the stage's residual stream at each probe into RUN.latent.f32 beside the log (the scenario's latent: settings, or every layer); headless; llama stage only.",
)
@friendly_errors
@packs_overrides
def run(
    scenario: str | None,
    overrides: RunOverrides,
    resume: str | None,
    headless: bool,
    out: str | None,
    force: bool,
    interactive: bool,
    latent: bool,
) -> None:
    """Play SCENARIO and write its run log.

    In a terminal this opens the TUI, playing at once; with --headless (or when
    not in a terminal) the transcript is printed as the scene plays. Ctrl-C stops the run cleanly:
    the log keeps every event so far and records the interruption. When the stage
    fails mid-run (a server goes away), the log keeps everything up to the failure
    and `simstage run --resume RUN.jsonl` continues it, headless.
    """
    from simstage.run.open import open_run

    if resume is not None:
        if scenario is not None:
            fail("give either SCENARIO or --resume RUN.jsonl, not both")
        ignored = [
            ("--out", out),
            ("--force", force),
            *given_overrides(overrides),
            ("--interactive", interactive),
            ("--latent", latent),
        ]
        applies = ("--threads", "--max-turns")
        given = [
            flag for flag, value in ignored if value not in (None, False) and flag not in applies
        ]
        if given:
            fail(
                f"--resume takes the run's settings from its log; {', '.join(given)} cannot change "
                "them (only --threads and --max-turns apply)"
            )
        _resume(resume, threads=overrides.get("threads"), max_turns=overrides.get("max_turns"))
        return
    if scenario is None:
        fail("missing SCENARIO (or --resume RUN.jsonl); see simstage run --help")
    if latent:
        from simstage.scenario import load_scenario

        refuse_latent_without_llama(
            [overrides.get("backend") or load_scenario(scenario).scenario.stage.backend]
        )
    if not headless and not interactive and not latent:
        if sys.stdin.isatty() and sys.stdout.isatty():
            from simstage.cli.tui import run_tui

            raise SystemExit(run_tui(scenario, out=out, force=force, autorun=True, **overrides))
        stderr_console().print("simstage: not a terminal; playing headless", markup=False)
    out_path = Path(out) if out else default_log_path(Path(scenario))
    console = Console(highlight=False, emoji=False)
    with (
        sigterm_as_interrupt(),
        open_run(
            scenario,
            out_path,
            overwrite=force,
            console=console,
            interactive=interactive,
            latent=latent,
            **overrides,
        ) as session,
    ):
        warn_left_out(session.loaded.scenario, overrides.get("max_turns"))
        _warn_no_capture(session)
        _play(session, console, f"run log: {out_path} ({{count}} events)")


def _resume(path: str, *, threads: int | None, max_turns: int | None) -> None:
    from simstage.render import shown
    from simstage.run.resume import resume_run

    console = Console(highlight=False, emoji=False)
    with (
        sigterm_as_interrupt(),
        resume_run(path, threads=threads, max_turns=max_turns, console=console) as session,
    ):
        warn_left_out(session.loaded.scenario, max_turns)
        console.print(
            f"[dim]resuming {shown(path)} at turn {session.simulation.turn + 1} of {session.simulation.max_turns}[/]"
        )
        _play(session, console, f"run log: {path} (+{{count}} events)")


def _warn_no_capture(session: Any) -> None:
    """Say on stderr when the scene asks for activations (`latent:`, `--latent`) that the stage cannot read."""
    from simstage.stage.abilities import LatentReader

    if session.loaded.scenario.latent is not None and session.stage.ability(LatentReader) is None:
        backend = session.stage.describe().backend
        stderr_console().print(
            f"warning: the {backend} stage reads no activations: this run captures none "
            "(latent capture needs the llama stage)",
            markup=False,
        )


def _play(session: Any, console: Console, done: str) -> None:
    """Play a headless session to its end; exit 130 when Ctrl-C stopped it."""
    from simstage.terminal import printable

    try:
        result = session.simulation.run()
    finally:
        session.printer.close()
    console.print(printable(done.format(count=session.writer.count)), style="dim", markup=False)
    if result == "interrupted":
        raise SystemExit(130)
