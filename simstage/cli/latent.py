"""`simstage latent`: a dataset of captured residual streams, linear probes on it, and ablation.

numpy, scikit-learn and matplotlib are imported inside the commands only.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click

from simstage.cli.errors import fail, friendly_errors, stderr_console
from simstage.cli.options import out_file_option

if TYPE_CHECKING:
    from simstage.analysis.dataset import LatentDataset
    from simstage.analysis.results import Accuracy, BehaviourAblation, FitResult, TargetSummary

TARGET = click.Choice(["container", "false_belief", "named_last", "fact", "has_belief"])
TARGET_HELP = (
    "What the probes decode: container (the tracker's believed container), false_belief "
    "(that belief differs from the truth), named_last (the control label: the "
    "container the question named last; needs latent.name_options), fact (the tracker's "
    "answer to a fact probe: yes, no, don't know), has_belief (whether the asked character "
    "holds a belief at all)."
)


@contextmanager
def _latent_errors() -> Iterator[None]:
    from simstage.latent.store import LatentError

    try:
        yield
    except LatentError as exc:
        fail(str(exc))


def _layers(ctx: click.Context, param: click.Parameter, value: str | None) -> list[int] | None:
    if not value:
        return None
    try:
        return [int(part) for part in value.split(",") if part.strip()]
    except ValueError:
        raise click.BadParameter(
            f"{value!r}: give block numbers separated by commas, as 1,5,9"
        ) from None


def _layers_option(function: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--layers",
        callback=_layers,
        metavar="L,L,...",
        help="Blocks to probe, e.g. 1,5,9 (default: every captured one).",
    )(function)


@click.group("latent")
def latent_group() -> None:
    """Probe what the stage represents about each character's belief.

    Runs played with --latent keep, for every captured probe, the residual
    stream at the last token before the answer (RUN.latent.f32 beside RUN.jsonl).
    `dataset` joins those vectors with the tracker's labels; `fit` trains linear
    probes on them per layer; `ablate` asks whether one direction holds what
    they find.

    \b
    Examples:
      simstage latent dataset sweeps/latent -o latent.npz
      simstage latent fit latent.npz --target false_belief --plot fit.png
      simstage latent fit latent.npz --target named_last --layers 1,5,9 --json
      simstage latent ablate latent.npz --target false_belief --json
    """


@latent_group.command("dataset")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@out_file_option(
    "The dataset file to write (.npz), replaced in one step; a device or FIFO is written "
    "through. Not one of the inputs, nor - (a dataset is binary), nor a name ending in .jsonl "
    "(a run log's).",
    required=True,
)
@friendly_errors
def dataset_command(paths: tuple[str, ...], out: str) -> None:
    """Build a dataset from run logs or sweep folders (every *.jsonl inside).

    One row per captured probe: its vectors [layers, width] and the labels run
    (the log's file stem), seed, turn, ask, about, through, order, style, kind
    (object or fact), believed (the tracker's container, or none), fact (a fact
    probe's tracker answer: yes, no, don't know), has_belief, truth,
    false_belief, answer (the model's choice), correct (answer == the tracker's)
    and named_last. Every run must have captured the same layers at the same
    width.

    The file is written whole or not at all: a failure or Ctrl-C leaves what
    was there before. An -o that is a run log or sidecar read here, that ends
    in .jsonl, or whose folder is missing, is refused before any work.
    """
    from simstage.analysis.dataset import build_dataset, refuse_log_name, run_logs
    from simstage.latent.store import sidecar_path
    from simstage.report.files import refuse_binary_output, write_binary_output

    with _latent_errors():
        logs = run_logs(paths)
        inputs = [*logs, *(sidecar_path(log) for log in logs)]
        refuse_binary_output(out, inputs)
        refuse_log_name(out)
        dataset = build_dataset(logs)
        write_binary_output(out, dataset.write, inputs=inputs)
    summary = dataset.summary()
    click.echo(
        f"{out}: {summary.probes} probes from {summary.runs} runs, {len(summary.layers)} layers × {summary.dims}"
    )


def _load(path: str) -> LatentDataset:
    from simstage.analysis.dataset import load_dataset

    return load_dataset(path)


def _cell(cell: Accuracy | None) -> str:
    return "-" if cell is None else cell.text()


def _head(summary: TargetSummary) -> None:
    click.echo(
        f"target {summary.target} ({', '.join(summary.classes)}): {summary.n} probes, "
        f"{summary.n_runs} runs, {summary.dropped} dropped (no label)"
    )
    click.echo(f"split: {summary.split}")
    click.echo(
        f"chance {summary.chance:.2f} (majority class); train-majority baseline {_cell(summary.majority)}"
    )


@latent_group.command("fit")
@click.argument("dataset", type=click.Path(dir_okay=False))
@_layers_option
@click.option("--target", type=TARGET, default="container", show_default=True, help=TARGET_HELP)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the split by run.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option(
    "--plot",
    type=click.Path(dir_okay=False),
    help="Also draw accuracy per layer to this file: a PNG, or the format its suffix names "
    "(.svg, .pdf), under the name given; replaced in one step, a device or FIFO is written "
    "through. Not the dataset, nor -.",
)
@friendly_errors
def fit_command(
    dataset: str, layers: list[int] | None, target: str, seed: int, as_json: bool, plot: str | None
) -> None:
    """Fit a mean-difference, a logistic and a CCS probe per layer, scored on held-out runs.

    Train and test are split by run (a seeded group k-fold: no run is on both
    sides); each accuracy is the mean over runs with a 95% bootstrap interval
    over runs. Beside them: chance, and the behavioural accuracy of the same
    probes (the model's answers against the tracker), direct and indirect.

    CCS (contrast-consistent search) is unsupervised: it reads each probe's
    answer completed with either container of its pair, so it needs runs
    captured with latent.contrast: true, and a target that is one of the pair
    (container, named_last). Its sign is set on the train rows.

    The plot is written whole or not at all; a --plot that is the dataset
    (by any name or link) is refused before any work.
    """
    from simstage.analysis.probes import fit
    from simstage.report.files import refuse_binary_output, write_binary_output

    if plot:
        refuse_binary_output(plot, [dataset], option="--plot")
        _need_matplotlib()
    with _latent_errors():
        result = fit(_load(dataset), layers, target, seed)
    # The figures first: a plot that cannot be written does not lose the fit.
    if as_json:
        json.dump(result.to_json(), sys.stdout, indent=2)
        click.echo()
    else:
        _print_fit(result)
    if plot:
        from simstage.analysis.plot import plot_fit

        write_binary_output(
            plot, lambda out: plot_fit(result, out, plot), inputs=[dataset], option="--plot"
        )
        if not as_json:
            click.echo(f"plot: {plot}")


def _need_matplotlib() -> None:
    """Refuse `--plot` before any work when matplotlib (the `sweep` extra) is not installed."""
    try:
        import matplotlib  # noqa: F401 - only whether it is installed
    except ImportError:
        fail("--plot needs matplotlib: pip install 'simstage[sweep]'")


def _print_fit(result: FitResult) -> None:
    """A fit's figures as a table, a line per layer, then behaviour and CCS."""
    from simstage.analysis.results import CcsRows

    _head(result.summary)
    ccs = result.ccs
    paired = isinstance(ccs, CcsRows)
    click.echo(
        f"{'layer':>5}  {'mean difference':<22} {'logistic':<22}"
        + (f" {'CCS':<22}" if paired else "")
    )
    for entry in result.layers:
        click.echo(
            f"{entry.layer:>5}  {_cell(entry.mean_diff):<22} {_cell(entry.logistic):<22}"
            + (f" {_cell(entry.ccs):<22}" if paired else "")
        )
    for style, cell in result.behaviour.by_style():
        click.echo(f"behaviour ({style}): answers agree with the tracker {_cell(cell)}")
    if isinstance(ccs, CcsRows):
        click.echo(f"ccs: {ccs.rows} contrast pairs, chance {ccs.chance:.2f}; {ccs.method}")
    else:
        click.echo(f"ccs: skipped: {ccs.reason}")


@latent_group.command("ablate")
@click.argument("dataset", type=click.Path(dir_okay=False))
@_layers_option
@click.option(
    "--target",
    type=TARGET,
    default="false_belief",
    show_default=True,
    help=TARGET_HELP + " Must be binary.",
)
@click.option(
    "--seed",
    type=int,
    default=0,
    show_default=True,
    help="Seed of the split and of the random directions.",
)
@click.option(
    "--behaviour",
    is_flag=True,
    help="Also re-play the dataset's runs and re-ask each captured probe with the direction "
    "(fitted on every row) projected out of the probe token's residual stream at each layer, "
    "and with a random direction: how often the answer changes (needs the model; slow).",
)
@click.option("--threads", type=click.IntRange(1), help="CPU threads for --behaviour.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@friendly_errors
def ablate_command(
    dataset: str,
    layers: list[int] | None,
    target: str,
    seed: int,
    behaviour: bool,
    threads: int | None,
    as_json: bool,
) -> None:
    """Project the mean-difference direction out of each layer, then probe again (information sense).

    Per layer and fold: the direction is fitted on the train runs and removed
    (rank one) from every row; a fresh logistic probe is fitted and scored on
    the held-out runs. For a binary target `after` is the train majority by
    construction (equal class means leave the probe nothing linear); `held_out`
    fits the direction on half the train rows and the fresh probe on the other
    half: near chance, that direction held what a linear probe finds; well
    above, other directions hold it too. `random` removes a random direction
    instead (the control).

    The behavioural sense (--behaviour) re-asks the model with the direction removed.
    """
    from dataclasses import replace

    from simstage.analysis.ablate import ablate

    with _latent_errors():
        data = _load(dataset)
        result = ablate(data, layers, target, seed)
        if behaviour:
            result = replace(result, reasked=_behaviour(data, layers, target, seed, threads))
    if as_json:
        json.dump(result.to_json(), sys.stdout, indent=2)
        click.echo()
        return
    _head(result.summary)
    click.echo(
        f"{'layer':>5}  {'before':<22} {'after (direction out)':<22} {'held-out direction out':<22} "
        f"{'random direction out':<22}"
    )
    for entry in result.layers:
        cells = [_cell(cell) for cell in (entry.before, entry.after, entry.held_out, entry.random)]
        click.echo(f"{entry.layer:>5}  " + " ".join(f"{cell:<22}" for cell in cells))
    if result.reasked is not None:
        _print_behaviour(result.reasked)


def _behaviour(
    data: LatentDataset, layers: list[int] | None, target: str, seed: int, threads: int | None
) -> BehaviourAblation:
    from pathlib import Path

    from rich.progress import Progress

    from simstage.analysis.ablate import directions
    from simstage.analysis.behaviour import behaviour_ablation

    if not data.sources:
        fail(
            "the dataset names no run logs to re-play (build it again with simstage latent dataset)"
        )
    with Progress(console=stderr_console(), transient=True) as progress:
        task = progress.add_task("re-asking", total=len(data.sources))
        return behaviour_ablation(
            [Path(source) for source in data.sources], directions(data, layers, target), seed=seed,
            threads=threads, progress=lambda: progress.advance(task),
        )  # fmt: skip


def _print_behaviour(result: BehaviourAblation) -> None:
    click.echo(
        f"behaviour: {result.n_runs} runs re-played, answers as logged before steering: "
        f"{'yes' if result.baseline_matches_log else 'NO'}"
    )
    click.echo(
        f"{'layer':>5}  {'direction out: changed':<26} {'random out: changed':<26} toward (direction)"
    )
    for row in result.layers:
        toward = ", ".join(f"{name} {count}" for name, count in row.direction.toward.items()) or "-"
        click.echo(
            f"{row.layer:>5}  {row.direction.changed:<26.2%} {row.random.changed:<26.2%} {toward}"
        )
