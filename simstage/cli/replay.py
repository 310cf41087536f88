"""`simstage replay`: a run log's transcript and final world, without a model; `--verify` re-runs it."""

from __future__ import annotations

import click
from rich.console import Console

from simstage.cli.errors import fail, friendly_errors, header_scenario_problem, stderr_console


@click.command()
@click.argument("runlog", type=click.Path(dir_okay=False))
@click.option(
    "--verify",
    is_flag=True,
    help="Re-run the scene with the same model and seed; report whether every event matches.",
)
@click.option(
    "--threads", type=click.IntRange(1), help="CPU threads for the llama stage (--verify)."
)
@click.option("--tui", "tui", is_flag=True, help="Open the run in the TUI, with a turn scrubber.")
@friendly_errors
def replay(runlog: str, verify: bool, threads: int | None, tui: bool) -> None:
    """Render a run log's transcript and final world, without a model.

    Works on interrupted runs too: everything up to the last whole event.
    """
    if tui:
        from simstage.cli.tui import replay_tui

        raise SystemExit(replay_tui(runlog))
    from simstage.render import TranscriptPrinter, shown, world_summary
    from simstage.run.log import logged_scenario, read_runlog
    from simstage.scenario import ScenarioError
    from simstage.terminal import printable
    from simstage.world import fold_world

    log = read_runlog(runlog)
    try:
        loaded = logged_scenario(log.header)
    except ScenarioError as exc:
        fail(header_scenario_problem(runlog, exc.problems))
    scenario = loaded.scenario
    console = Console(highlight=False, emoji=False)
    header = log.header
    console.print(
        f"[bold]{shown(scenario.title)}[/] — {shown(header.stage.backend)} stage, model {shown(header.stage.model)}, "
        f"seed {header.seed}, recorded {shown(header.created)}"
    )
    printer = TranscriptPrinter(console, scenario, spinner=False)
    for event in log.events:
        printer.on_event(event)
    for warning in log.warnings:
        stderr_console().print(f"warning: {printable(warning)}", markup=False)
    if not log.ended:
        console.print("[yellow]the run did not record its end (cut off)[/]")
    console.rule("[dim]world[/]", style="dim")
    for line in world_summary(fold_world(scenario, log.events)):
        console.print(printable(line), markup=False)
    if verify:
        from simstage.run.verify import verify_run

        report = verify_run(log, threads=threads, console=console)
        console.print(printable(report.message), markup=False)
        if not report.matched:
            raise SystemExit(1)
