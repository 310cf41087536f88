"""How a sweep ends (`simstage/sweep/runner.py`, not the command): it gives up when its first runs
all fail, and a second Ctrl-C quits at once with the table written."""

from __future__ import annotations

import ast
import signal
import threading
import time
from pathlib import Path

import pytest

from simstage.sweep import runner as sweep_runner
from simstage.sweep.plan import make_plan
from simstage.sweep.runner import GIVE_UP_AFTER, RunOutcome, gives_up, play_pending
from tests.conftest import ROOT
from tests.unit.test_sweep import _slow_sweep, results, rows_in, scenario  # noqa: F401 - a fixture


@pytest.mark.parametrize(
    ("failed", "finished", "stops"),
    [(GIVE_UP_AFTER, 0, True), (GIVE_UP_AFTER - 1, 0, False), (GIVE_UP_AFTER + 5, 1, False)],
)
def test_a_sweep_gives_up_only_when_every_run_so_far_failed(
    failed: int, finished: int, stops: bool
):
    assert gives_up(failed, finished) is stops


class _Heard:
    def __init__(self) -> None:
        self.outcomes: list[str] = []
        self.lock = threading.Lock()
        self.in_flight: list[str] = []

    def run_started(self, run) -> None:
        with self.lock:
            self.in_flight.append(run.run_id)

    def run_ended(self, run) -> None:
        with self.lock:
            self.in_flight.remove(run.run_id)

    def heard(self, outcome, finished: int) -> None:
        self.outcomes.append(outcome.status)

    def stopping(self) -> None:
        self.outcomes.append("stopping")

    def quitting(self, finished: int) -> None:
        raise AssertionError("not interrupted")


def test_play_pending_gives_up_after_the_first_failures(
    scenario: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
):
    plan = make_plan(str(scenario), [], list(range(1, 21)), None)
    monkeypatch.setattr(
        sweep_runner, "play_run", lambda run, *a, **k: RunOutcome(run, "failed", message="down")
    )
    heard, rows, failures = _Heard(), {}, []
    ending = play_pending(plan, tmp_path, plan.runs, rows, failures, heard, concurrency=1)
    assert ending == "gave_up"
    assert heard.outcomes == ["failed"] * GIVE_UP_AFTER and len(failures) == GIVE_UP_AFTER
    assert heard.in_flight == [] and rows == {}


def test_the_command_holds_no_ending_policy():
    source = (ROOT / "simstage" / "cli" / "sweep.py").read_text(encoding="utf-8")
    names = {node.attr for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Attribute)}
    assert "_exit" not in names and "GIVE_UP_AFTER" not in source


def test_ctrl_c_twice_quits_at_once_with_the_table_written(scenario: Path, tmp_path: Path):
    out = tmp_path / "out"
    process = _slow_sweep(scenario, out, "1-6", delay=0.3)
    deadline = time.monotonic() + 60
    while not list(out.glob("*.jsonl")):
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()
        time.sleep(0.02)
    process.send_signal(signal.SIGINT)
    time.sleep(0.1)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    finished = rows_in(out)
    assert f"stopped at once; {len(finished)} of 6 runs finished" in stderr
    assert {row["run_id"] for row in results(out)} == finished
    assert len(finished) < 6
