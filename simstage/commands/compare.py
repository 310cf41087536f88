"""`simstage compare`: one scenario under several puppeteers and seeds, metrics side by side."""

from __future__ import annotations

import json

import click


def register(main: click.Group) -> None:
    """Add `compare` to the CLI."""
    main.add_command(compare)


@click.command()
@click.argument("scenario", type=click.Path(dir_okay=False))
@click.option("--puppeteer", "puppeteers", default="bare,director,optimizer", show_default=True,
              help="Comma-separated puppeteer kinds to compare.")
@click.option("--seeds", default="1-3", show_default=True, help="Seeds: a range (1-5) and/or a list (1,4,9).")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@click.option("--stage", "backend", type=click.Choice(["llama", "litellm", "scripted"]), help="Override the scenario's stage backend.")
@click.option("--model", help="Override the model: 'default', an embedded model's name, or a GGUF path; "
              "several, comma-separated (default,gemma3-270m), compares the models too.")
@click.option("--threads", type=click.IntRange(1), help="CPU threads for the llama stage.")
@click.option("--max-turns", type=click.IntRange(1), help="Override the scenario's max_turns.")
def compare(
    scenario: str, puppeteers: str, seeds: str, as_json: bool, backend: str | None,
    model: str | None, threads: int | None, max_turns: int | None,
) -> None:
    """Play SCENARIO under each puppeteer for each seed; print a table of metrics.

    Metrics per puppeteer are means over seeds: each named reward (e.g. sycophancy),
    persona fit and drift, voice collapse, reward gain, flips, and ToM accuracy
    when the scenario has probes.

    With several models (--model A,B) each puppeteer is played on each model,
    one model loaded at a time; the columns read "PUPPETEER on MODEL". A chat
    model and a base model (no chat template: it plays a screenplay, with no
    assistant to steer) side by side is the base-vs-chat comparison.

    \b
    Examples:
      simstage compare scenarios/sycophancy.yaml --puppeteer bare,optimizer --seeds 1-3 --json
      simstage compare scenarios/sycophancy.yaml --puppeteer bare --model default,gemma3-270m
    """
    from simstage.cli import fail, friendly_errors

    @friendly_errors
    def go() -> None:
        from simstage.puppeteer.compare import compare as run_compare
        from simstage.puppeteer.compare import parse_seeds
        from simstage.scenario import load_scenario
        from simstage.run.open import build_stage

        try:
            seed_list = parse_seeds(seeds)
        except ValueError as exc:
            fail(f"--seeds: {exc}")
        kinds = [k.strip() for k in puppeteers.split(",") if k.strip()]
        models = [m.strip() for m in (model or "").split(",") if m.strip()] or [None]
        loaded = load_scenario(scenario)
        result: dict = {}
        for name in models:
            stage = build_stage(loaded, backend=backend, model=name, threads=threads)
            try:
                one = run_compare(loaded.scenario, stage, kinds, seed_list, max_turns)
            except ValueError as exc:
                fail(str(exc))
            finally:
                stage.close()
            if len(models) > 1:
                one["puppeteers"] = {f"{kind} on {name}": entry for kind, entry in one["puppeteers"].items()}
            if result:
                result["puppeteers"].update(one["puppeteers"])
            else:
                result = one
        if len(models) > 1:
            result["models"] = models
        if as_json:
            click.echo(json.dumps(result, indent=2))
        else:
            _print_table(result)

    go()


def _print_table(result: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    rows = result["puppeteers"]
    columns: list[str] = []
    for entry in rows.values():
        columns += [name for name in entry["metrics"] if name not in columns]
    table = Table(title=f"{result['scenario']} — seeds {', '.join(map(str, result['seeds']))}")
    table.add_column("metric (mean over seeds)")
    for kind in rows:
        table.add_column(kind, justify="right")
    for name in columns:
        values = [entry["metrics"].get(name) for entry in rows.values()]
        table.add_row(name, *("–" if v is None else f"{v:.3f}" for v in values))
    Console(highlight=False, emoji=False).print(table)
