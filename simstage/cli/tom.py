"""Theory-of-mind commands: `export` belief graphs, `bench-tracker`; `eval` is `simstage.cli.evaluate`.

networkx and the tracker's bench are imported inside the commands only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from simstage.cli.errors import fail, header_scenario_problem
from simstage.cli.evaluate import eval_group
from simstage.cli.options import out_file_option

# `eval` lives in `simstage.cli.evaluate`; imported from here too.
__all__ = ["FORMAT_CHOICE", "bench_tracker", "eval_group", "export"]

FORMAT_CHOICE = click.Choice(["graphml", "gexf", "json", "dot", "mermaid", "csv"])


def _fail(message: str) -> None:

    fail(message)


def _load_run(runlog: str) -> tuple[Any, list[Any]]:
    from simstage.run.log import RunLogError, logged_scenario, read_runlog
    from simstage.scenario import ScenarioError

    try:
        log = read_runlog(runlog)
    except RunLogError as exc:
        _fail(str(exc))
        raise AssertionError from None  # unreachable: fail exits
    try:
        loaded = logged_scenario(log.header)
    except ScenarioError as exc:
        _fail(header_scenario_problem(runlog, exc.problems))
        raise AssertionError from None
    return loaded.scenario, list(log.events)


@click.command()
@click.argument("runlog", type=click.Path(dir_okay=False))
@click.option(
    "--format",
    "fmt",
    type=FORMAT_CHOICE,
    default="graphml",
    show_default=True,
    help="Output format; csv is the belief matrix in long form, every turn (one row per holder, chain, object or fact, and turn).",
)
@click.option(
    "--turn",
    type=click.IntRange(0),
    help="Beliefs at the end of this turn (default: the end of the run).",
)
@out_file_option(
    "File to write (default: stdout). With --all-turns, a prefix: OUT-turnN.EXT; a folder ending"
    " in / gets RUN-turnN.EXT inside it."
)
@click.option(
    "--all-turns",
    is_flag=True,
    help="One graph per turn the log records (turn 0 and each with events): OUT-turnN.EXT (OUT defaults to the run log's name).",
)
@click.option(
    "--order",
    type=click.IntRange(0, 4),
    help="Deepest belief order (default: the scenario's tom.order; csv: deeper where a probe asks deeper).",
)
def export(
    runlog: str, fmt: str, turn: int | None, out: str | None, all_turns: bool, order: int | None
) -> None:
    """Export the belief graph of RUNLOG (nodes: characters, objects, containers, facts; edges: beliefs).

    With --format csv: the belief matrix in long form, columns turn, holder,
    chain (">"-joined, empty for the holder's own belief), object, container
    (empty: no belief), true, source, lie_by, fact, value; every turn, or only
    --turn. A row about a fact leaves object and container empty: value is
    true or false (empty: no belief, don't know) and true whether it is right.

    \b
    Examples:
      simstage export run.jsonl --format graphml -o beliefs.graphml
      simstage export run.jsonl --format mermaid --turn 3
      simstage export run.jsonl --format gexf --all-turns -o graphs/sally
      simstage export run.jsonl --format csv -o beliefs.csv
    """
    from simstage.report.files import OutputError, names_folder, refuse_input, write_output
    from simstage.tom.export import SUFFIX, recorded_turns, render_graph
    from simstage.tom.graph import belief_graph

    if all_turns and out == "-":
        _fail("--all-turns writes one file per turn; -o - (standard output) cannot hold them")
    if out and not all_turns:
        try:
            refuse_input(out, [runlog])
        except OutputError as exc:
            _fail(str(exc))
    scenario, events = _load_run(runlog)
    last = max((getattr(e, "turn", 0) for e in events), default=0)
    if turn is not None and turn > last:
        _fail(f"{runlog}: --turn {turn} is past the run's last turn ({last})")
    if fmt == "csv":
        if all_turns:
            _fail("--all-turns does not apply to --format csv (it holds every turn already)")
        from simstage.tom.matrix import belief_matrices, csv_text

        _write_or_echo(csv_text(*belief_matrices(scenario, events, turn, order)), out, runlog)
        return
    if all_turns:
        if out and names_folder(out):  # graphs/: the run log's name inside the folder
            stem = Path(out) / Path(runlog).stem
        else:
            stem = Path(out) if out else Path(runlog).with_suffix("")
        turns = recorded_turns(events)
        paths = [stem.parent / f"{stem.name}-turn{t}{SUFFIX[fmt]}" for t in turns]
        try:
            # The folder first: each graph is then refused, before any is written, where it is
            # the run log or cannot be written.
            stem.parent.mkdir(parents=True, exist_ok=True)
            for path in paths:
                refuse_input(path, [runlog])
            for t, path in zip(turns, paths, strict=True):
                write_output(
                    path,
                    render_graph(belief_graph(scenario, events, t, order=order), fmt),
                    inputs=[runlog],
                )
        except OutputError as exc:
            _fail(str(exc))
        except OSError as exc:
            _fail(f"cannot write {stem.parent}: {exc.strerror or exc}")
        gaps = "" if len(turns) == last + 1 else " (the turns with events)"
        click.echo(
            f"wrote {len(turns)} graphs: {stem.parent / stem.name}-turn0..{last}{SUFFIX[fmt]}{gaps}",
            err=True,
        )
        return
    _write_or_echo(
        render_graph(belief_graph(scenario, events, turn, order=order), fmt), out, runlog
    )


def _write_or_echo(text: str, out: str | None, runlog: str) -> None:
    """Write `text` to `out` (see `write_output`: never a partial file, never the run log), or to stdout."""
    from simstage.report.files import OutputError, write_output

    try:
        write_output(out or "-", text, inputs=[runlog])
    except OutputError as exc:
        _fail(str(exc))


@click.command(name="bench-tracker")
@click.option("--characters", type=click.IntRange(1, 64), default=20, show_default=True)
@click.option("--order", type=click.IntRange(0, 4), default=3, show_default=True)
@click.option("--events", type=click.IntRange(1), default=10_000, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
def bench_tracker(characters: int, order: int, events: int, seed: int) -> None:
    """Time the ToM tracker folding a synthetic scene (characters moving between rooms)."""
    from simstage.tom.bench import bench_tracker as run_bench

    result = run_bench(characters, order, events, seed=seed)
    click.echo(
        f"tracker: {result.characters} characters, order {result.order}, {result.events} events: "
        f"fold {result.fold_s:.3f} s ({result.events / max(result.fold_s, 1e-9):,.0f} events/s); "
        f"{result.queries} queries {result.query_s * 1000:.1f} ms"
    )
