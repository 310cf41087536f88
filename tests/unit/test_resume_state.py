"""A resumed run is the run it would have been: `replay --verify` passes after `run --resume`.

A run killed mid-way (SIGKILL cuts its log, SIGTERM records an interruption) and
resumed must go on exactly as the uninterrupted run would have, whatever state
the stage carried from call to call (the scripted stage numbers its lines).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from simstage.cli import main
from simstage.run.log import read_runlog
from tests.conftest import ROOT, SCENARIOS


def play(scenario: Path, out: Path, turns: int) -> None:
    args = [
        "run",
        str(scenario),
        "--headless",
        "--stage",
        "scripted",
        "--max-turns",
        str(turns),
        "--out",
        str(out),
    ]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output


def kill_mid_way(out: Path, keep: int) -> None:
    """The log as SIGKILL leaves it: its first `keep` lines, then half of the next one."""
    lines = out.read_text().splitlines(keepends=True)
    assert keep + 1 < len(lines)
    out.write_text("".join(lines[:keep]) + lines[keep][: len(lines[keep]) // 2])


def resume_and_verify(out: Path, *args: str) -> str:
    resumed = CliRunner().invoke(main, ["run", "--resume", str(out), *args])
    assert resumed.exit_code == 0, resumed.output
    assert any(e.type == "run_resumed" for e in read_runlog(out).events)
    verified = CliRunner().invoke(main, ["replay", "--verify", str(out)])
    assert verified.exit_code == 0, verified.output
    assert "verify: match" in verified.output
    return verified.output


def with_puppeteer(tmp_path: Path, kind: str) -> Path:
    text = (SCENARIOS / "sally-anne.yaml").read_text()
    assert "puppeteer: {kind: round_robin}" in text
    path = tmp_path / f"sally-anne-{kind}.yaml"
    path.write_text(text.replace("puppeteer: {kind: round_robin}", f"puppeteer: {{kind: {kind}}}"))
    return path


@pytest.mark.parametrize("keep", [5, 40, 77])
def test_a_run_killed_mid_way_resumes_to_a_log_that_verifies(tmp_path, keep) -> None:
    out = tmp_path / "run.jsonl"
    play(SCENARIOS / "dinner-party.yaml", out, 30)
    kill_mid_way(out, keep)
    resume_and_verify(out)
    events = read_runlog(out).events
    assert [e.turn for e in events if e.type == "turn_ended"] == list(range(1, 31))


@pytest.mark.parametrize("kind", ["director", "bare"])
def test_a_resumed_run_verifies_whoever_steers(tmp_path, kind) -> None:
    out = tmp_path / "run.jsonl"
    play(with_puppeteer(tmp_path, kind), out, 14)
    kill_mid_way(out, 30)
    resume_and_verify(out)


def test_a_resumed_optimizer_run_verifies(tmp_path) -> None:
    """The optimizer has the stage write several candidates a turn: each one a stage call."""
    out = tmp_path / "run.jsonl"
    play(SCENARIOS / "sycophancy.yaml", out, 6)
    kill_mid_way(out, 20)
    resume_and_verify(out)


def test_a_run_resumed_twice_verifies(tmp_path) -> None:
    out = tmp_path / "run.jsonl"
    play(SCENARIOS / "sally-anne.yaml", out, 24)
    kill_mid_way(out, 12)
    resumed = CliRunner().invoke(main, ["run", "--resume", str(out)])
    assert resumed.exit_code == 0, resumed.output
    kill_mid_way(out, 50)
    resume_and_verify(out)
    assert sum(e.type == "run_resumed" for e in read_runlog(out).events) == 2


def test_a_run_really_killed_resumes_to_a_log_that_verifies(tmp_path) -> None:
    out = tmp_path / "run.jsonl"
    command = [
        sys.executable,
        "-m",
        "simstage",
        "run",
        str(SCENARIOS / "sally-anne.yaml"),
        "--headless",
        "--stage",
        "scripted",
        "--max-turns",
        "100000",
        "--out",
        str(out),
    ]
    child = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and (
            not out.exists() or out.read_text().count("\n") < 200
        ):
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait()
    assert child.returncode == -signal.SIGKILL
    cut = read_runlog(out)
    assert not cut.ended
    turns = max(e.turn for e in cut.events)
    output = resume_and_verify(out, "--max-turns", str(turns + 8))
    assert "match" in output
    assert read_runlog(out).events[-1].reason == "completed"


def test_the_resumed_run_goes_on_in_the_sequences_the_replay_filled(tmp_path) -> None:
    """A stage's context per character (a llama KV cache) is rebuilt as the run left it, then used."""
    from simstage.run.resume import resume_run

    out = tmp_path / "run.jsonl"
    play(SCENARIOS / "sally-anne.yaml", out, 12)
    kill_mid_way(out, 20)
    with resume_run(out) as session:
        held = session.simulation.held_sequences()
        assert set(held) == {"Sally", "Anne"}
        session.simulation.run()
        assert session.simulation.held_sequences() == held


