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
    from simstage.report import ReportError, write_report
    from simstage.run.log import RunLogError

    if "\0" in runlog or (out and "\0" in out):
        fail("a file name cannot contain a NUL character")
    if Path(runlog).is_dir():
        _sweep_report(Path(runlog), Path(out) if out else Path(runlog) / "report.html")
        return
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


def _sweep_report(folder: Path, target: Path) -> None:
    from simstage.report.files import atomic_write_text
    from simstage.report.sweep_page import sweep_report_html
    from simstage.sweep.plan import SweepError

    try:
        html, warnings = sweep_report_html(folder, progress=lambda line: click.echo(line, err=True))
        atomic_write_text(target, html)
    except SweepError as exc:
        fail(str(exc))
        return
    except OSError as exc:
        fail(f"cannot write {target}: {exc.strerror or exc}")
        return
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)
    click.echo(f"wrote {target}", err=True)
