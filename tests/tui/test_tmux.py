"""The real `simstage tui` in a real terminal (tmux), on the embedded model: lines appear, q exits 0."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time

import pytest

from simstage.run.log import read_runlog
from tests.conftest import ROOT

pytestmark = [
    pytest.mark.model,
    pytest.mark.skipif(
        shutil.which("tmux") is None, reason="tmux is not installed (apt-get install -y tmux)"
    ),
]


def _pane(session: str) -> str:
    result = subprocess.run(
        ["tmux", "capture-pane", "-p", "-t", session], capture_output=True, text=True
    )
    return result.stdout


def test_tui_plays_the_scene_and_q_exits_cleanly(tmp_path):
    session = f"simstage-tui-{time.monotonic_ns()}"
    out = tmp_path / "run.jsonl"
    status = tmp_path / "status"
    command = (
        f"cd {ROOT} && {sys.executable} -m simstage tui scenarios/sally-anne.yaml "
        f"--max-turns 2 --threads 2 --run --out {out}; echo $? > {status}"
    )
    subprocess.run(
        ["tmux", "new-session", "-d", "-s", session, "-x", "120", "-y", "40", command], check=True
    )
    try:
        deadline = time.monotonic() + 300
        screen = ""
        while time.monotonic() < deadline:
            screen = _pane(session)
            if "finished" in screen and "── turn 2 ──" in screen:
                break
            time.sleep(0.5)
        else:
            pytest.fail(f"the scene did not play in time; the screen was:\n{screen}")
        assert "Sally and Anne — transcript" in screen
        assert "── turn 1 ──" in screen and "Sally" in screen
        subprocess.run(["tmux", "send-keys", "-t", session, "q"], check=True)
        deadline = time.monotonic() + 30
        while not status.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert status.exists(), f"q did not exit; the screen was:\n{_pane(session)}"
        assert status.read_text().strip() == "0"
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
    log = read_runlog(out)
    assert log.ended and log.events[-1].reason == "completed"
    assert any(e.type == "turn_ended" for e in log.events)
