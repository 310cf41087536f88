"""A card, scenario or run log path naming a FIFO (or a folder, or a device) is refused, never waited on.

`validate` and `run` used to block for ever opening a card path that was a named
pipe. Input files are read through `simstage.inputs.read_input`, which opens
regular files only. The commands run in a subprocess, so a regression fails
the test (by its timeout) instead of hanging the suite.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from simstage.inputs import read_input
from tests.conftest import ROOT, SCENARIOS

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")

HANG_GUARD_S = 120
"""Far past any honest run of these commands: only a command blocked on the pipe reaches it."""


def _simstage(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "simstage", *args],
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_S,
        check=False,
        env=env,
        stdin=subprocess.DEVNULL,
    )


def _with_card(tmp_path: Path, card: str) -> Path:
    text = (SCENARIOS / "sally-anne.yaml").read_text(encoding="utf-8")
    text = text.replace(
        "  - name: Anne\n", f"  - {{card: {card}, location: room}}\n  - name: Anne\n", 1
    )
    path = tmp_path / "fifo-card.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_validate_and_run_refuse_a_card_that_is_a_fifo(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.json")
    scenario = _with_card(tmp_path, "pipe.json")
    line = (
        scenario.read_text(encoding="utf-8")
        .splitlines()
        .index("  - {card: pipe.json, location: room}")
        + 1
    )
    for args in (
        ["validate", str(scenario)],
        [
            "run",
            str(scenario),
            "--headless",
            "--stage",
            "scripted",
            "--out",
            str(tmp_path / "r.jsonl"),
        ],
    ):
        result = _simstage(*args)
        assert result.returncode == 2, (args, result.stderr)
        assert f"{scenario}:{line}:" in result.stderr and "FIFO" in result.stderr, result.stderr
        assert "Traceback" not in result.stderr
    assert not (tmp_path / "r.jsonl").exists()


def test_a_scenario_or_run_log_that_is_a_fifo_is_refused(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "scene.yaml")
    os.mkfifo(tmp_path / "run.jsonl")
    for args in (
        ["validate", str(tmp_path / "scene.yaml")],
        ["replay", str(tmp_path / "run.jsonl")],
    ):
        result = _simstage(*args)
        assert result.returncode == 2, (args, result.stderr)
        assert "FIFO" in result.stderr and args[1] in result.stderr
        assert "Traceback" not in result.stderr


def test_read_input_reads_regular_files_only(tmp_path: Path) -> None:
    path = tmp_path / "card.json"
    path.write_bytes(b"0123456789")
    assert read_input(path) == b"0123456789"
    # One byte past the limit, so the caller can tell "too large".
    assert read_input(path, limit=3) == b"0123"
    os.mkfifo(tmp_path / "pipe")
    refused = {tmp_path / "pipe": "FIFO", tmp_path: "folder"}
    if Path("/dev/zero").exists():
        refused[Path("/dev/zero")] = "device"
    for target, kind in refused.items():
        with pytest.raises(OSError, match=kind) as info:
            read_input(target)
        assert "not a regular file" in str(info.value.strerror)
    with pytest.raises(FileNotFoundError):
        read_input(tmp_path / "missing")


READERS = """
import sys
from pathlib import Path
from simstage.stage.chat import select_renderer
from simstage.tom.hitom import read_hitom
from simstage.tom.tomi import read_tomi

pipe = sys.argv[1]
calls = {
    "chat template": lambda: select_renderer(
        None, option=pipe + ".jinja", bos_token="", eos_token="", model_path=Path("m.gguf")
    ),
    "tomi": lambda: read_tomi(pipe + ".txt"),
    "hitom": lambda: read_hitom(pipe + ".json"),
}
for what, call in calls.items():
    try:
        call()
    except Exception as exc:  # each reader's own error type
        print(what, "|", exc)
"""


def test_chat_templates_and_benchmark_files_that_are_fifos_are_refused(tmp_path: Path) -> None:
    for suffix in (".jinja", ".txt", ".json"):
        os.mkfifo(tmp_path / f"pipe{suffix}")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", READERS, str(tmp_path / "pipe")],
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_S,
        check=False,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split(" | ")[0] for line in lines] == ["chat template", "tomi", "hitom"]
    assert all("FIFO" in line for line in lines), lines