def test_a_log_the_stage_cannot_play_again_resumes_with_a_warning(tmp_path) -> None:
    """Lines the stage did not write itself (enqueued here) cannot be replayed: the run goes on, unverifiable."""
    from simstage.engine import Simulation
    from simstage.run.log import RunLogWriter
    from simstage.run.open import make_header
    from simstage.scenario import load_scenario
    from simstage.stage.scripted import ScriptedStage
    from tests.conftest import say

    loaded = load_scenario(SCENARIOS / "sally-anne.yaml")
    stage = ScriptedStage([say(f"My own line {i}.") for i in range(12)])
    out = tmp_path / "run.jsonl"
    with RunLogWriter(out, make_header(loaded, stage, 7, 12)) as writer:
        Simulation(loaded.scenario, stage, sink=writer.append, max_turns=12).run()
    kill_mid_way(out, 20)
    resumed = CliRunner().invoke(main, ["run", "--resume", str(out)])
    assert resumed.exit_code == 0, resumed.output
    assert (
        "played the kept events otherwise" in resumed.output and "will not match" in resumed.output
    )
    assert read_runlog(out).events[-1].reason == "completed"
    verified = CliRunner().invoke(main, ["replay", "--verify", str(out)])
    assert verified.exit_code == 1 and "MISMATCH" in verified.output


def test_a_resumed_run_prints_the_tracker_and_score_that_replay_prints(tmp_path) -> None:
    # Sally leaves at turn 2 and the marble moves at turn 3; the log is cut in turn 4. The
    # resumed run's printer folded only what it saw: its probe lines and score forgot the move.
    text = (SCENARIOS / "sally-anne.yaml").read_text()
    probe = "  - {at: 5, ask: Sally, about: marble}\n"
    assert probe in text
    scenario = tmp_path / "sally-anne.yaml"
    scenario.write_text(text.replace(probe, probe + "  - {at: 5, ask: Anne, about: marble}\n"))
    out = tmp_path / "run.jsonl"
    play(scenario, out, 6)
    lines = out.read_text().splitlines(keepends=True)
    turn_four = next(i for i, line in enumerate(lines) if '"turn":4' in line.replace(" ", ""))
    kill_mid_way(out, turn_four + 1)
    resumed = CliRunner().invoke(main, ["run", "--resume", str(out)])
    assert resumed.exit_code == 0, resumed.output
    replayed = CliRunner().invoke(main, ["replay", str(out)])
    assert replayed.exit_code == 0, replayed.output

    def probes_and_score(output: str) -> list[str]:
        return [line for line in output.splitlines() if "tracker:" in line or "ToM" in line]

    printed = probes_and_score(resumed.output)
    assert len(printed) >= 5 and any("tracker: box" in line for line in printed)
    assert printed == probes_and_score(replayed.output)
