"""`simstage run --resume`: a failed or interrupted run continues in its own log."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from simstage.cli import main
from simstage.run.log import read_runlog
from simstage.run.open import open_run
from simstage.stage.base import StageError
from tests.conftest import SCENARIOS


def failing_run(out: Path, fail_on_call: int) -> None:
    """Play Sally–Anne on the scripted stage until the stage fails on its Nth line."""
    with open_run(SCENARIOS / "sally-anne.yaml", out, backend="scripted") as session:
        stage = session.stage
        original = stage.generate
        calls = {"n": 0}

        def generate(seq, messages, sampling):
            calls["n"] += 1
            if calls["n"] == fail_on_call:
                yield '{"say": "Half a li'
                raise StageError("the stage server http://127.0.0.1:9/v1 went away")
            yield from original(seq, messages, sampling)

        stage.generate = generate  # type: ignore[method-assign]
        with pytest.raises(StageError):
            session.simulation.run()


def resume(path: Path, *args: str):
    return CliRunner().invoke(main, ["run", "--resume", str(path), *args])


def test_a_failed_run_records_why_and_resumes_to_the_end(tmp_path) -> None:
    out = tmp_path / "run.jsonl"
    failing_run(out, fail_on_call=4)
    failed = read_runlog(out)
    assert failed.events[-1].type == "run_ended" and failed.events[-1].reason == "error"
    assert "went away" in failed.events[-1].message
    before = out.read_text().splitlines()

    result = resume(out)
    assert result.exit_code == 0, result.output
    assert "resuming" in result.output and "run completed" in result.output

    resumed = read_runlog(out)
    assert resumed.events[-1].type == "run_ended" and resumed.events[-1].reason == "completed"
    turns = [e.turn for e in resumed.events if e.type == "turn_ended"]
    assert turns == list(range(1, resumed.header.max_turns + 1))
    marker = next(e for e in resumed.events if e.type == "run_resumed")
    assert marker.previous.startswith("error:") and marker.discarded > 0
    # Everything before the unfinished turn 4 is still there, byte for byte.
    after = out.read_text().splitlines()
    finished = [line for line in before if '"turn":4' not in line and '"run_ended"' not in line]
    assert after[: len(finished)] == finished
    # What was set aside is kept in a backup: the log exactly as the failure left it.
    assert Path(marker.backup).read_text().splitlines() == before


def test_a_finished_turn_is_kept(tmp_path) -> None:
    out = tmp_path / "run.jsonl"
    failing_run(out, fail_on_call=3)  # fails at turn 3: turns 1 and 2 finished
    result = resume(out)
    assert result.exit_code == 0, result.output
    events = read_runlog(out).events
    assert [e.turn for e in events if e.type == "turn_ended"] == list(range(1, 7))
    assert next(e for e in events if e.type == "run_resumed").turn == 2


def test_a_cut_last_line_is_set_aside_and_resumed(tmp_path) -> None:
    out = tmp_path / "run.jsonl"
    failing_run(out, fail_on_call=4)
    lines = out.read_text().splitlines(keepends=True)
    out.write_text("".join(lines[:-1]) + lines[-1][: len(lines[-1]) // 2])  # SIGKILL mid-write
    result = resume(out)
    assert result.exit_code == 0, result.output
    log = read_runlog(out)
    assert not log.warnings and log.events[-1].reason == "completed"
    assert next(e for e in log.events if e.type == "run_resumed").previous == "cut off"


def test_a_completed_run_has_nothing_to_resume(tmp_path) -> None:
    out = tmp_path / "run.jsonl"
    with open_run(SCENARIOS / "sally-anne.yaml", out, backend="scripted") as session:
        session.simulation.run()
    before = out.read_bytes()
    result = resume(out)
    assert result.exit_code == 2
    assert "nothing to resume" in result.output and "Traceback" not in result.output
    assert out.read_bytes() == before


def test_resume_needs_a_readable_log_and_not_a_scenario_too(tmp_path) -> None:
    missing = resume(tmp_path / "nope.jsonl")
    assert missing.exit_code == 2 and "nope.jsonl" in missing.output
    both = CliRunner().invoke(
        main, ["run", str(SCENARIOS / "sally-anne.yaml"), "--resume", "x.jsonl"]
    )
    assert both.exit_code == 2 and "not both" in both.output
    neither = CliRunner().invoke(main, ["run"])
    assert neither.exit_code == 2 and "missing SCENARIO" in neither.output


def test_resume_refuses_settings_it_would_ignore(tmp_path) -> None:
    out = tmp_path / "run.jsonl"
    failing_run(out, fail_on_call=4)
    before = out.read_bytes()
    result = resume(out, "--seed", "9", "--stage", "scripted")
    assert result.exit_code == 2
    assert "--stage, --seed cannot change them" in result.output
    assert out.read_bytes() == before
