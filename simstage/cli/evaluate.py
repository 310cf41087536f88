"""`simstage eval tomi|hitom`: the ToM tracker scored on a benchmark file, and with --stage a model too.

The dataset readers, rich and the stage are imported inside the commands only.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from simstage.cli.errors import fail, friendly_errors
from simstage.tom.rules import RULE_NAMES

if TYPE_CHECKING:
    from simstage.tom.ask import StageAnswers
    from simstage.tom.stories import Benchmark


@click.group(name="eval")
def eval_group() -> None:
    """Score the ToM tracker on theory-of-mind benchmarks (ToMi, Hi-ToM).

    With --stage, the model is asked every question too (a multiple choice,
    through the same machinery as belief probes) and its accuracy is printed
    beside the tracker's.
    """


def eval_options(command: Any) -> Any:
    """The options `eval tomi` and `eval hitom` share: output, and asking a model the questions too."""
    options = [
        click.option(
            "--rules",
            type=click.Choice(list(RULE_NAMES)),
            default="default",
            show_default=True,
            help="The tracker's rule set: simstage's own, or ToMi's or Hi-ToM's generator's (see docs/beliefs.md).",
        ),
        click.option(
            "--json",
            "as_json",
            is_flag=True,
            help='Print {"n", "accuracy", "interval", "by_type"} (and "stage" with --stage) as JSON.',
        ),
        click.option(
            "--disagreements",
            type=click.Path(dir_okay=False),
            help="Write every wrong answer (tracker's or model's) here (JSONL).",
        ),
        click.option(
            "--stage",
            "backend",
            is_flag=False,
            flag_value="llama",
            default=None,
            type=click.Choice(["llama", "litellm", "scripted"]),
            help="Also ask the model each question (alone: the in-process llama stage).",
        ),
        click.option(
            "--model",
            default="default",
            show_default=True,
            help="With --stage: an embedded model's name, a GGUF path, or (litellm) a name such as openai/NAME.",
        ),
        click.option(
            "--api-base", "api_base", metavar="URL", help="With --stage litellm: the server's URL."
        ),
        click.option("--threads", type=click.IntRange(1), help="With --stage llama: CPU threads."),
        click.option(
            "--limit",
            type=click.IntRange(1),
            help="With --stage: ask the model N questions, spread evenly over the file.",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _ask(
    scored: list[Any],
    backend: str | None,
    model: str,
    api_base: str | None,
    threads: int | None,
    limit: int | None,
) -> StageAnswers | None:
    """The stage's answers, or None without --stage."""
    if backend is None:
        if api_base or threads or limit:
            fail("--api-base, --threads and --limit need --stage")
        return None
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from simstage.tom.ask import ask_questions, question_stage

    stage = question_stage(backend, model, api_base=api_base, threads=threads)
    err = Console(stderr=True, emoji=False, highlight=False)
    try:
        with Progress(
            TextColumn("asking the model"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err,
            transient=True,
        ) as progress:
            task = progress.add_task("ask", total=None)
            result = ask_questions(
                stage,
                scored,
                limit,
                lambda done, total: progress.update(task, completed=done, total=total),
            )
    finally:
        stage.close()
    if result.interrupted:
        err.print(
            f"interrupted: reporting the {len(result.answers)} of {result.asked} questions the model answered"
        )
        if not result.answers:
            raise SystemExit(130)
    return result


def _report(
    name: str,
    read: Benchmark,
    rules: str,
    as_json: bool,
    disagreements: str | None,
    stage: StageAnswers | None,
    source: str,
) -> None:
    from simstage.tom.ask import stage_summary
    from simstage.tom.stories import summarise

    scored = read.scored
    summary = {**summarise(scored), "rules": rules, **read.facts, "notes": read.notes}
    answers = stage.answers if stage else {}
    if stage:
        summary["stage"] = {"model": stage.model, **stage_summary(scored, answers)}
    if disagreements:
        from simstage.report.files import OutputError, write_output
        from simstage.tom.ask import wrong_answers

        try:
            write_output(disagreements, wrong_answers(scored, answers), inputs=[source])
        except OutputError as exc:
            fail(str(exc))
    if as_json:
        click.echo(json.dumps(summary))
    else:
        _print_table(name, summary)
    if stage and stage.interrupted:
        raise SystemExit(130)


def _rate(score: dict[str, Any]) -> str:
    """`97.5% [94.2%, 98.9%]`: an accuracy and its 95% Wilson interval."""
    interval = score.get("interval")
    if not interval:
        return f"{score['accuracy']:.1%}"
    return f"{score['accuracy']:.1%} [{interval[0]:.1%}, {interval[1]:.1%}]"


def _print_table(name: str, summary: dict[str, Any]) -> None:
    """The summary as text: accuracy per question type with its interval, the model's beside the tracker's.

    A file with several copies (Hi-ToM's prompting types) gets a column per copy, and a row per copy.
    """
    click.echo(
        f"{name}: {summary['n']} questions, tracker accuracy {_rate(summary)} ({summary['method']}), "
        f"{summary['rules']} rules"
    )
    stage = summary.get("stage")
    if stage:
        click.echo(
            f"{name}: {stage['n']} questions asked of {stage['model']}, accuracy {_rate(stage)}"
        )
    copies = list(summary.get("by_copy", {}))
    heading = f"  {'type':<26} {'n':>5}  {'tracker [95% Wilson]':<24}"
    heading += "".join(f" {'copy ' + copy:<24}" for copy in copies)
    if stage:
        heading += f" {'asked':>5}  {'stage [95% Wilson]':<24}"
    click.echo(heading.rstrip())
    by_copy = summary.get("by_type_copy", {})
    for qtype, score in summary["by_type"].items():
        line = f"  {qtype:<26} {score['n']:>5}  {_rate(score):<24}"
        line += "".join(
            f" {_rate(by_copy[qtype][c]) if c in by_copy.get(qtype, {}) else '-':<24}"
            for c in copies
        )
        if stage:
            model = stage["by_type"].get(qtype)
            line += f" {model['n']:>5}  {_rate(model):<24}" if model else f" {0:>5}  {'-':<24}"
        click.echo(line.rstrip())
    for copy, score in summary.get("by_copy", {}).items():
        click.echo(f"  {'copy ' + copy:<26} {score['n']:>5}  {_rate(score)}")
    for note in summary.get("notes", []):
        click.echo(f"{name}: {note}")


def _evaluate(
    name: str,
    reader: Callable[..., Benchmark],
    path: str,
    *,
    rules: str,
    as_json: bool,
    disagreements: str | None,
    backend: str | None,
    model: str,
    api_base: str | None,
    threads: int | None,
    limit: int | None,
) -> None:
    """Read a benchmark file, score the tracker under `rules`, ask the stage when told to, and report."""
    from simstage.tom.stories import StoryError

    if disagreements:
        from simstage.report.files import OutputError, refuse_input

        try:
            refuse_input(disagreements, [path], option="--disagreements")
        except OutputError as exc:
            fail(str(exc))
    try:
        read = reader(path, rules=rules)
    except StoryError as exc:
        fail(str(exc))
    stage = friendly_errors(_ask)(read.scored, backend, model, api_base, threads, limit)
    _report(name, read, rules, as_json, disagreements, stage, path)


@eval_group.command()
@click.argument("stories", type=click.Path(dir_okay=False))
@eval_options
def tomi(stories: str, **options: Any) -> None:
    """Answer the questions of a ToMi file (bAbI format) with the tracker.

    Reads the fixed form (SymbolicToM's files, containers' rooms stated) and the
    original form as shipped (filler without full stops, rooms never stated:
    inferred as ToMi's generator places them), and says which it read. A
    STORIES.trace file beside it, if present, gives each story's question type.
    With --stage the model chooses among the story's containers.
    """
    from simstage.tom.tomi import read_tomi

    _evaluate("ToMi", read_tomi, stories, **options)


@eval_group.command()
@click.argument("file", type=click.Path(dir_okay=False))
@eval_options
def hitom(file: str, **options: Any) -> None:
    """Answer the questions of a Hi-ToM file (JSON) with the tracker; types are order_N[_deception].

    --rules hitom follows Hi-ToM's generator. The published file holds each
    question twice (prompting types CoTP and VP), scored apart as "copy"
    rows; copies that disagree on an answer are counted in a note.
    With --stage the model chooses among the record's listed choices.
    """
    from simstage.tom.hitom import read_hitom

    _evaluate("Hi-ToM", read_hitom, file, **options)
