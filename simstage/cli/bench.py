"""`simstage bench`: the multi-sequence stage against the naive approach and the raw ceiling."""

from __future__ import annotations

import json

import click

from simstage.cli.errors import friendly_errors


@click.command()
@click.option(
    "--model", default="default", show_default=True, help="Embedded model name or GGUF path."
)
@click.option("--characters", default=4, show_default=True, type=click.IntRange(2, 64))
@click.option(
    "--turns",
    type=click.IntRange(1, 100_000),
    help="Turns per scene  [default: 40; with --runs, 8 per run]",
)
@click.option(
    "--runs",
    type=click.IntRange(1, 64),
    metavar="N",
    help="Instead: play N seeded runs batched in one context and one after another, for "
    "N = 1, 2, 4, … N, and report runs_speedup (runs/hour batched ÷ one after another).",
)
@click.option(
    "--scaling",
    is_flag=True,
    help="Only the turn-scaling figure: the engine on the scripted stage (no model) for 2,000 and "
    "4,000 turns, each in a child process; time ratio and peak memory.",
)
@click.option(
    "--battery", "battery_only", is_flag=True,
    help="Only the battery figure: 4 seeded runs of a small generated scene as separate `simstage run` "
    "processes and as one `simstage battery` (one load); the fixed cost per run and the ratio.",
)  # fmt: skip
@click.option(
    "--line-tokens",
    default=24,
    show_default=True,
    type=click.IntRange(1, 1024),
    help="Tokens per line (EOS blocked).",
)
@click.option("--threads", type=click.IntRange(1), help="CPU threads (default: all cores).")
@click.option(
    "--n-gpu-layers",
    default=0,
    show_default=True,
    type=int,
    help="Layers on the GPU (-1: all; needs a CUDA build).",
)
@click.option("--n-ctx", default=8192, show_default=True, type=click.IntRange(512))
@click.option(
    "--amx",
    is_flag=True,
    help="Use ggml's AMX buffer type on a CPU with AMX (crashes today: llama.cpp #20824).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of a table.")
