"""Export the belief graph from the TUI, through `simstage.tom` when it is there."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from simstage.scenario.models import Scenario


def export_beliefs(scenario: Scenario, events: Sequence[Any], log_path: Path) -> str:
    """Write the belief graph beside the run log; return a line saying what happened."""
    try:
        from simstage.tom import export as tom_export  # type: ignore[attr-defined]
    except ImportError:
        return "belief graph export needs simstage.tom's exporter, which is not available yet"
    target = log_path.with_suffix(".beliefs.graphml")
    for name in ("export_graphml", "write_graphml", "export_graph"):
        function = getattr(tom_export, name, None)
        if function is not None:
            function(scenario, list(events), target)
            return f"belief graph written to {target}"
    return "simstage.tom.export has no graph writer the TUI knows"
