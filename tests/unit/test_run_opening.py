"""One way to open a run (`simstage/run/open.py`): every path builds its simulation, activation
store and new log there, and a taken log path is refused there, before any stage starts."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

import simstage.run.open
from simstage.cli import main
from simstage.run.log import read_runlog
from simstage.run.open import LogFile, make_header, open_run, open_simulation
from simstage.scenario import load_scenario
from simstage.stage import StageError
from simstage.stage.scripted import ScriptedStage
from tests.conftest import SCENARIOS

PACKAGE = Path(simstage.run.open.__file__).resolve().parents[1]
OPENER = "run/open.py"
SALLY = SCENARIOS / "sally-anne.yaml"


def _built_in(pattern: str) -> dict[str, list[int]]:
    """The modules (relative to simstage/) whose text calls `pattern`, with the lines: child scripts held
    in strings count, a class statement does not."""
    call = re.compile(rf"(?<!\w){pattern}\(")
    found: dict[str, list[int]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if call.search(line) and not line.lstrip().startswith("class "):
                found.setdefault(path.relative_to(PACKAGE).as_posix(), []).append(number)
    return found


def test_the_scan_sees_a_call_and_skips_the_class():
    assert _built_in("RunLogWriter")  # built in run/, by the fork and the opener
    assert "engine.py" not in _built_in("Simulation")


@pytest.mark.parametrize("name", ["Simulation", "LatentStore"])
def test_one_module_builds_a_simulation_and_its_activation_store(name: str):
    assert list(_built_in(name)) == [OPENER]


def test_one_place_says_a_new_log_is_taken():
    said = [
        path.relative_to(PACKAGE).as_posix()
        for path in PACKAGE.rglob("*.py")
        if "choose another --out or pass --force" in path.read_text(encoding="utf-8")
    ]
    assert said == [OPENER]


def _no_stage(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    built: list[object] = []
    monkeypatch.setattr(
        simstage.run.open, "make_stage", lambda *a, **k: built.append(a) or ScriptedStage()
    )
    return built


def test_a_taken_log_is_refused_before_the_stage_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    built = _no_stage(monkeypatch)
    out = tmp_path / "run.jsonl"
    out.write_text("keep me\n", encoding="utf-8")
    with pytest.raises(
        StageError, match=r"run\.jsonl exists; choose another --out or pass --force"
    ):
        with open_run(SALLY, out, backend="scripted"):
            pass
    assert built == []
    assert out.read_text(encoding="utf-8") == "keep me\n"


@pytest.mark.parametrize("command", ["run", "tui"])
def test_the_commands_refuse_a_taken_log_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str
):
    built = _no_stage(monkeypatch)
    out = tmp_path / "run.jsonl"
    out.write_text("keep me\n", encoding="utf-8")
    args = [command, str(SALLY), "--out", str(out), "--stage", "scripted"]
    result = CliRunner().invoke(main, args + (["--headless"] if command == "run" else []))
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("simstage:")]
    assert len(lines) == 1 and "run.jsonl exists; choose another --out or pass --force" in lines[0]
    assert built == []
    assert out.read_text(encoding="utf-8") == "keep me\n"


def test_the_tui_opens_its_run_the_common_way(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """`simstage tui` opens its log through `open_run`: quitting at once leaves a whole, interrupted log."""
    from simstage.cli.tui import run_tui
    from simstage.tui.app import SimstageApp

    opened: list[Path] = []
    real = simstage.run.open.open_run

    def spy(scenario, out, **options):
        opened.append(Path(out))
        return real(scenario, out, **options)

    monkeypatch.setattr(simstage.run.open, "open_run", spy)
    monkeypatch.setattr(SimstageApp, "run", lambda self, *a, **k: None)
    out = tmp_path / "live.jsonl"
    assert run_tui(str(SALLY), backend="scripted", out=str(out), seed=7, max_turns=3) == 0
    assert opened == [out]
    log = read_runlog(out)
    assert (log.header.seed, log.header.max_turns) == (7, 3)
    assert [e.type for e in log.events] == ["run_ended"] and log.events[0].reason == "interrupted"


def test_a_log_gives_the_seed_and_turns(tmp_path: Path):
    loaded = load_scenario(SALLY)
    stage = ScriptedStage()
    header = make_header(loaded, stage, 11, 2)
    with pytest.raises(ValueError, match="header"):
        open_simulation(loaded.scenario, stage, log=LogFile(tmp_path / "a.jsonl", header), seed=3)
    assert not (tmp_path / "a.jsonl").exists()
    opened = open_simulation(loaded.scenario, stage, log=LogFile(tmp_path / "b.jsonl", header))
    assert opened.sink is not None
    with opened.sink.writer:
        assert opened.simulation.run() == "completed"
    lines = [
        json.loads(line) for line in (tmp_path / "b.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    assert lines[0]["seed"] == 11 and max(line.get("turn", 0) for line in lines) == 2


def test_in_memory_nothing_is_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    loaded = load_scenario(SALLY)
    opened = open_simulation(loaded.scenario, ScriptedStage(), seed=2, max_turns=2)
    assert opened.sink is None
    assert opened.simulation.run() == "completed"
    assert opened.simulation.seed == 2 and opened.simulation.turn == 2
    assert list(tmp_path.iterdir()) == []


def test_compare_refuses_a_puppeteer_before_any_stage_starts(monkeypatch: pytest.MonkeyPatch):
    built = _no_stage(monkeypatch)
    args = [
        "compare",
        str(SALLY),
        "--puppeteer",
        "bare,human",
        "--model",
        "a,b",
        "--stage",
        "scripted",
    ]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2 and "cannot compare puppeteer 'human'" in result.stderr
    assert built == []
