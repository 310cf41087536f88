"""Snapshots of the main screen, live and in replay, at 120×40 and 80×24 (scripted stage).

Deterministic by construction: the scripted stage shows a fixed "— tok/s", the
run log paths are relative, and nothing shows a clock. Update with
`pytest tests/tui --snapshot-update`, then look at the SVGs before committing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from simstage.scenario import load_scenario
from simstage.stage.scripted import ScriptedStage
from simstage.tui import make_app, make_replay_app
from tests.tui.helpers import SCENARIOS, wait_idle, write_finished_run

SIZES = [pytest.param((120, 40), id="120x40"), pytest.param((80, 24), id="80x24")]


class TestLiveSnapshots:
    """The live screen after five scripted turns (Sally has a false belief; probes answered)."""

    @pytest.mark.parametrize("size", SIZES)
    def test_main_screen_live(self, snap_compare, tmp_path, monkeypatch, size):
        monkeypatch.chdir(tmp_path)
        loaded = load_scenario(SCENARIOS / "sally-anne.yaml")
        app = make_app(loaded, ScriptedStage(), Path("run.jsonl"))

        async def play(pilot) -> None:
            for _ in range(5):
                await pilot.press("n")
                await wait_idle(pilot)

        try:
            assert snap_compare(app, terminal_size=size, run_before=play)
        finally:
            app.live.close(timeout=5)


class TestReplaySnapshots:
    """A finished run scrubbed back to turn 3."""

    @pytest.mark.parametrize("size", SIZES)
    def test_main_screen_replay(self, snap_compare, tmp_path, monkeypatch, size):
        monkeypatch.chdir(tmp_path)
        path = write_finished_run(Path("finished.jsonl"))
        app = make_replay_app(path)
        assert snap_compare(app, terminal_size=size, press=["home", "right", "right", "right"])
