"""The rewritten dinner party on the real embedded model: its turns may state the scene's facts, and
its fact and who-knows probes are all answered and scored. Shapes and ranges only, never which answer."""

from __future__ import annotations

import pytest

from simstage.cast.turn import turn_schema
from simstage.engine import Simulation
from simstage.events import (
    FACT_OPTIONS,
    WHO_KNOWS_OPTIONS,
    ParseFailed,
    ProbeAnswered,
    TurnEnded,
    WhoKnowsAnswered,
)
from simstage.scenario import load_scenario
from simstage.tom.metrics import tom_metrics
from tests.conftest import SCENARIOS

pytestmark = pytest.mark.model

TURNS = 3


def short_dinner():
    """The dinner party in three turns of few tokens, its probes asked at the end of the third."""
    scenario = load_scenario(SCENARIOS / "dinner-party.yaml").scenario
    probes = [probe.model_copy(update={"at": TURNS}) for probe in scenario.probes]
    timeline = [entry for entry in scenario.timeline if entry.at <= TURNS]
    stage = scenario.stage.model_copy(update={"max_tokens": 48})
    return scenario.model_copy(
        update={"probes": probes, "timeline": timeline, "stage": stage, "max_turns": TURNS}
    )


def test_the_dinner_party_plays_and_every_fact_probe_is_scored_on_the_model(llama_stage) -> None:
    scenario = short_dinner()
    # Each turn offers statements about the scene's own facts, public or to one listener.
    schema = str(turn_schema(scenario, "Felix"))
    assert all(fact in schema for fact in scenario.world.facts) and "assert" in schema
    simulation = Simulation(scenario, llama_stage, seed=3, metrics=False)
    try:
        simulation.run()
    finally:
        simulation.release_sequences()
    events = simulation.events
    turns = [e for e in events if isinstance(e, TurnEnded)]
    failed = [e for e in events if isinstance(e, ParseFailed)]
    assert len(turns) == TURNS and 0 <= len(failed) <= len(turns)
    facts = [e for e in events if isinstance(e, ProbeAnswered) and e.kind == "fact"]
    assert len(facts) == sum(scenario.probe_kind(p) == "fact" for p in scenario.probes)
    assert all(e.answer in FACT_OPTIONS and e.truth in ("yes", "no") for e in facts)
    who = [e for e in events if isinstance(e, WhoKnowsAnswered)]
    assert len(who) == 3 and all(e.names == tuple(scenario.cast_names) for e in who)
    assert all(
        set(e.answers) <= set(WHO_KNOWS_OPTIONS) and len(e.answers) == len(e.names) for e in who
    )
    metrics = tom_metrics(scenario, events)
    assert metrics is not None and metrics.overall.n == len(scenario.probes)
    assert metrics.by_kind["fact"].n == len(facts) and metrics.by_kind["who_knows"].n == 3
    assert metrics.overall.accuracy is not None and 0.0 <= metrics.overall.accuracy <= 1.0
    assert metrics.who_knows_f1 is not None and 0.0 <= metrics.who_knows_f1 <= 1.0
