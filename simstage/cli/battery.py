"""`simstage battery BATTERY.yaml`: scenes × models × puppeteers × styles × seeds, one folder, one load per model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from simstage.cli.errors import friendly_errors, stopping_exits_130
from simstage.cli.options import folder_out_option


@click.command()
@click.argument("battery_file", metavar="BATTERY.yaml", type=click.Path(dir_okay=False))
@folder_out_option("battery", "batteries")
@click.option(
    "--threads", type=click.IntRange(1), metavar="N", help="CPU threads for the llama stage."
)
def battery(**options: Any) -> None:
    """Play every scene of BATTERY.yaml on every model, under every puppeteer and style, with every seed.

    The battery file lists scene families (generated, with their options) or
    scenario files, models (an embedded name, a GGUF path, a litellm model),
    puppeteers, probe styles and seeds (see the README's "Batteries"). Every run
    writes DIR/RUNID.jsonl and its row (DIR/rows/), and DIR/results.csv holds them
    all, as `simstage sweep` does; the scenes themselves are written to
    DIR/scenes/, and DIR/battery.json records the battery. Runs play model by
    model: each model is loaded once and restarted between its runs, so each run
    plays as on a fresh stage and its log `replay --verify`s.

    The battery is resumable: stopping it (Ctrl-C, a kill, a crash) and repeating
    the command with the same --out plays only the runs not finished. Then
    `simstage report DIR` writes its profile. Exit status: 0 all runs finished, 1
    some run failed, 2 bad input, 130 stopped.

    \b
    Examples:
      simstage battery scenarios/batteries/embedded.yaml --out batteries/embedded
      simstage report batteries/embedded            (the profile, as HTML)
      simstage report batteries/embedded --json     (the profile, as JSON)
    """
    stopping_exits_130(friendly_errors(_play))(**options)


def _play(battery_file: str, out: str | None, threads: int | None) -> None:
    from datetime import datetime

    from rich.console import Console
    from rich.text import Text

    from simstage.battery.file import load_battery
    from simstage.battery.plan import BATTERY_FILE, make_battery_plan
    from simstage.battery.player import LoadedModels, play_on_loaded
    from simstage.battery.scenes import write_scenes
    from simstage.cli.playing import finished_rows, run_pending, say_ending
    from simstage.sweep.folder import prepare_folder
    from simstage.sweep.lock import sweep_lock
    from simstage.sweep.table import write_results

    loaded = load_battery(battery_file)
    plan = make_battery_plan(loaded)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    folder = Path(out) if out else Path("batteries") / f"{Path(battery_file).stem}-{stamp}"
    with sweep_lock(folder, BATTERY_FILE):
        resumed = prepare_folder(folder, plan, kind=BATTERY_FILE, differences=plan.differences)
        write_scenes(folder, plan.scenes)
        console = Console(highlight=False, soft_wrap=True, emoji=False)
        err = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)
        total = len(plan.runs)
        rows = finished_rows(folder, plan, err)
        pending = [run for run in plan.runs if run.run_id not in rows]
        err.print(Text.assemble(("battery", "bold"), f" {total} runs ({plan.shape()}) in {folder}"))
        if resumed:
            err.print(Text(f"{len(rows)} finished before; {len(pending)} to play", style="dim"))
        failures: list[Any] = []
        interrupted = False
        if pending:
            models = LoadedModels(plan, threads=threads)
            try:
                interrupted = run_pending(
                    plan, folder, pending, rows, 1, plan.max_turns, threads, failures, console, err,
                    play_one=lambda run, where, stop: play_on_loaded(models, run, where, stop, max_turns=plan.max_turns),
                )  # fmt: skip
            finally:
                models.close()
            played = len(rows) - (total - len(pending))
            loads = f"{models.loads} model load{'' if models.loads == 1 else 's'}"
            err.print(Text(f"{loads} for {played} run{'' if played == 1 else 's'}", style="dim"))
        write_results(folder, plan, rows)
        profile = f"; profile: simstage report {folder}"
        say_ending(err, folder, out, len(rows), total, len(failures), interrupted, after=profile)
