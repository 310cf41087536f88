"""What the commands share: the stage options (--stage, --model, --threads, --api-base) and the default log path."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from simstage.stage import BACKENDS

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

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed(options):
            command = option(command)
        return command

    return decorate


def default_log_path(scenario_path: Path) -> Path:
    """`runs/NAME-TIME.jsonl`."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path("runs") / f"{scenario_path.stem}-{stamp}.jsonl"
