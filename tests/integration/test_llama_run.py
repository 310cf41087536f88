"""The real embedded model, end to end: a headless run, its log, replay and --verify."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from simstage.engine import Simulation
from simstage.events import ProbeAnswered, RunEnded, TurnEnded
from simstage.run.log import read_runlog
from simstage.stage.base import Message, Sampling
from tests.conftest import ROOT, SCENARIOS

pytestmark = pytest.mark.model


def simstage(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "simstage", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )


def test_headless_run_then_replay_and_verify(tmp_path) -> None:
    out = tmp_path / "sally.jsonl"
    run = simstage(
        "run", str(SCENARIOS / "sally-anne.yaml"), "--headless", "--out", str(out), "--threads", "2"
    )
    assert run.returncode == 0, run.stderr
    assert "turn 6" in run.stdout and "Sally" in run.stdout
    log = read_runlog(out)
    assert log.header.stage.backend == "llama"
    assert log.header.stage.model_file == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert len(log.header.stage.model_sha256 or "") == 64
    assert isinstance(log.events[-1], RunEnded) and log.events[-1].reason == "completed"
    turns = [e for e in log.events if isinstance(e, TurnEnded)]
    assert len(turns) == 6 and all(t.tokens > 0 for t in turns)
    assert len([e for e in log.events if isinstance(e, ProbeAnswered)]) == 3

    replay = simstage("replay", str(out))
    assert replay.returncode == 0, replay.stderr
    for event in log.events:
        if event.type == "say" and event.text.split():  # the model may say nothing
            assert event.text.split()[0] in replay.stdout

    verify = simstage("replay", str(out), "--verify", "--threads", "2")
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert f"verify: match ({len(log.events) - 1} events)" in verify.stdout


def test_grammar_keeps_the_small_model_to_valid_turns(llama_stage, sally_anne) -> None:
    sim = Simulation(sally_anne.scenario, llama_stage, max_turns=4)
    sim.run()
    turns = [e for e in sim.events if isinstance(e, TurnEnded)]
    parsed = 0
    for turn in turns:
        try:
            json.loads(turn.raw)
            parsed += 1
        except json.JSONDecodeError:
            pass
    # The grammar makes every turn JSON, unless max_tokens cuts it off.
    assert parsed >= len(turns) - 1
    for seq in sim._sequences.values():
        llama_stage.drop(seq)


def test_probe_leaves_the_character_unchanged(llama_stage) -> None:
    messages = [
        Message("system", "You are Sally. You put your marble in the basket."),
        Message("user", "Anne says: 'Hello Sally!' It is your turn."),
    ]
    greedy = Sampling(temperature=0.0, max_tokens=12)
    a, b = llama_stage.open_sequence(), llama_stage.open_sequence()
    try:
        llama_stage.sync(a, llama_stage.prompt_tokens(messages))
        length = llama_stage.kv_length(a)
        question = [*messages[:-1], Message("user", messages[-1].content + " Where is the marble?")]
        llama_stage.choose(a, question, ["basket", "box"], prefix="The answer is: the ")
        assert llama_stage.kv_length(a) == length
        after_probe = "".join(llama_stage.generate(a, messages, greedy))
        without = "".join(llama_stage.generate(b, messages, greedy))
        assert after_probe == without and after_probe
    finally:
        llama_stage.drop(a)
        llama_stage.drop(b)


def test_missing_and_corrupt_model_files_are_clear_errors(tmp_path) -> None:
    missing = simstage(
        "run",
        str(SCENARIOS / "sally-anne.yaml"),
        "--headless",
        "--model",
        "nope.gguf",
        "--out",
        str(tmp_path / "a.jsonl"),
    )
    assert missing.returncode == 2
    assert "model file not found: nope.gguf" in missing.stderr and "Traceback" not in missing.stderr
    bogus = tmp_path / "bogus.gguf"
    bogus.write_bytes(b"not a model at all")
    corrupt = simstage(
        "run",
        str(SCENARIOS / "sally-anne.yaml"),
        "--headless",
        "--model",
        str(bogus),
        "--out",
        str(tmp_path / "b.jsonl"),
    )
    assert corrupt.returncode == 2
    assert "is not a GGUF model file" in corrupt.stderr and "Traceback" not in corrupt.stderr
    truncated = tmp_path / "truncated.gguf"
    truncated.write_bytes(b"GGUF" + b"\x03\x00\x00\x00" + b"\x00" * 64)
    cut = simstage(
        "run",
        str(SCENARIOS / "sally-anne.yaml"),
        "--headless",
        "--model",
        str(truncated),
        "--out",
        str(tmp_path / "c.jsonl"),
    )
    assert cut.returncode == 2, cut.stderr
    assert "cannot load model" in cut.stderr and "Traceback" not in cut.stderr
    assert not (tmp_path / "c.jsonl").exists()
