"""`simstage report RUN.jsonl|SWEEP_DIR -o report.html`: a run, or a sweep, as one self-contained HTML page."""

from __future__ import annotations

from pathlib import Path

import click

from simstage.cli.errors import fail


@click.command()
@click.argument("runlog", metavar="RUNLOG|SWEEP_DIR", type=click.Path())
@click.option(
    "-o",
    "--out",
    type=click.Path(dir_okay=False),
    help="HTML file to write (default: RUNLOG with .html, or SWEEP_DIR/report.html).",
)
def report(runlog: str, out: str | None) -> None:
    """Write a report of RUNLOG, or of the sweep in SWEEP_DIR, as one HTML page.

    A run's report: transcript, belief graph with a turn slider, ToM and
    puppeteer metrics. Open it at a given turn with report.html#turn=3.
    Interrupted runs are reported up to their last whole event.

    A sweep's report: its plan, ToM per variant (mean over seeds, 95% bootstrap
    interval), the sweep's chart and every run; when the runs captured
    activations (--latent), the latent probes' accuracy per layer for each
    target (mean difference, logistic, CCS; chance and behaviour as lines), as
    `simstage latent fit` computes it (this fits the probes: 44 s for 40 runs of
    SmolLM2's 30 blocks on 2 cores; wider models and more runs take longer).

    The page needs no network: CSS, SVG and script are inline.
    """
    from simstage.report import ReportError, report_html
    from simstage.report.files import OutputError, refuse_input, write_output
    from simstage.run.log import RunLogError

    if "\0" in runlog or (out and "\0" in out):
        fail("a file name cannot contain a NUL character")
    if Path(runlog).is_dir():
        _sweep_report(Path(runlog), out or str(Path(runlog) / "report.html"))
        return
    target = out or str(Path(runlog).with_suffix(".html"))
    try:
        refuse_input(target, [runlog])  # before the work: a report never replaces what it reports on
        html, warnings, count = report_html(runlog)
        written = write_output(target, html, inputs=[runlog])
    except (RunLogError, ReportError, OutputError) as exc:
        fail(str(exc))
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)
    click.echo(f"wrote {written} ({count} events)", err=True)


def _sweep_report(folder: Path, target: str) -> None:
    from simstage.analysis.sweep_latent import latent_profile
    from simstage.report.files import OutputError, refuse_input, write_output
    from simstage.report.sweep_page import sweep_report_html
    from simstage.sweep.folder import read_plan_file
    from simstage.sweep.plan import SweepError

    try:
        refuse_input(target, _sweep_inputs(folder))
        read_plan_file(folder)  # a sweep folder, before its probes are fitted
        latent = latent_profile(folder, progress=lambda line: click.echo(line, err=True))
        html, warnings = sweep_report_html(folder, latent)
        written = write_output(target, html, inputs=_sweep_inputs(folder))
    except (SweepError, OutputError) as exc:
        fail(str(exc))
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)
    click.echo(f"wrote {written}", err=True)


def _sweep_inputs(folder: Path) -> list[Path]:
    """The files a sweep's report reads (its plan, run logs, rows, latent sidecars): never its output."""
    from simstage.sweep.plan import PLAN_FILE, ROWS

    try:
        found = [folder / PLAN_FILE, *folder.glob("*.jsonl"), *folder.glob("*.latent.f32")]
        return found + list((folder / ROWS).glob("*.json"))
    except OSError:
        return []
