"""The run log: header, one flushed event per line, robust to crashes and corruption."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from simstage.cli import main
from simstage.engine import Simulation
from simstage.events import event_from_json
from simstage.run.log import RunLogError, RunLogWriter, read_runlog
from simstage.run.open import make_header
from simstage.stage.scripted import ScriptedStage
from tests.conftest import ROOT, SCENARIOS


def write_run(sally_anne, path: Path, **kwargs) -> list:
    stage = ScriptedStage()
    header = make_header(sally_anne, stage, sally_anne.scenario.seed, sally_anne.scenario.max_turns)
    with RunLogWriter(path, header) as writer:
        sim = Simulation(sally_anne.scenario, stage, sink=writer.append, **kwargs)
        sim.run()
    return sim.events


def test_round_trip(sally_anne, tmp_path) -> None:
    path = tmp_path / "run.jsonl"
    events = write_run(sally_anne, path)
    log = read_runlog(path)
    assert log.header.scenario_text == sally_anne.text
    assert log.header.scenario_sha256 == sally_anne.sha256
    assert log.header.stage.backend == "scripted"
    assert log.events == events
    assert log.ended and not log.warnings


def test_never_overwrites_an_existing_log(sally_anne, tmp_path) -> None:
    path = tmp_path / "run.jsonl"
    write_run(sally_anne, path)
    before = path.read_bytes()
    with pytest.raises(FileExistsError):
        write_run(sally_anne, path)
    assert path.read_bytes() == before


def test_cut_last_line_is_dropped_with_a_warning(sally_anne, tmp_path) -> None:
    path = tmp_path / "run.jsonl"
    events = write_run(sally_anne, path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 20])
    log = read_runlog(path)
    assert log.events == events[:-1]
    assert log.warnings and "incomplete" in log.warnings[0] and str(path) in log.warnings[0]


def test_corrupt_line_in_the_middle_is_an_error_naming_the_line(sally_anne, tmp_path) -> None:
    path = tmp_path / "run.jsonl"
    write_run(sally_anne, path)
    lines = path.read_text().splitlines(keepends=True)
    lines[3] = '{"type": "say", "oops": \n'
    path.write_text("".join(lines))
    with pytest.raises(RunLogError, match=rf"{path}:4: corrupt event"):
        read_runlog(path)
    result = CliRunner().invoke(main, ["replay", str(path)])
    assert result.exit_code == 2
    assert f"{path}:4:" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("content", [b"", b"hello\n", b'{"type": "say"}\n', b"\x00\xff\xfe"])
def test_not_a_run_log(tmp_path, content: bytes) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_bytes(content)
    result = CliRunner().invoke(main, ["replay", str(path)])
    assert result.exit_code == 2
    assert str(path) in result.output and "Traceback" not in result.output


def test_replay_reproduces_the_transcript_from_the_log(sally_anne, tmp_path) -> None:
    path = tmp_path / "run.jsonl"
    events = write_run(sally_anne, path)
    result = CliRunner().invoke(main, ["replay", str(path)])
    assert result.exit_code == 0, result.output
    said = [e.text for e in events if e.type == "say"]
    assert said and all(text in result.output for text in said)
    assert "Anne moves the marble from the basket to the box." in result.output
    assert "The marble is in the box (room)." in result.output


def test_replay_verify_matches_a_scripted_run(sally_anne, tmp_path) -> None:
    path = tmp_path / "run.jsonl"
    write_run(sally_anne, path)
    result = CliRunner().invoke(main, ["replay", str(path), "--verify"])
    assert result.exit_code == 0, result.output
    assert "verify: match" in result.output


def test_replay_verify_reports_a_tampered_log(sally_anne, tmp_path) -> None:
    path = tmp_path / "run.jsonl"
    write_run(sally_anne, path)
    lines = path.read_text().splitlines(keepends=True)
    index = next(i for i, line in enumerate(lines) if '"type":"say"' in line)
    lines[index] = lines[index].replace("Line", "Lime")
    path.write_text("".join(lines))
    result = CliRunner().invoke(main, ["replay", str(path), "--verify"])
    assert result.exit_code == 1
    assert f"log line {index + 1}" in result.output


KILL_SCRIPT = textwrap.dedent(
    """
    import sys
    from simstage.engine import Simulation
    from simstage.run.log import RunLogWriter
    from simstage.scenario import load_scenario
    from simstage.run.open import make_header
    from simstage.stage.scripted import ScriptedStage

    loaded = load_scenario(sys.argv[1])
    stage = ScriptedStage(delay=0.01, chunk=2)
    header = make_header(loaded, stage, 0, 100000)
    with RunLogWriter(sys.argv[2], header) as writer:
        Simulation(loaded.scenario, stage, sink=writer.append, max_turns=100000).run()
    """
)


def test_sigkill_mid_scene_leaves_a_readable_log(tmp_path) -> None:
    path = tmp_path / "killed.jsonl"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", KILL_SCRIPT, str(SCENARIOS / "dinner-party.yaml"), str(path)],
        env=env,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if path.exists() and path.read_bytes().count(b"\n") > 20:
            break
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    lines = path.read_bytes().split(b"\n")
    whole = [line for line in lines[1:-1]]
    assert len(whole) > 20
    for line in whole:
        event_from_json(line)  # every complete line parses
    assert json.loads(lines[0])["type"] == "header"
    log = read_runlog(path)
    assert not log.ended
    result = CliRunner().invoke(main, ["replay", str(path)])
    assert result.exit_code == 0, result.output
    assert "did not record its end" in result.output
    last_said = [e for e in log.events if e.type == "say"][-1]
    assert last_said.text in result.output
