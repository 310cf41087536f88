"""What the commands share: the stage options (--stage, --model, --threads, --api-base), a run's
overrides of its scenario, and the default log path."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict, cast

import click

from simstage.run.log import LONGEST_RUN
from simstage.stage import BACKENDS

if TYPE_CHECKING:
    from simstage.scenario.models import Scenario

TURNS = click.IntRange(1, LONGEST_RUN)
"""The type of every `--max-turns`: at least one turn, at most the longest run a log can hold."""

MODEL_HELP = (
    "Override the model: 'default', an embedded model's name (gemma3-270m), or a GGUF path "
    "(with --stage litellm: a litellm name such as openai/NAME)."
)


def stage_options(
    *, api_base: bool = False, threads: bool = True, model_help: str = MODEL_HELP
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Add `--stage BACKEND`, `--model M`, `--threads N` (and `--api-base URL`) to a command.

    The command receives them as `backend`, `model`, `threads` (and `api_base`).
    """
    options = [
        click.option(
            "--stage",
            "backend",
            type=click.Choice(list(BACKENDS)),
            help="Override the scenario's stage backend.",
        ),
        click.option("--model", help=model_help),
    ]
    if threads:
        options.append(
            click.option(
                "--threads",
                type=click.IntRange(1),
                help="CPU threads for the llama stage (default: all cores).",
            )
        )
    if api_base:
        options.append(
            click.option(
                "--api-base",
                "api_base",
                metavar="URL",
                help="Server URL for --stage litellm (e.g. http://127.0.0.1:8000/v1); recorded in the run log.",
            )
        )

    return lambda command: _add(command, *options)


def _a_file(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Refuse a name that can only be a folder (`new/`): opened as a file, it would lose the slash."""
    from simstage.report.files import names_folder

    if value is not None and names_folder(value):
        raise click.BadParameter(f"{value} names a folder, not a file", ctx, param)
    return value


def run_log_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add `--out FILE` and `--force` to a command that writes a run log (as `out`, `force`)."""
    return _add(
        command,
        click.option(
            "--out",
            type=click.Path(dir_okay=False),
            callback=_a_file,
            help="Run log to write (default: runs/NAME-TIME.jsonl).",
        ),
        click.option("--force", is_flag=True, help="Overwrite the run log if it exists."),
    )


def scene_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add `--seed N` and `--max-turns N`, overriding the scenario's (as `seed`, `max_turns`)."""
    return _add(
        command,
        click.option("--seed", type=int, help="Override the scenario's seed."),
        click.option("--max-turns", type=TURNS, help="Override the scenario's max_turns."),
    )


def out_file_option(help_text: str, *, required: bool = False) -> Callable[..., Any]:
    """`-o/--out FILE`: the one file a command writes (as `out`)."""
    return click.option(
        "-o", "--out", required=required, type=click.Path(dir_okay=False), help=help_text
    )


def folder_out_option(kind: str, default: str) -> Callable[..., Any]:
    """`--out DIR`: the folder of a sweep or battery (`kind`), `default/NAME-TIME/` unless given
    (as `out`); given the folder of the same one, the command finishes its missing runs."""
    return click.option(
        "--out",
        type=click.Path(file_okay=False),
        metavar="DIR",
        help=f"{kind.capitalize()} folder (default: {default}/NAME-TIME/). Given a folder of the "
        f"same {kind}, finishes its missing runs.",
    )


def run_log_option(flag: str, name: str, help_text: str) -> Callable[..., Any]:
    """`flag RUN.jsonl`: an option naming a recorded run's log (as `name`)."""
    return click.option(
        flag, name, type=click.Path(dir_okay=False), metavar="RUN.jsonl", help=help_text
    )


def _add(command: Callable[..., Any], *options: Callable[..., Any]) -> Callable[..., Any]:
    """`command` with `options`, listed in --help in the order given."""
    for option in reversed(options):
        command = option(command)
    return command


class RunOverrides(TypedDict, total=False):
    """What `simstage run` and `simstage tui` may override of a scenario (None: the scenario's own).

    The keywords of `simstage.run.open.open_run` they name.
    """

    backend: str | None
    model: str | None
    api_base: str | None
    seed: int | None
    threads: int | None
    max_turns: int | None


OVERRIDE_FLAGS = {
    "backend": "--stage",
    "model": "--model",
    "api_base": "--api-base",
    "seed": "--seed",
    "threads": "--threads",
    "max_turns": "--max-turns",
}
"""Each override's option on the command line."""


def given_overrides(overrides: RunOverrides) -> list[tuple[str, Any]]:
    """The overrides given, as (option, value), in `OVERRIDE_FLAGS`' order."""
    values: dict[str, Any] = dict(overrides)
    return [
        (flag, values[name])
        for name, flag in OVERRIDE_FLAGS.items()
        if values.get(name) is not None
    ]


def packs_overrides(command: Callable[..., Any]) -> Callable[..., Any]:
    """Hand `command` its override options (`--stage`, `--seed`...) as one `overrides` argument."""

    @functools.wraps(command)
    def packed(**params: Any) -> Any:
        overrides = cast(RunOverrides, {name: params.pop(name) for name in OVERRIDE_FLAGS})
        return command(overrides=overrides, **params)

    return packed


def default_log_path(scenario_path: Path) -> Path:
    """`runs/NAME-TIME.jsonl`."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path("runs") / f"{scenario_path.stem}-{stamp}.jsonl"


def warn_left_out(scenario: Scenario, max_turns: int | None) -> None:
    """Say on stderr what `--max-turns` leaves out of the scene: its later probes and timeline
    events (a shortened run is allowed; silently losing its probes is not)."""
    cut = None if max_turns is None else scenario.left_out(max_turns)
    if cut:
        from simstage.cli.errors import stderr_console

        stderr_console().print(
            f"warning: --max-turns {max_turns} leaves out {cut} of the scene", markup=False
        )


def refuse_latent_without_llama(backends: Iterable[str]) -> None:
    """Refuse `--latent` where a run would play on a stage other than llama's (it reads no
    activations): one line, exit 2, before anything is written."""
    other = sorted(set(backends) - {"llama"})
    if other:
        from simstage.cli.errors import fail

        fail(f"--latent reads the llama stage's activations; the {other[0]} stage has none")