def bench(
    model: str,
    characters: int,
    turns: int | None,
    runs: int | None,
    scaling: bool,
    battery_only: bool,
    line_tokens: int,
    threads: int | None,
    n_gpu_layers: int,
    n_ctx: int,
    amx: bool,
    as_json: bool,
) -> None:
    """Play one seeded scene three ways and report the ratios.

    \b
    naive     the whole prompt every turn through llama-cpp-python's Llama
    simstage  one KV sequence per character, only unseen tokens decoded
    ceiling   raw pp/tg tokens/s of the same model and threads, one sequence
    amx cost  on a CPU without AMX: pp/tg loaded as on an AMX CPU (no extra
              buffer types) over pp/tg loaded as here
    latent    a probe (and a generated token) on a stage reading every block's
              output at probes ÷ the same on a plain stage; and a probe that
              also reads its contrast pair (latent.contrast) ÷ a plain one
    scaling   the engine alone (scripted stage, no model) for 2,000 and
              4,000 turns, each run in a child process: time(4,000) ÷
              time(2,000) (2 when a turn costs the same late as early) and
              the 4,000-turn run's peak RSS (--scaling: only this)
    battery   4 seeded runs of a small generated scene as separate
              `simstage run` processes and as one `simstage battery`
              (one model load): fixed cost per run (load + preamble) =
              (separate − battery) ÷ 3, and separate ÷ battery (--battery:
              only this)
    Also times 4 probes batched against one after another, and the same
    token counts through raw llama_decode (the most batching gives on this
    machine). Lines are greedy,
    fixed-length (EOS blocked), so both scene paths do the same work.

    \b
    --runs N  the same seeded runs of the scene played N at once as lanes of
              one context (each step's decode work in one batch) and one after
              another on a plain context: runs/hour, tokens/s and KV per run
              for N = 1, 2, 4, … N; identical_alone counts the batched runs of
              the largest N whose lines equal the run played alone.
    """
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Table

    from simstage.bench.figures import BenchArgs, measure_turn_scaling, run_bench, run_bench_runs

    if battery_only:
        from simstage.bench.battery import measure_battery_fixed_cost

        fixed = friendly_errors(measure_battery_fixed_cost)(model, threads=threads)
        click.echo(json.dumps({"battery_fixed_cost": fixed}) if as_json else battery_line(fixed))
        return
    if scaling:
        figure = friendly_errors(measure_turn_scaling)(characters)
        if as_json:
            click.echo(json.dumps({"turn_scaling": figure}))
        else:
            click.echo(scaling_line(figure))
        return

    args = BenchArgs(
        model=model,
        characters=characters,
        turns=turns or (8 if runs else 40),
        line_tokens=line_tokens,
        n_gpu_layers=n_gpu_layers,
        n_ctx=n_ctx,
        amx=amx,
    )
    if threads:
        args.threads = threads
    err = Console(stderr=True)
    with Progress(
        TextColumn("{task.description:<18}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=err,
        transient=as_json,
        # No refresh thread: on a small machine a thread waking 10 times a second
        # stalls llama.cpp's OpenMP workers and skews the timings. Redraw per step.
        auto_refresh=False,
    ) as progress:

        def task(name: str, total: int):
            task_id = progress.add_task(name, total=total)
            progress.refresh()

            def tick() -> None:
                progress.advance(task_id)
                progress.refresh()

            return tick

        if runs:
            report = friendly_errors(run_bench_runs)(args, runs, task)
        else:
            report = friendly_errors(run_bench)(args, task)
    if runs:
        _print_runs(report, as_json)
        return
    if as_json:
        click.echo(json.dumps(report))
        return
    table = Table(
        title=f"simstage bench — {report['model']}, {characters} characters × {turns} turns"
    )
    table.add_column("")
    for column in ("prompt tokens", "generated", "wall s", "turn p50 s", "turn p95 s"):
        table.add_column(column, justify="right")
    for name in ("naive", "simstage"):
        row = report[name]
        table.add_row(
            name,
            str(row["prompt_tokens_evaluated"]),
            str(row["generated_tokens"]),
            f"{row['wall_s']:.2f}",
            f"{row['turn_p50_s']:.3f}",
            f"{row['turn_p95_s']:.3f}",
        )
    console = Console()
    console.print(table)
    ceiling = report["ceiling"]
    console.print(
        f"wall ratio {report['wall_ratio']}×   prompt-token ratio {report['prompt_tokens_ratio']}×   "
        f"prompt overhead {report['prompt_overhead']}× of new tokens\n"
        f"probe batch speed-up {report['probe_batch_speedup']}× "
        f"(raw llama_decode of the same tokens: {report['probe_batch_ceiling']}×)\n"
        f"ceiling pp {ceiling['pp_tps']} tok/s, tg {ceiling['tg_tps']} tok/s (depth {ceiling['depth']})   "
        f"generation {report['generation_tps']} tok/s = efficiency {report['efficiency']}\n"
        f"same lines on both paths: {report['same_lines']}"
    )
    latent = report["latent_capture_overhead"]
    console.print(
        f"latent capture (every block's output at each probe ÷ none): probe {latent['probe_ratio']}×, "
        f"generated token {latent['token_ratio']}×; a probe with its contrast pair {latent['contrast_ratio']}×"
    )
    console.print(scaling_line(report["turn_scaling"]), markup=False)
    console.print(battery_line(report["battery_fixed_cost"]), markup=False)
    cost = report["amx_setting_cost"]
    if "skipped" in cost:
        console.print(f"AMX setting cost: not measured ({cost['skipped']})")
    else:
        console.print(
            f"AMX setting cost (no extra buffer types ÷ as loaded here): "
            f"pp {cost['pp_ratio']}×, tg {cost['tg_ratio']}×"
        )


def battery_line(figure: dict) -> str:
    """The battery fixed-cost figure in one line."""
    return (
        f"battery fixed cost ({figure['runs']} runs of a small scene): separate `simstage run` processes "
        f"{figure['separate_s']} s, one `simstage battery` {figure['battery_s']} s: "
        f"{figure['fixed_cost_per_run_s']} s per run saved, ratio {figure['ratio']}×; "
        f"{figure['same_runs']} of {figure['runs']} runs the same both ways"
    )


def scaling_line(figure: dict) -> str:
    """The turn-scaling figure in one line."""
    short, long = figure["turns"]
    return (
        f"turn scaling (engine on the scripted stage, {figure['characters']} characters): "
        f"time {long} turns ÷ {short} turns {figure['time_ratio_4000_2000']}× "
        f"({figure['seconds'][1]} s ÷ {figure['seconds'][0]} s), "
        f"peak RSS {figure['rss_mb'][0]} MB at {short}, {figure['rss_mb_4000']} MB at {long}"
    )


def _print_runs(report: dict, as_json: bool) -> None:
    from rich.console import Console
    from rich.table import Table

    if as_json:
        click.echo(json.dumps(report))
        return
    table = Table(
        title=f"simstage bench --runs — {report['model']}, {report['characters']} characters × "
        f"{report['turns']} turns × {report['line_tokens']} tokens per run, {report['threads']} threads"
    )
    columns = ("runs", "one after another s", "batched s", "runs/h alone", "runs/h batched",
               "speed-up", "tok/s batched", "lanes per decode", "KV MiB per run")  # fmt: skip
    for column in columns:
        table.add_column(column, justify="right")
    for row in report["by_runs"]:
        table.add_row(
            str(row["runs"]), f"{row['sequential_s']:.1f}", f"{row['batched_s']:.1f}",
            f"{row['runs_per_hour_sequential']:.0f}", f"{row['runs_per_hour_batched']:.0f}",
            f"{row['runs_speedup']:.2f}×", f"{row['tokens_per_s_batched']:.0f}",
            f"{row['lanes_per_decode']:.2f}", f"{row['kv_mib_per_run']:.1f}",
        )  # fmt: skip
    console = Console()
    console.print(table)
    last = report["by_runs"][-1]
    console.print(
        f"runs_speedup {report['runs_speedup']}× at {last['runs']} runs; "
        f"{last['identical_alone']} of {last['runs']} batched runs identical to the run played alone; "
        f"peak memory {report['peak_rss_mib']} MiB"
    )
