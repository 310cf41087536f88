"""The command line: `simstage validate|schema|run|replay`.

Bad input (a broken scenario, a missing model, a corrupt run log) is one clear
line per problem on stderr and exit status 2, never a traceback. The TUI is
imported only inside the commands that open it.
"""

from __future__ import annotations

import functools
import json
import signal
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console

from simstage import __version__

F = TypeVar("F", bound=Callable[..., Any])

EXIT_BAD_INPUT = 2


def _stderr() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)


def fail(message: str, code: int = EXIT_BAD_INPUT) -> None:
    """Print `simstage: message` on stderr (one such line per line of it) and exit."""
    from rich.text import Text

    console = _stderr()
    # Messages quote file names and file contents: never parse them as markup.
    for line in message.splitlines() or [""]:
        console.print(Text.assemble(("simstage:", "bold red"), " ", line))
    raise SystemExit(code)


def friendly_errors(function: F) -> F:
    """Turn the project's input errors into one-line messages and exit status 2."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from simstage.run.log import RunLogError
        from simstage.scenario import ScenarioError
        from simstage.stage import StageError
        from simstage.sweep import SweepError

        try:
            return function(*args, **kwargs)
        except ScenarioError as exc:
            console = _stderr()
            for problem in exc.problems:
                console.print(str(problem), markup=False)
            raise SystemExit(EXIT_BAD_INPUT) from None
        except (StageError, RunLogError, SweepError) as exc:
            fail(str(exc))
        except BrokenPipeError:
            raise SystemExit(0) from None

    return wrapper  # type: ignore[return-value]


@click.group(
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    invoke_without_command=True,
)
@click.version_option(__version__, prog_name="simstage")
@click.pass_context
def main(ctx: click.Context) -> None:
    """simstage: one language model plays every character of a scene.

    A scenario file (YAML) sets the world, the cast, scripted events and belief
    probes. `simstage run` plays it on the stage (by default the embedded
    SmolLM2-135M model, in process) and writes every event to a run log (JSONL)
    that `simstage replay` renders again without a model.

    \b
    Examples:
      simstage validate scenarios/
      simstage run scenarios/sally-anne.yaml --headless --out run.jsonl
      simstage replay run.jsonl
      simstage replay run.jsonl --verify
      simstage tui scenarios/sally-anne.yaml
      simstage            (no arguments: pick a scenario in the TUI)
    """
    if ctx.invoked_subcommand is None:
        from simstage.commands.tui import pick_and_play

        raise SystemExit(pick_and_play())


def _scenario_files(paths: tuple[str, ...]) -> list[Path]:
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml")))
        else:
            files.append(path)
    return files


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
def validate(paths: tuple[str, ...]) -> None:
    """Check scenario files (or every .yaml in a folder).

    Prints one line per problem as FILE:LINE:COL: field.path: message and exits
    with status 2 if any file has a problem; exits 0 when all are valid.
    """
    from simstage.scenario import ScenarioError, load_scenario

    files = _scenario_files(paths)
    if not files:
        fail("no scenario files found in " + ", ".join(paths))
    console = _stderr()
    bad = 0
    for path in files:
        try:
            load_scenario(path)
        except ScenarioError as exc:
            bad += 1
            for problem in exc.problems:
                console.print(str(problem), markup=False)
    if bad:
        console.print(f"{bad} of {len(files)} scenario files have problems", markup=False)
        raise SystemExit(EXIT_BAD_INPUT)
    click.echo(f"{len(files)} scenario file{'s' if len(files) != 1 else ''} valid")


@main.command()
def schema() -> None:
    """Print the JSON schema of scenario files."""
    from simstage.scenario import scenario_json_schema

    click.echo(json.dumps(scenario_json_schema(), indent=2))


def _default_out(scenario_path: Path) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path("runs") / f"{scenario_path.stem}-{stamp}.jsonl"


def _sigterm_as_interrupt() -> None:
    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


@main.command()
@click.argument("scenario", required=False, type=click.Path(dir_okay=False))
@click.option("--resume", "resume", type=click.Path(dir_okay=False), metavar="RUN.jsonl", help="Continue an interrupted or failed run, appending to its log (the scenario, stage and seed come from the log).")
@click.option("--headless", is_flag=True, help="Print the transcript instead of opening the TUI (the default when not in a terminal).")
@click.option("--out", "out", type=click.Path(dir_okay=False), help="Run log to write (default: runs/NAME-TIME.jsonl).")
@click.option("--force", is_flag=True, help="Overwrite the run log if it exists.")
@click.option("--stage", "backend", type=click.Choice(["llama", "litellm", "scripted"]), help="Override the scenario's stage backend.")
@click.option("--model", help="Override the model: 'default', an embedded model's name, or a GGUF path (with --stage litellm: a litellm name such as openai/NAME).")
@click.option("--api-base", "api_base", metavar="URL", help="Server URL for --stage litellm (e.g. http://127.0.0.1:8000/v1); recorded in the log, so --resume finds it.")
@click.option("--seed", type=int, help="Override the scenario's seed.")
@click.option("--max-turns", type=click.IntRange(1), help="Override the scenario's max_turns.")
@click.option("--threads", type=click.IntRange(1), help="CPU threads for the llama stage.")
@click.option("--interactive", is_flag=True, help="Steer from the keyboard: pick speakers, write lines, inject events (stdin).")
@friendly_errors
def run(
    scenario: str | None,
    resume: str | None,
    headless: bool,
    out: str | None,
    force: bool,
    backend: str | None,
    model: str | None,
    api_base: str | None,
    seed: int | None,
    max_turns: int | None,
    threads: int | None,
    interactive: bool,
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
        ignored = {
            "--out": out, "--force": force, "--stage": backend, "--model": model,
            "--api-base": api_base, "--seed": seed, "--interactive": interactive,
        }
        given = [name for name, value in ignored.items() if value not in (None, False)]
        if given:
            fail(
                f"--resume takes the run's settings from its log; {', '.join(given)} cannot change "
                "them (only --threads and --max-turns apply)"
            )
        _resume(resume, threads=threads, max_turns=max_turns)
        return
    if scenario is None:
        fail("missing SCENARIO (or --resume RUN.jsonl); see simstage run --help")
    if not headless and not interactive:
        if sys.stdin.isatty() and sys.stdout.isatty():
            from simstage.commands.tui import run_tui

            raise SystemExit(
                run_tui(
                    scenario, backend=backend, model=model, out=out, force=force, seed=seed,
                    max_turns=max_turns, threads=threads, autorun=True, api_base=api_base,
                )
            )
        _stderr().print("simstage: not a terminal; playing headless", markup=False)
    out_path = Path(out) if out else _default_out(Path(scenario))
    if out_path.exists() and not force:
        fail(f"{out_path} exists; choose another --out or pass --force to overwrite it")
    console = Console(highlight=False, emoji=False)
    _sigterm_as_interrupt()
    with open_run(
        scenario, out_path, backend=backend, model=model, seed=seed, max_turns=max_turns,
        threads=threads, overwrite=force, console=console, interactive=interactive, api_base=api_base,
    ) as session:
        _play(session, console, f"run log: {out_path} ({{count}} events)")


def _resume(path: str, *, threads: int | None, max_turns: int | None) -> None:
    from simstage.run.resume import resume_run

    console = Console(highlight=False, emoji=False)
    _sigterm_as_interrupt()
    with resume_run(path, threads=threads, max_turns=max_turns, console=console) as session:
        console.print(
            f"[dim]resuming {path} at turn {session.simulation.turn + 1} of {session.simulation.max_turns}[/]"
        )
        _play(session, console, f"run log: {path} (+{{count}} events)")


def _play(session: Any, console: Console, done: str) -> None:
    """Play a headless session to its end; exit 130 when Ctrl-C stopped it."""
    try:
        result = session.simulation.run()
    finally:
        session.printer.close()
    console.print(done.format(count=session.writer.count), style="dim", markup=False)
    if result == "interrupted":
        raise SystemExit(130)


@main.command()
@click.argument("runlog", type=click.Path(dir_okay=False))
@click.option("--verify", is_flag=True, help="Re-run the scene with the same model and seed; report whether every event matches.")
@click.option("--threads", type=click.IntRange(1), help="CPU threads for the llama stage (--verify).")
@click.option("--tui", "tui", is_flag=True, help="Open the run in the TUI, with a turn scrubber.")
@friendly_errors
def replay(runlog: str, verify: bool, threads: int | None, tui: bool) -> None:
    """Render a run log's transcript and final world, without a model.

    Works on interrupted runs too: everything up to the last whole event.
    """
    if tui:
        from simstage.commands.tui import replay_tui

        raise SystemExit(replay_tui(runlog))
    from simstage.render import TranscriptPrinter, world_summary
    from simstage.run.log import logged_scenario, read_runlog
    from simstage.world import fold_world

    log = read_runlog(runlog)
    loaded = logged_scenario(log.header)
    scenario = loaded.scenario
    console = Console(highlight=False, emoji=False)
    header = log.header
    console.print(
        f"[bold]{scenario.title}[/] — {header.stage.backend} stage, model {header.stage.model}, "
        f"seed {header.seed}, recorded {header.created}"
    )
    printer = TranscriptPrinter(console, scenario, spinner=False)
    for event in log.events:
        printer.on_event(event)
    for warning in log.warnings:
        _stderr().print(f"warning: {warning}", markup=False)
    if not log.ended:
        console.print("[yellow]the run did not record its end (cut off)[/]")
    console.rule("[dim]world[/]", style="dim")
    for line in world_summary(fold_world(scenario, log.events)):
        console.print(line)
    if verify:
        from simstage.run.verify import verify_run

        report = verify_run(log, threads=threads, console=console)
        console.print(report.message)
        if not report.matched:
            raise SystemExit(1)


from simstage.commands import register_all  # noqa: E402

register_all(main)


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
