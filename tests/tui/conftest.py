"""TUI fixtures: live apps on the scripted stage, and finished run logs."""

from __future__ import annotations

from pathlib import Path

import pytest

from simstage.scenario import load_scenario
from simstage.stage.scripted import ScriptedStage
from tests.tui.helpers import SCENARIOS, write_finished_run


@pytest.fixture
def live_app(tmp_path):
    """Factory: a live app on the scripted stage, writing `tmp_path/run.jsonl` (closed afterwards)."""
    apps = []

    def make(
        scenario: str = "sally-anne.yaml",
        stage: ScriptedStage | None = None,
        out: str | Path | None = None,
    ):
        from simstage.tui import make_app

        loaded = load_scenario(SCENARIOS / scenario)
        app = make_app(
            loaded, stage or ScriptedStage(), out or tmp_path / "run.jsonl", overwrite=True
        )
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.live.close(timeout=5)


@pytest.fixture
def finished_run(tmp_path) -> Path:
    """A completed Sally-Anne run log on the scripted stage."""
    return write_finished_run(tmp_path / "finished.jsonl")
