"""`simstage sweep`: one scenario over many seeds and setting variants; one run log and one table row per run."""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import Any

import click

from simstage.cli.errors import friendly_errors, sigterm_as_interrupt


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
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    metavar="DIR",
    help="Sweep folder (default: sweeps/NAME-TIME/). Given a folder of the same sweep, "
    "finishes its missing runs.",
)
@click.option(
    "--max-turns",
    type=click.IntRange(1),
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
    with its 95% bootstrap interval. Exit status: 0 all runs finished, 1 some run failed,
    2 bad input, 130 stopped.

    \b
    Examples:
      simstage sweep scenarios/sally-anne.yaml --seeds 1-100
      simstage sweep scenarios/sycophancy.yaml --seeds 1-20 \\
          --set puppeteer.kind=bare,optimizer --set stage.temperature=0.3,0.9 --plot
      simstage sweep scenarios/sally-anne.yaml --seeds 1,2,5-7 \\
          --set 'cast.0.persona=[A shy boy, A bold girl]' --out sweeps/personas
      simstage sweep scenarios/sally-anne.yaml --seeds 1-8 --set stage.backend=scripted
      simstage sweep --out sweeps/personas           (finish that sweep's missing runs)
      simstage sweep --out sweeps/personas --plot    (plot a finished sweep)
    """

    friendly_errors(_play)(**options)


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
            interrupted = _run_pending(
                plan, folder, pending, rows, size, max_turns, threads, failures, console, err
            )
        write_results(folder, plan, rows)
        again = "re-run the same command" if out is not None else f"re-run with --out {folder}"
        if interrupted:
            err.print(
                f"{len(rows)} of {total} runs finished; {again} to finish the rest", markup=False
            )
            raise SystemExit(130)
        err.print(
            f"{len(rows)} of {total} runs finished; table: {folder / 'results.csv'}", markup=False
        )
        if plot:
            _draw(plan, folder, rows, console)
        if failures:
            many = len(failures) != 1
            err.print(
                f"{len(failures)} run{'s' if many else ''} failed; {again} to retry "
                f"{'them' if many else 'it'}",
                markup=False,
            )
            raise SystemExit(1)


def finished_rows(folder: Path, plan: Any, err: Any) -> dict[str, Any]:
    """The rows of the runs a sweep or battery folder finished before, by run id.

    A damaged log is set aside (said on `err`), so that its run is played again.
    """
    from rich.text import Text

    from simstage.sweep.folder import set_aside_damaged
    from simstage.sweep.table import read_rows

    damaged: dict[Path, str] = {}
    rows: dict[str, Any] = read_rows(folder, plan, damaged)
    for log, problem in damaged.items():
        kept = set_aside_damaged(log)
        err.print(
            Text(f"warning: {problem}; the run is played again (its log as it was: {kept.name})")
        )
    return rows


def _run_pending(
    plan: Any,
    folder: Path,
    pending: list[Any],
    rows: dict[str, Any],
    size: int,
    max_turns: int | None,
    threads: int | None,
    failures: list[Any],
    console: Any,
    err: Any,
    play_one: Any = None,
) -> bool:
    """Play the pending runs under a progress bar, adding their rows to `rows`; True when stopped.

    `play_one` plays each run instead of `play_run` (a battery's: on its model's loaded stage)."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from simstage.sweep.runner import play_pending

    progress = Progress(
        SpinnerColumn(),
        TextColumn("[bold]runs"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        TextColumn("{task.fields[current]}", markup=False, style="dim"),
        console=err,
        disable=not err.is_terminal,
    )
    task = progress.add_task("sweep", total=len(plan.runs), completed=len(rows), current="")
    # Lines printed past the live bar's own console would land in the middle of the bar.
    lines = progress.console if err.is_terminal and console.is_terminal else console
    shown = _Shown(progress, task, lines, err, len(plan.runs))
    with progress, sigterm_as_interrupt():
        ending = play_pending(
            plan,
            folder,
            pending,
            rows,
            failures,
            shown,
            concurrency=size,
            max_turns=max_turns,
            threads=threads,
            play_one=play_one,
        )
    if ending == "gave_up":
        err.print(
            f"giving up: the first {len(failures)} runs all failed and none finished "
            "(is the stage reachable?)",
            markup=False,
        )
    return ending == "stopped"


class _Shown:
    """The sweep as the terminal shows it: a progress bar naming the runs in flight, a line per run."""

    def __init__(self, progress: Any, task: Any, lines: Any, err: Any, total: int):
        self.progress, self.task, self.lines, self.err, self.total = (
            progress,
            task,
            lines,
            err,
            total,
        )
        self.current: list[str] = []
        self.lock = threading.Lock()

    def _show_current(self) -> None:
        current = self.current
        text = ", ".join(current[:2]) + (f" +{len(current) - 2}" if len(current) > 2 else "")
        self.progress.update(self.task, current=text)

    def run_started(self, run: Any) -> None:
        with self.lock:
            self.current.append(run.run_id)
            self._show_current()

    def run_ended(self, run: Any) -> None:
        with self.lock:
            self.current.remove(run.run_id)
            self._show_current()

    def heard(self, outcome: Any, finished: int) -> None:
        from rich.text import Text

        if outcome.status == "finished":
            self.progress.advance(self.task)
            self.lines.print(Text(_finished_line(outcome.row, finished, self.total)))
        else:
            self.err.print(
                Text.assemble(("failed ", "bold red"), f"{outcome.run.run_id}: {outcome.message}")
            )

    def stopping(self) -> None:
        from rich.text import Text

        self.err.print(
            Text(
                "stopping: the runs in flight end after their current turn "
                "(Ctrl-C again to quit at once)",
                style="yellow",
            )
        )

    def quitting(self, finished: int) -> None:
        self.progress.stop()
        self.err.print(
            f"stopped at once; {finished} of {self.total} runs finished; runs in flight "
            "will be played again next time",
            markup=False,
        )


def _finished_line(row: dict[str, Any], done: int, total: int) -> str:
    parts = [f"done {row.get('run_id', '?')}", f"{row.get('turns', '?')} turns"]
    if row.get("tom_accuracy") is not None:
        tom = f"ToM {row['tom_accuracy']:.2f}"
        if row.get("tom_false_belief") is not None:
            tom += f" (false-belief {row['tom_false_belief']:.2f})"
        parts.append(tom)
    for name, value in (row.get("rewards") or {}).items():
        parts.append(f"{name} {value:.2f}")
    parts.append(f"{row.get('wall_s', 0):.1f}s")
    parts.append(f"[{done}/{total}]")
    return "  ".join(parts)


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
