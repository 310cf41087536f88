"""The run report: a run log as one self-contained HTML page (transcript, belief graph, metrics)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from simstage.errors import SimstageError
from simstage.report.files import atomic_write_text
from simstage.report.page import render_page


class ReportError(SimstageError, ValueError):
    """A run log that cannot be reported on; the message names the file."""


@dataclass(frozen=True)
class ReportResult:
    """What `write_report` wrote and what it warned about."""

    path: Path
    events: int
    warnings: tuple[str, ...]


def report_html(runlog: str | Path) -> tuple[str, list[str], int]:
    """The report of a run log as HTML, with the log's warnings and its event count.

    Raises:
        RunLogError: the run log cannot be read.
        ReportError: the scenario in its header is invalid.
    """
    from simstage.run.log import logged_scenario, read_runlog
    from simstage.scenario import ScenarioError

    log = read_runlog(runlog)
    try:
        loaded = logged_scenario(log.header)
    except ScenarioError as exc:
        first = exc.problems[0] if exc.problems else "invalid scenario"
        raise ReportError(f"{runlog}:1: the scenario in the header is invalid: {first}") from None
    html = render_page(
        loaded.scenario, log.events, header=log.header, warnings=log.warnings, ended=log.ended
    )
    return html, list(log.warnings), len(log.events)


def write_report(runlog: str | Path, out: str | Path) -> ReportResult:
    """Write the report of `runlog` to `out`, atomically (never a partial file).

    Raises:
        RunLogError: the run log cannot be read.
        ReportError: the scenario in its header is invalid.
        OSError: `out` cannot be written.
    """
    html, warnings, count = report_html(runlog)
    atomic_write_text(out, html)
    return ReportResult(Path(out), count, tuple(warnings))


__all__ = [
    "ReportError",
    "ReportResult",
    "atomic_write_text",
    "render_page",
    "report_html",
    "write_report",
]
