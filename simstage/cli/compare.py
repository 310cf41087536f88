"""`simstage compare`: one scenario under several puppeteers and seeds, metrics side by side."""

from __future__ import annotations

import json

import click

from simstage.cli.errors import fail, friendly_errors, stderr_console
from simstage.cli.options import MODEL_HELP, TURNS, stage_options, warn_left_out


@click.command()
@click.argument("scenario", type=click.Path(dir_okay=False))
@click.option(
    "--puppeteer",
    "puppeteers",
    default="bare,director,optimizer",
    show_default=True,
    help="Comma-separated puppeteer kinds to compare (by default the optimizer only where the "
    "scenario sets puppeteer.rewards).",
)
@click.option(
    "--seeds", default="1-3", show_default=True, help="Seeds: a range (1-5) and/or a list (1,4,9)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@stage_options(
    model_help=MODEL_HELP
    + " Several, comma-separated (default,gemma3-270m), compares the models too."
)
@click.option("--max-turns", type=TURNS, help="Override the scenario's max_turns.")
def compare(
    scenario: str,
    puppeteers: str,
    seeds: str,
    as_json: bool,
    backend: str | None,
    model: str | None,
    threads: int | None,
    max_turns: int | None,
) -> None:
    """Play SCENARIO under each puppeteer for each seed; print a table of metrics.

    Metrics per puppeteer are means over seeds, each with its 95% bootstrap
    interval over seeds: each named reward (e.g. sycophancy), persona fit and
    drift, voice collapse, reward gain, flips, and ToM accuracy when the
    scenario has probes. A second table compares columns played on the same
    seeds, seed by seed: each puppeteer against the first (and with several
    models, each model against the first), the mean difference B − A with its
    bootstrap interval; an interval that excludes 0 is a difference the seeds bear out.

    With several models (--model A,B) each puppeteer is played on each model,
    one model loaded at a time; the columns read "PUPPETEER on MODEL". A chat
    model and a base model (no chat template: it plays a screenplay, with no
    assistant to steer) side by side is the base-vs-chat comparison.

    \b
    Examples:
      simstage compare scenarios/sycophancy.yaml --puppeteer bare,optimizer --seeds 1-3 --json
      simstage compare scenarios/sycophancy.yaml --puppeteer bare --model default,gemma3-270m
    """

    source = click.get_current_context().get_parameter_source("puppeteers")
    by_default = source is click.core.ParameterSource.DEFAULT

    @friendly_errors
    def go() -> None:
        from simstage.puppeteer.compare import check_comparable, compare_models
        from simstage.scenario import load_scenario
        from simstage.sweep.plan import parse_seeds

        try:
            seed_list = parse_seeds(seeds)
        except ValueError as exc:
            fail(str(exc))
        kinds = [k.strip() for k in puppeteers.split(",") if k.strip()]
        try:
            for kind in kinds:  # the command line's mistake, before the scenario's
                check_comparable(kind)
        except ValueError as exc:
            fail(f"--puppeteer: {exc}")
        named = [m.strip() for m in (model or "").split(",") if m.strip()]
        models: list[str | None] = [*named] if named else [None]
        loaded = load_scenario(scenario)
        warn_left_out(loaded.scenario, max_turns)
        if by_default and "optimizer" in kinds and not loaded.scenario.puppeteer.rewards:
            kinds.remove("optimizer")
            stderr_console().print(
                f"note: {scenario} has no puppeteer.rewards, so the default puppeteers leave "
                "the optimizer out",
                markup=False,
            )
        try:
            result = compare_models(
                loaded,
                kinds,
                seed_list,
                models,
                backend=backend,
                threads=threads,
                max_turns=max_turns,
            )
        except ValueError as exc:
            fail(f"{scenario}: {exc}")
        if as_json:
            click.echo(json.dumps(result, indent=2))
        else:
            _print_table(result)

    go()


def _print_table(result: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False, emoji=False)
    rows = result["puppeteers"]
    columns: list[str] = []
    for entry in rows.values():
        columns += [name for name in entry["metrics"] if name not in columns]
    table = Table(title=f"{result['scenario']} — seeds {', '.join(map(str, result['seeds']))}")
    table.add_column(f"metric (mean over seeds [{result['method']}])")
    for kind in rows:
        table.add_column(kind, justify="right")
    for name in columns:
        cells = []
        for entry in rows.values():
            value = entry["metrics"].get(name)
            interval = entry.get("intervals", {}).get(name)
            if value is None:
                cells.append("–")
            elif interval and interval["low"] is not None:
                cells.append(f"{value:.3f} [{interval['low']:.3f}, {interval['high']:.3f}]")
            else:
                cells.append(f"{value:.3f}")
        table.add_row(name, *cells)
    console.print(table)
    paired = result.get("paired") or []
    if not paired:
        return
    differences = Table(
        title=f"paired by seed: B − A, mean over the seeds both played [{result['method']}]"
    )
    differences.add_column("metric")
    pairs = list(dict.fromkeys((row["a"], row["b"]) for row in paired))
    for a, b in pairs:
        differences.add_column(f"{b} − {a}", justify="right")
    by_cell = {(row["metric"], row["a"], row["b"]): row for row in paired}
    for name in dict.fromkeys(row["metric"] for row in paired):
        cells = []
        for a, b in pairs:
            row = by_cell.get((name, a, b))
            if row is None:
                cells.append("–")
            elif row["low"] is None:
                cells.append(f"{row['estimate']:+.3f} (n={row['n']})")
            else:
                cells.append(f"{row['estimate']:+.3f} [{row['low']:+.3f}, {row['high']:+.3f}]")
        differences.add_row(name, *cells)
    console.print(differences)
