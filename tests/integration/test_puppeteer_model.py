"""Puppeteers on the real embedded model: bare, director, optimizer (batched candidates), human, compare."""

from __future__ import annotations

import io
import itertools
import json
import math
import subprocess
import sys

import pytest

from simstage.cast.prompt import character_messages
from simstage.engine import Simulation
from simstage.events import (
    CandidateChosen,
    CandidateScored,
    DirectionGiven,
    Said,
    SpeakerChosen,
    TurnEnded,
    TurnMetrics,
)
from simstage.puppeteer.compare import with_puppeteer
from simstage.puppeteer.human import HumanPuppeteer
from simstage.puppeteer.rewards import parse_candidate
from simstage.scenario import load_scenario
from tests.conftest import ROOT, SCENARIOS

pytestmark = pytest.mark.model


def scene(name: str, kind: str, max_tokens: int = 48):
    scenario = with_puppeteer(load_scenario(SCENARIOS / name).scenario, kind)
    return scenario.model_copy(
        update={"stage": scenario.stage.model_copy(update={"max_tokens": max_tokens})}
    )


def test_bare_stage_chooses_speakers_on_the_model(llama_stage) -> None:
    sim = Simulation(scene("dinner-party.yaml", "bare"), llama_stage, max_turns=3, seed=2)
    try:
        sim.run()
    finally:
        sim.release_sequences()
    chosen = [e for e in sim.events if isinstance(e, SpeakerChosen)]
    assert len(chosen) == 3 and all(c.by == "bare" and c.speaker in c.options for c in chosen)
    assert all(a.speaker != b.speaker for a, b in itertools.pairwise(chosen))
    assert len([e for e in sim.events if isinstance(e, TurnEnded)]) == 3
    assert len([e for e in sim.events if isinstance(e, TurnMetrics)]) == 3


def test_director_writes_private_directions_on_the_model(llama_stage) -> None:
    scenario = scene("sally-anne.yaml", "director")
    sim = Simulation(scenario, llama_stage, max_turns=2, seed=5, metrics=False)
    try:
        sim.run()
    finally:
        sim.release_sequences()
    directions = [e for e in sim.events if isinstance(e, DirectionGiven)]
    assert directions and all(d.text.strip() for d in directions)
    for direction in directions:
        for name in scenario.cast_names:
            text = "\n".join(m.content for m in character_messages(scenario, name, sim.events))
            assert (direction.text in text) == (name == direction.to)


def test_optimizer_candidates_are_decoded_in_one_batch(llama_stage, monkeypatch) -> None:
    scenario = scene("sycophancy.yaml", "optimizer")
    sim = Simulation(scenario, llama_stage, max_turns=2, seed=1, metrics=False)
    original = llama_stage.generate_candidates
    deltas: list[tuple[int, int, int]] = []
    sequential: list[int] = []

    def spy(seq, messages, sampling, n):
        counters = llama_stage.counters
        before = (counters.decode_calls, counters.batched_calls, counters.generated_tokens)
        lines = original(seq, messages, sampling, n)
        after = (counters.decode_calls, counters.batched_calls, counters.generated_tokens)
        deltas.append(tuple(b - a for a, b in zip(before, after, strict=False)))  # type: ignore[arg-type]
        return lines

    generate = llama_stage.generate
    monkeypatch.setattr(llama_stage, "generate_candidates", spy)
    monkeypatch.setattr(
        llama_stage, "generate", lambda *a, **k: (sequential.append(sim.turn), generate(*a, **k))[1]
    )
    try:
        sim.run()
    finally:
        sim.release_sequences()
    assert len(deltas) == 1  # Mia's turn (turn 2) only; Victor is not optimised
    decodes, batched, tokens = deltas[0]
    n = scenario.puppeteer.candidates
    assert len([e for e in sim.events if isinstance(e, CandidateScored)]) == n
    # One decode per step for all candidates together: far fewer decodes than tokens.
    assert decodes <= scenario.stage.max_tokens + 1
    assert tokens > decodes and batched >= decodes // 2
    assert sequential == [1]  # the plain generate ran for Victor's turn only
    chosen = next(e for e in sim.events if isinstance(e, CandidateChosen))
    assert 0.0 <= chosen.scores["sycophancy"] <= 1.0
    # The best of those that parse (a turn that does not parse is never preferred, whatever
    # its score: the chosen one may then score below the mean of all candidates).
    scored = [e for e in sim.events if isinstance(e, CandidateScored)]
    parsed = [e for e in scored if parse_candidate(e.raw, scenario, chosen.speaker).parsed]
    assert chosen.total == max(e.total for e in parsed or scored)


def test_human_steers_the_model(llama_stage, sally_anne) -> None:
    human = HumanPuppeteer(io.StringIO("@Anne\n@Sally: Where is my marble?\nq\n"), io.StringIO())
    sim = Simulation(sally_anne.scenario, llama_stage, puppeteer=human, seed=4)
    try:
        sim.run()
    finally:
        sim.release_sequences()
    ended = [e for e in sim.events if isinstance(e, TurnEnded)]
    assert [e.speaker for e in ended] == ["Anne", "Sally"] and ended[0].tokens > 0
    assert [e.text for e in sim.events if isinstance(e, Said)][-1] == "Where is my marble?"


def test_compare_cli_on_the_model() -> None:
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "simstage",
            "compare",
            str(SCENARIOS / "sycophancy.yaml"),
            "--puppeteer",
            "bare,optimizer",
            "--seeds",
            "1",
            "--max-turns",
            "2",
            "--threads",
            "2",
            "--json",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    for kind in ("bare", "optimizer"):
        metrics = data["puppeteers"][kind]["metrics"]
        # The bare stage picks speakers by the model, so Mia (whose lines the reward
        # measures) may not speak in 2 turns on every CPU; then there is no figure.
        sycophancy = metrics.get("sycophancy")
        assert sycophancy is None or 0.0 <= sycophancy <= 1.0
        assert metrics["persona_fit"] is not None
    # The optimizer's speaker order is fixed (Victor, then Mia): her reward is always measured.
    assert data["puppeteers"]["optimizer"]["metrics"]["sycophancy"] is not None
    # The best *playable* candidate is kept while the mean covers every candidate,
    # so the gain may be negative when the top-scored line did not parse.
    gain = data["puppeteers"]["optimizer"]["metrics"]["reward_gain"]
    assert gain is not None and math.isfinite(gain)
    assert data["puppeteers"]["optimizer"]["metrics"]["batched_calls"] > 0
