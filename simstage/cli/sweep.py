"""`simstage sweep`: one scenario over many seeds and setting variants; one run log and one table row per run."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from simstage.cli.errors import friendly_errors, stopping_exits_130
from simstage.cli.options import (
    TURNS,
    folder_out_option,
    refuse_latent_without_llama,
    warn_left_out,
)
from simstage.cli.playing import finished_rows, run_pending, say_ending


@click.command()
@click.argument("scenario", required=False, type=click.Path(dir_okay=False))
@click.option(
    "--seeds",
    metavar="SEEDS",
    help="Seeds to play each variant with: a range (1-100), a list (1,2,5-7), or both. "
    "Default: the scenario's own seed.",
)
@click.option(
    "--set",
    "sets",
    multiple=True,
    metavar="KEY=V1,V2,...",
    help="Vary a scenario setting: a dotted path into the YAML (list items by number, "
    "e.g. cast.0.persona) and its values, each read as YAML. Repeat for more "
    "settings; the sweep plays every combination. Values with commas: KEY=[a, b].",
)
@click.option(
    "--concurrency",
    type=click.IntRange(1),
    metavar="N",
    help="Runs played at once (default 4 on litellm and scripted stages; always 1 on "
    "the in-process llama stage).",
)
@folder_out_option("sweep", "sweeps")
@click.option(
    "--max-turns",
    type=TURNS,
    metavar="N",
    help="Override the scenario's max_turns in every run.",
)
@click.option(
    "--threads", type=click.IntRange(1), metavar="N", help="CPU threads for the llama stage."
)
@click.option(
    "--latent",
    is_flag=True,
    help="Capture the stage's residual stream at every probe (llama stage): the same as "
    "--set latent.layers=all when the scenario has no latent: block. Then `simstage latent dataset DIR`.",
)
@click.option(
    "--plot",
    is_flag=True,
    help="Afterwards, draw the main metrics per variant: DIR/plot.png and a chart in the "
    "terminal (needs matplotlib and plotext: pip install 'simstage[sweep]').",
)
def sweep(**options: Any) -> None:
    """Play SCENARIO once per seed for every combination of --set values.

    Each run writes its own run log, DIR/RUNID.jsonl, named after its settings and
    seed (e.g. puppeteer.kind=bare__stage.temperature=0.3__seed7.jsonl); its header
    holds the exact scenario the run played, so `simstage replay` and `replay
    --verify` work on it as on any run. DIR/results.csv (and results.parquet when
    pyarrow is installed) has one row per finished run: run id, each varied
    setting, seed, status, turns, ToM probe accuracy (overall, false-belief,
    reality) with counts, puppeteer metrics (voice collapse, reward gain, persona
    drift, reward.NAME means; recorded when the scenario has puppeteer.metrics:
    true, or with --set puppeteer.metrics=true), parse failures, prompt and
    generated tokens, wall seconds of the scene, and the log's file name. The
    table is rebuilt as runs finish, from DIR/rows/.

    The sweep is resumable: a run counts as finished once its log is complete and
    its row (DIR/rows/RUNID.json) is written and its log is still there.
    Stopping the sweep (Ctrl-C, a kill, a crash) and repeating the command with
    the same --out plays only the runs not finished. DIR/sweep.json records the
    plan; a different plan in the same folder is refused, and so is a second
    sweep while one is running there. A run whose stage fails (a server unreachable) is reported
    and left unfinished, so a repeat retries it; the exit status is then 1.
    Ctrl-C ends the runs in flight after their current turn (exit status 130).

    Runs play concurrently on remote (litellm) and scripted stages, each on a
    fresh stage; on the in-process llama stage one at a time (one model on the
    machine's cores). --plot draws ToM accuracy (overall and false-belief, then by
    probe style and by belief order, with each probe's chance level), voice
    collapse, reward gain and each reward per variant, as the mean over seeds
    with its 95% bootstrap interval. The stage is a setting like any other (there is
    no --stage): --set stage.backend=scripted plays every run without a model. Exit status: 0 all runs finished, 1 some run failed,
    2 bad input, 130 stopped.

    \b
    Examples:
      simstage sweep scenarios/sally-anne.yaml --seeds 1-100
      simstage sweep scenarios/sycophancy.yaml --seeds 1-20 \\
          --set puppeteer.kind=bare,optimizer --set stage.temperature=0.3,0.9 --plot
      simstage sweep scenarios/sally-anne.yaml --seeds 1,2,5-7 \\
          --set 'cast.0.persona=[A shy boy, A bold girl]' --out sweeps/personas
      simstage sweep scenarios/sally-anne.yaml --seeds 1-8 --set stage.backend=scripted   (no model)
      simstage sweep --out sweeps/personas           (finish that sweep's missing runs)
      simstage sweep --out sweeps/personas --plot    (plot a finished sweep)
    """

    stopping_exits_130(friendly_errors(_play))(**options)


def _plan(
    scenario: str | None,
    seeds: str | None,
    sets: tuple[str, ...],
    out: str | None,
    max_turns: int | None,
    latent: bool = False,
) -> tuple[Any, Path]:
    from simstage.scenario import load_scenario
    from simstage.sweep.folder import default_out, plan_from_folder
    from simstage.sweep.plan import SweepError, make_plan, parse_seeds, parse_set

    if scenario is None:
        if out is None:
            raise SweepError("give a SCENARIO to sweep, or --out DIR of a sweep to finish or plot")
        if seeds is not None or sets or max_turns is not None:
            raise SweepError(
                "--seeds, --set and --max-turns need a SCENARIO (to finish a sweep, give only --out)"
            )
        path, settings, seed_list, turns = plan_from_folder(Path(out))
        return make_plan(path, settings, seed_list, turns), Path(out)
    settings = [parse_set(text) for text in sets]
    if (
        latent
        and load_scenario(scenario).scenario.latent is None
        and not any(text.split("=", 1)[0].split(".")[0] == "latent" for text in sets)
    ):
        settings.append(parse_set("latent.layers=all"))
    seed_list = parse_seeds(seeds) if seeds is not None else [load_scenario(scenario).scenario.seed]
    plan = make_plan(scenario, settings, seed_list, max_turns)
    return plan, Path(out) if out else default_out(scenario)


def _play(
    scenario: str | None,
    seeds: str | None,
    sets: tuple[str, ...],
    concurrency: int | None,
    out: str | None,
    max_turns: int | None,
    threads: int | None,
    plot: bool,
    latent: bool,
) -> None:
    from rich.console import Console
    from rich.text import Text

    from simstage.sweep.folder import prepare_folder
    from simstage.sweep.lock import sweep_lock
    from simstage.sweep.runner import pool_size
    from simstage.sweep.table import write_results

    if plot:
        from simstage.sweep.plot import require_plotting

        require_plotting()
    plan, folder = _plan(scenario, seeds, sets, out, max_turns, latent)
    warn_left_out(plan.variants[0].loaded.scenario, max_turns)
    if latent:
        refuse_latent_without_llama(v.loaded.scenario.stage.backend for v in plan.variants)
    with sweep_lock(folder):
        resumed = prepare_folder(folder, plan)
        console = Console(highlight=False, soft_wrap=True, emoji=False)
        err = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)
        total = len(plan.runs)
        rows = finished_rows(folder, plan, err)
        pending = [run for run in plan.runs if run.run_id not in rows]
        size, note = pool_size([variant.backend for variant in plan.variants], concurrency)
        size = min(size, max(1, len(pending)))
        shape = " × ".join(
            [f"{len(s.values)} {s.key}" for s in plan.sets] + [f"{len(plan.seeds)} seeds"]
        )
        err.print(Text.assemble(("sweep", "bold"), f" {total} runs ({shape}) in {folder}"))
        if note:
            err.print(Text(note, style="dim"))
        if resumed:
            err.print(Text(f"{len(rows)} finished before; {len(pending)} to play", style="dim"))
        failures: list[Any] = []
        interrupted = False
        if pending:
            err.print(Text(f"{size} at a time", style="dim"))
            interrupted = run_pending(
                plan, folder, pending, rows, size, max_turns, threads, failures, console, err
            )
        write_results(folder, plan, rows)
        draw = (lambda: _draw(plan, folder, rows, console)) if plot else None
        say_ending(err, folder, out, len(rows), total, len(failures), interrupted, then=draw)


def _draw(plan: Any, folder: Path, rows: dict[str, Any], console: Any) -> None:
    import shutil

    from simstage.sweep.plot import PLOT_FILE, panels, terminal_charts, write_png

    charts = panels(plan, rows)
    if not charts:
        console.print("nothing to plot: no run recorded ToM or puppeteer metrics", markup=False)
        return
    width = min(120, shutil.get_terminal_size((100, 24)).columns)
    click.echo(terminal_charts(plan, charts, width, color=sys.stdout.isatty()))
    path = write_png(folder / PLOT_FILE, plan, charts)
    console.print(f"plot: {path}", markup=False)
