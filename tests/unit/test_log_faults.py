"""The run log under I/O faults: a full disk, a folder deleted mid-run; one line, exit 2, the log readable."""

from __future__ import annotations

import errno
import os
import shutil

import pytest
from click.testing import CliRunner

import simstage.run.log as runlog
from simstage.cli import main
from simstage.events import Said
from simstage.run.log import RunLogError, RunLogWriter, read_runlog
from simstage.run.open import make_header
from simstage.scenario import load_scenario
from simstage.stage.scripted import ScriptedStage
from tests.conftest import SCENARIOS


def disk_fills_after(monkeypatch, whole_lines: int, *, can_truncate: bool = True) -> None:
    """`os.write` in the run log writes `whole_lines` lines, then half of one, then ENOSPC."""
    real_write = os.write
    state = {"lines": 0, "torn": False}

    def write(fd, data):
        if state["lines"] >= whole_lines:
            if not state["torn"]:
                state["torn"] = True
                return real_write(fd, bytes(data[: len(data) // 2]))
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        state["lines"] += 1
        return real_write(fd, data)

    monkeypatch.setattr(runlog.os, "write", write)
    if not can_truncate:

        def refuse(fd, length):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        monkeypatch.setattr(runlog.os, "ftruncate", refuse)


def test_a_full_disk_cuts_the_log_back_to_its_last_whole_event(tmp_path, monkeypatch):
    loaded = load_scenario(SCENARIOS / "sally-anne.yaml")
    path = tmp_path / "run.jsonl"
    disk_fills_after(monkeypatch, whole_lines=4)
    writer = RunLogWriter(path, make_header(loaded, ScriptedStage(), 7, 6))
    for turn in range(3):
        writer.append(Said(turn=turn, who="Sally", text=f"line {turn}", witnesses=("Sally",)))
    with pytest.raises(RunLogError) as failed:
        writer.append(Said(turn=3, who="Sally", text="torn", witnesses=("Sally",)))
    message = str(failed.value)
    assert str(path) in message and "No space left on device" in message and "3 events" in message
    assert "\n" not in message
    with pytest.raises(RunLogError):  # the log takes nothing more
        writer.append(Said(turn=4, who="Sally", text="later", witnesses=("Sally",)))
    writer.close()
    writer.close()  # closing twice, or after a fault, never raises
    log = read_runlog(path)
    assert [e.text for e in log.events] == ["line 0", "line 1", "line 2"] and not log.warnings


def test_a_run_that_fills_the_disk_ends_with_one_line_and_replays(tmp_path, monkeypatch):
    out = tmp_path / "run.jsonl"
    disk_fills_after(monkeypatch, whole_lines=12)
    runner = CliRunner()
    result = runner.invoke(
        main,
        [
            "run",
            str(SCENARIOS / "sally-anne.yaml"),
            "--stage",
            "scripted",
            "--headless",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.startswith("simstage:")]
    assert len(lines) == 1 and str(out) in lines[0] and "No space left on device" in lines[0]
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit)
    monkeypatch.undo()
    log = read_runlog(out)
    assert len(log.events) == 11 and not log.warnings
    replay = runner.invoke(main, ["replay", str(out)])
    assert replay.exit_code == 0, replay.output
    resumed = runner.invoke(main, ["run", "--resume", str(out)])
    assert resumed.exit_code == 0, resumed.output
    assert read_runlog(out).ended


def test_a_torn_line_that_cannot_be_cut_back_is_skipped_on_read(tmp_path, monkeypatch):
    out = tmp_path / "run.jsonl"
    disk_fills_after(monkeypatch, whole_lines=8, can_truncate=False)
    runner = CliRunner()
    result = runner.invoke(
        main,
        [
            "run",
            str(SCENARIOS / "sally-anne.yaml"),
            "--stage",
            "scripted",
            "--headless",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 2, result.output
    monkeypatch.undo()
    log = read_runlog(out)
    assert len(log.events) == 7 and log.warnings and "incomplete" in log.warnings[0]
    assert runner.invoke(main, ["replay", str(out)]).exit_code == 0


def test_a_log_folder_deleted_mid_run_is_one_line_exit_2(tmp_path, monkeypatch):
    folder = tmp_path / "runs"
    out = folder / "run.jsonl"
    real_write = os.write
    calls = {"n": 0}

    def write(fd, data):
        calls["n"] += 1
        if calls["n"] == 6:
            shutil.rmtree(folder)
        return real_write(fd, data)

    monkeypatch.setattr(runlog.os, "write", write)
    result = CliRunner().invoke(
        main,
        [
            "run",
            str(SCENARIOS / "sally-anne.yaml"),
            "--stage",
            "scripted",
            "--headless",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if line.startswith("simstage:")]
    assert len(lines) == 1 and str(out) in lines[0] and "deleted" in lines[0]
