"""Export the belief graph from the TUI, through `simstage.tom` when it is there."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from simstage.scenario.models import Scenario


def export_beliefs(
    scenario: Scenario,
    events: Sequence[Any],
    log_path: Path,
    turn: int | None = None,
    fmt: str = "graphml",
) -> str:
    """Write the belief graph at `turn` beside the run log, atomically; return a line saying what happened.

    Raises:
        OutputError: the graph's file is the run log (a link to it), or cannot be
            written (a read-only folder, a full disk, a folder of that name): one
            line naming the file; what was there before is left as it was.
    """
    from simstage.report.files import refuse_input, write_output

    try:
        from simstage.tom.export import SUFFIX, render_graph
        from simstage.tom.graph import belief_graph
    except ImportError:
        return "belief graph export needs simstage.tom, which is not available"
    shown = [e for e in events if getattr(e, "type", "") != "run_ended"]
    suffix = f"-turn{turn}" if turn is not None else ""
    target = log_path.with_name(f"{log_path.stem}.beliefs{suffix}{SUFFIX[fmt]}")
    refuse_input(target, [log_path], option=None)
    write_output(target, render_graph(belief_graph(scenario, shown, turn), fmt))
    return f"belief graph written to {target}"
