"""The TUI's command line: the scenario picker, `--web` without textual-serve, `replay --tui` wiring."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from click.testing import CliRunner

from simstage.cli import main
from simstage.tui.screens import PickerApp, scenario_candidates
from tests.tui.helpers import SCENARIOS


async def test_picker_returns_the_chosen_scenario():
    paths = scenario_candidates([SCENARIOS, Path(".")])
    assert [p.name for p in paths][:3] == [
        "dinner-party.yaml",
        "false-claim.yaml",
        "sally-anne.yaml",
    ]
    app = PickerApp(paths)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("down", "down", "enter")
    assert app.return_value is not None and app.return_value.name == "sally-anne.yaml"


async def test_picker_quits_with_nothing():
    app = PickerApp([])
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("q")
    assert app.return_value is None


@pytest.mark.skipif(
    importlib.util.find_spec("textual_serve") is not None, reason="textual-serve is installed"
)
def test_web_without_textual_serve_names_the_extra():
    result = CliRunner().invoke(main, ["tui", str(SCENARIOS / "sally-anne.yaml"), "--web"])
    assert result.exit_code == 2
    assert "pip install 'simstage[web]'" in result.output


def test_tui_and_replay_tui_are_commands():
    runner = CliRunner()
    assert "--stage" in runner.invoke(main, ["tui", "--help"]).output
    assert "--tui" in runner.invoke(main, ["replay", "--help"]).output
