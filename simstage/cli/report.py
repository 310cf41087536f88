"""`simstage report RUN.jsonl -o report.html`: a run as one self-contained HTML page."""

from __future__ import annotations

from pathlib import Path

import click

from simstage.cli.errors import fail


@click.command()
@click.argument("runlog", type=click.Path(dir_okay=False))
@click.option(
    "-o",
    "--out",
    type=click.Path(dir_okay=False),
    help="HTML file to write (default: RUNLOG with .html).",
)
def report(runlog: str, out: str | None) -> None:
    """Write a report of RUNLOG: transcript, belief graph with a turn slider, ToM and puppeteer metrics.

    The page needs no network: CSS, SVG and script are inline. Open it at a given
    turn with report.html#turn=3. Interrupted runs are reported up to their last
    whole event.
    """
    from simstage.report import ReportError, write_report
    from simstage.run.log import RunLogError

    if "\0" in runlog or (out and "\0" in out):
        fail("a file name cannot contain a NUL character")
    target = Path(out) if out else Path(runlog).with_suffix(".html")
    try:
        same = target.resolve() == Path(runlog).resolve()
    except (OSError, RuntimeError):  # a symlink loop
        same = False
    if same:
        fail(f"{target}: the report would overwrite the run log; choose another -o")
    try:
        result = write_report(runlog, target)
    except (RunLogError, ReportError) as exc:
        fail(str(exc))
        return
    except OSError as exc:
        fail(f"cannot write {target}: {exc.strerror or exc}")
        return
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    click.echo(f"wrote {result.path} ({result.events} events)", err=True)

