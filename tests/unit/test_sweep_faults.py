"""Smaller sweep and replay defects: a start racing another, a damaged finished log,
temporaries a kill leaves, and a log whose embedded scenario is broken."""

from __future__ import annotations

import fcntl
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from simstage.cli import main
from simstage.run.log import read_runlog
from tests.conftest import ROOT, SCENARIOS
from tests.unit.test_report import write_run

SEED1 = "stage.backend=scripted__seed1"
SEED2 = "stage.backend=scripted__seed2"


def sweep(out: Path, seeds: str = "1-2") -> object:
    args = [
        "sweep",
        str(SCENARIOS / "sally-anne.yaml"),
        "--seeds",
        seeds,
        "--set",
        "stage.backend=scripted",
    ]
    return CliRunner().invoke(main, [*args, "--out", str(out)])


def played(result: object) -> list[str]:
    return [line.split()[1] for line in result.output.splitlines() if line.startswith("done ")]


# --- (a) two sweeps starting at once on one folder ---


@pytest.mark.parametrize("midway", ["rows", ".sweep.json.k3j2.tmp"])
def test_a_start_while_another_sweep_prepares_the_folder_says_it_is_in_use(
    tmp_path: Path, midway: str
) -> None:
    """The first sweep holds the lock and has begun to fill the folder (no sweep.json yet)."""
    out = tmp_path / "out"
    out.mkdir()
    with open(out / ".sweep.lock", "a+", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        lock.write("4242")
        lock.flush()
        if midway == "rows":
            (out / "rows").mkdir()
        else:
            (out / midway).write_text("{", encoding="utf-8")
        result = sweep(out, "1")
    assert result.exit_code == 2, result.output
    assert "another sweep is running in this folder (pid 4242)" in result.output
    assert "holds no sweep.json" not in result.output


def test_simultaneous_starts_never_blame_the_folder(tmp_path: Path) -> None:
    """Two sweeps started together, three times: each either plays (or finds it done) or is told the folder is in use."""
    command = [
        sys.executable, "-m", "simstage", "sweep", str(SCENARIOS / "sally-anne.yaml"),
        "--seeds", "1", "--set", "stage.backend=scripted",
    ]  # fmt: skip
    for attempt in range(3):
        out = tmp_path / f"out{attempt}"
        pair = [
            subprocess.Popen(
                [*command, "--out", str(out)],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        for process in pair:
            _, err = process.communicate(timeout=120)
            assert "holds no sweep.json" not in err and "Traceback" not in err, err
            assert process.returncode == 0 or "another sweep is running" in err, err


# --- (b) a finished run whose log was damaged afterwards ---


@pytest.mark.parametrize("garbage", [b"garbage\n", b'{"type": "say"', b"\n[1, 2]\n"])
def test_a_finished_log_with_garbage_appended_is_played_again(
    tmp_path: Path, garbage: bytes
) -> None:
    out = tmp_path / "out"
    assert sweep(out).exit_code == 0
    log = out / f"{SEED1}.jsonl"
    whole = log.read_bytes()
    log.write_bytes(whole + garbage)
    damaged_line = whole.count(b"\n") + 1 + (garbage.startswith(b"\n"))
    result = sweep(out)
    assert result.exit_code == 0, result.output
    assert played(result) == [SEED1]  # seed 2's log is whole: not played again
    warning = next(line for line in result.output.splitlines() if "warning:" in line)
    assert f"{log}:{damaged_line}:" in warning and "played again" in warning
    replayed = read_runlog(log)
    assert replayed.ended and not replayed.warnings
    kept = log.with_name(log.name + ".damaged-1")
    assert kept.read_bytes() == whole + garbage  # nothing already written is lost


def test_a_log_cut_before_its_end_is_played_again(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert sweep(out).exit_code == 0
    log = out / f"{SEED2}.jsonl"
    lines = log.read_bytes().splitlines(keepends=True)
    log.write_bytes(b"".join(lines[:-1]))  # the run_ended record is gone
    result = sweep(out)
    assert result.exit_code == 0, result.output
    assert played(result) == [SEED2]
    assert any(f"{log}:" in line and "run_ended" in line for line in result.output.splitlines())


# --- (c) temporaries a kill leaves ---


def test_stale_temporaries_are_removed_when_the_sweep_starts_again(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert sweep(out).exit_code == 0
    stale = [
        out / "rows" / f".{SEED1}.json.u7x1q2.tmp",
        out / ".results.csv.0a9b8c.tmp",
        out / ".summary.csv.zz12ab.tmp",
        out / ".results.parquet.pq0001.tmp",
    ]
    for path in stale:
        path.write_text("half", encoding="utf-8")
    foreign = out / ".report.html.r2d2c3.tmp"  # a report being written now: not the sweep's
    foreign.write_text("<html>", encoding="utf-8")
    result = sweep(out)
    assert result.exit_code == 0, result.output
    assert not any(path.exists() for path in stale)
    assert foreign.exists()


# --- (d) replay of a log whose embedded scenario is broken ---


def test_replay_of_a_log_with_a_broken_scenario_blames_the_log(tmp_path: Path) -> None:
    log = tmp_path / "run.jsonl"
    write_run(SCENARIOS / "sally-anne.yaml", log)
    lines = log.read_text(encoding="utf-8").splitlines(keepends=True)
    header = json.loads(lines[0])
    header["scenario_text"] = header["scenario_text"].replace("max_turns: 6", "max_turns: banana")
    log.write_text(json.dumps(header) + "\n" + "".join(lines[1:]), encoding="utf-8")
    for command in (["replay"], ["export", "--format", "json"]):
        result = CliRunner().invoke(main, [*command, str(log)])
        assert result.exit_code == 2
        assert result.output.startswith(
            f"simstage: {log}:1: the scenario in the header is invalid"
        ), result.output
        assert "max_turns" in result.output and "sally-anne.yaml" not in result.output
        assert result.output.count("\n") == 1
