"""`simstage`: the root of the command line; each command lives in a module of this package."""

from __future__ import annotations

import sys
from typing import Any

import click

from simstage import __version__
from simstage.cli.battery import battery
from simstage.cli.bench import bench
from simstage.cli.cards import card_group
from simstage.cli.compare import compare
from simstage.cli.generate import generate
from simstage.cli.latent import latent_group
from simstage.cli.prompt import prompt
from simstage.cli.replay import replay
from simstage.cli.report import report
from simstage.cli.run import run
from simstage.cli.sweep import sweep
from simstage.cli.tom import bench_tracker, eval_group, export
from simstage.cli.tui import tui
from simstage.cli.validate import schema, validate


class RootGroup(click.Group):
    """The root group: every command, and --help, prints to a guarded stdout (`cli/stdout.py`)."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        """Run the command line; a full stdout is one line and exit 2, a closed pipe exit 0."""
        from simstage.cli.stdout import guarded_stdout

        with guarded_stdout():
            return super().main(*args, **kwargs)


@click.group(
    cls=RootGroup,
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
        from simstage.cli.tui import pick_and_play

        raise SystemExit(pick_and_play())


for command in (
    validate,
    schema,
    run,
    replay,
    tui,
    export,
    eval_group,
    compare,
    sweep,
    report,
    prompt,
    card_group,
    bench,
    bench_tracker,
    latent_group,
    generate,
    battery,
):
    main.add_command(command)


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
