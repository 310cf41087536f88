"""A full standard output (/dev/full) is one line and exit 2; a reader that goes away is quiet.

Each command runs in its own process, with stdout open on /dev/full, buffered as
usual and unbuffered (PYTHONUNBUFFERED): either way Python must not swallow the
failure at exit, nor print a traceback.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, SCENARIOS
from tests.unit.test_cards import v3_card
from tests.unit.test_report import write_run

FULL = "simstage: cannot write to standard output: No space left on device"


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("stdout")
    run = folder / "run.jsonl"
    write_run(SCENARIOS / "sally-anne.yaml", run)
    card = folder / "card.json"
    card.write_text(json.dumps(v3_card()), encoding="utf-8")
    return {"run": run, "card": card}


def simstage(
    args: list[str], stdout: object, *, unbuffered: bool
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    if unbuffered:
        env["PYTHONUNBUFFERED"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "simstage", *args],
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
        check=False,
    )


COMMANDS = {
    "replay": lambda f: ["replay", str(f["run"])],
    "schema": lambda f: ["schema"],
    "card import": lambda f: ["card", "import", str(f["card"])],
    "validate": lambda f: ["validate", str(SCENARIOS / "sally-anne.yaml")],
    "export": lambda f: ["export", str(f["run"]), "--format", "mermaid"],
    "report -o -": lambda f: ["report", str(f["run"]), "-o", "-"],
}


@pytest.mark.parametrize("unbuffered", [False, True], ids=["buffered", "unbuffered"])
@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_full_stdout_is_one_line_and_exit_2(
    files: dict[str, Path], command: str, unbuffered: bool
) -> None:
    with open("/dev/full", "w", encoding="utf-8") as full:
        done = simstage(COMMANDS[command](files), full, unbuffered=unbuffered)
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines()[-1] == FULL, done.stderr
    assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr
    assert sum(line.startswith("simstage:") for line in done.stderr.splitlines()) == 1


@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_reader_that_goes_away_is_quiet(files: dict[str, Path], command: str) -> None:
    """Not a failure: no message; the status is 0, or 1 where click or rich end the command so."""
    read, write = os.pipe()
    os.close(read)  # the reader is gone before the first line
    with os.fdopen(write, "w") as pipe:
        done = simstage(COMMANDS[command](files), pipe, unbuffered=False)
    assert done.returncode in (0, 1), done.stderr
    assert done.stderr == ""


def test_a_healthy_stdout_is_unchanged(files: dict[str, Path]) -> None:
    done = simstage(
        ["export", str(files["run"]), "--format", "mermaid"], subprocess.PIPE, unbuffered=False
    )
    assert done.returncode == 0 and done.stdout.startswith("flowchart") and done.stderr == ""
