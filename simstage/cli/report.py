"""`simstage report RUN.jsonl|SWEEP_DIR|BATTERY_DIR -o report.html`: a run, a sweep or a battery's profile, as one
self-contained HTML page (a battery's also as JSON, `--json`)."""

from __future__ import annotations

from pathlib import Path

import click

from simstage.cli.errors import fail
from simstage.cli.options import out_file_option


@click.command()
@click.argument("runlog", metavar="RUNLOG|SWEEP_DIR|BATTERY_DIR", type=click.Path())
@out_file_option(
    "File to write (default: RUNLOG with .html, or DIR/report.html; with --json, standard output)."
)
@click.option(
    "--json", "as_json", is_flag=True,
    help="A battery's profile as JSON (the shape of simstage.analysis.profile.Profile) instead of HTML.",
)  # fmt: skip
def report(runlog: str, out: str | None, as_json: bool) -> None:
    """Write a report of RUNLOG, of the sweep in SWEEP_DIR, or of the battery in BATTERY_DIR, as one HTML page.

    A run's report: transcript, belief graph with a turn slider, ToM and
    puppeteer metrics. Open it at a given turn with report.html#turn=3.
    Interrupted runs are reported up to their last whole event.

    A sweep's report: its plan, ToM per variant (mean over seeds, 95% bootstrap
    interval), the sweep's chart and every run; when the runs captured
    activations (--latent), the latent probes' accuracy per layer for each
    target (mean difference, logistic, CCS; chance and behaviour as lines), as
    `simstage latent fit` computes it (this fits the probes: 44 s for 40 runs of
    SmolLM2's 30 blocks on 2 cores; wider models and more runs take longer).

    A battery's report is its profile (`simstage battery`): for each model, ToM
    accuracy by order × style × false/true belief × kind with 95% intervals
    bootstrapped over scenes, beside chance and the trivial baselines on the same
    probes (answer reality, the lower order, the first- or last-named option);
    direct vs indirect agreement; puppeteers paired (sycophancy, persona drift);
    models paired on identical questions; and the latent probes per layer where
    the runs captured activations. --json writes the same figures as JSON.

    The page needs no network: CSS, SVG and script are inline.
    """
    from simstage.report import ReportError, report_html
    from simstage.report.files import OutputError, refuse_input, write_output
    from simstage.run.log import RunLogError

    if "\0" in runlog or (out and "\0" in out):
        fail("a file name cannot contain a NUL character")
    if Path(runlog).is_dir() and _is_battery(Path(runlog)):
        _battery_report(Path(runlog), out, as_json)
        return
    if as_json:
        fail("--json is for a battery's folder (simstage battery --out DIR)")
    if Path(runlog).is_dir():
        from simstage.battery.plan import BATTERY_FILE
        from simstage.sweep.plan import PLAN_FILE

        if not (Path(runlog) / PLAN_FILE).exists():
            fail(
                f"{runlog}: neither a sweep nor a battery folder (no {PLAN_FILE} or {BATTERY_FILE})"
            )
        _sweep_report(Path(runlog), out or str(Path(runlog) / "report.html"))
        return
    target = out or str(Path(runlog).with_suffix(".html"))
    try:
        refuse_input(
            target, [runlog]
        )  # before the work: a report never replaces what it reports on
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


def _is_battery(folder: Path) -> bool:
    from simstage.battery.plan import BATTERY_FILE

    return (folder / BATTERY_FILE).exists()


def _battery_report(folder: Path, out: str | None, as_json: bool) -> None:
    """A battery's profile as HTML (DIR/report.html by default) or JSON (standard output by default)."""
    from simstage.analysis.profile import battery_profile
    from simstage.battery.plan import BATTERY_FILE
    from simstage.battery.scenes import SCENES
    from simstage.report.files import OutputError, refuse_input, write_output
    from simstage.report.profile_page import profile_html
    from simstage.sweep.plan import SweepError

    target = out or (None if as_json else str(folder / "report.html"))
    inputs = [folder / BATTERY_FILE, *_sweep_inputs(folder), *_listed(folder / SCENES, "*.yaml")]
    try:
        if target is not None:
            refuse_input(target, inputs)
        profile = battery_profile(folder, progress=lambda line: click.echo(line, err=True))
        text = profile.model_dump_json(indent=1) + "\n" if as_json else profile_html(profile)
        if target is None:
            click.echo(text, nl=False)
            return
        written = write_output(target, text, inputs=inputs)
    except (SweepError, OutputError) as exc:
        fail(str(exc))
    for warning in profile.warnings:
        click.echo(f"warning: {warning}", err=True)
    click.echo(f"wrote {written}", err=True)


def _listed(folder: Path, pattern: str) -> list[Path]:
    try:
        return list(folder.glob(pattern))
    except OSError:
        return []
