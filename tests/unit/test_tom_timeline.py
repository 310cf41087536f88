"""The incremental belief timeline equals a fresh fold at every turn."""

from __future__ import annotations

from simstage.engine import Simulation
from simstage.scenario import load_scenario
from simstage.stage.scripted import ScriptedStage
from simstage.tom.timeline import BeliefTimeline, probe_order
from simstage.tom.tracker import fold_beliefs
from tests.conftest import SCENARIOS


def test_each_turns_snapshot_is_the_fold_up_to_that_turn():
    for name in ("sally-anne.yaml", "dinner-party.yaml", "false-claim.yaml"):
        scenario = load_scenario(SCENARIOS / name).scenario
        sim = Simulation(scenario, ScriptedStage(), metrics=False)
        sim.run()
        timeline = BeliefTimeline(scenario).extend(sim.events)
        order = probe_order(scenario)
        for turn in range(sim.turn + 1):
            fresh = fold_beliefs(scenario, sim.events, order=order, upto_turn=turn)
            snapshot = timeline.at(turn)
            assert sorted(map(repr, snapshot.beliefs())) == sorted(map(repr, fresh.beliefs())), (
                name,
                turn,
            )


def test_probes_deepen_the_order():
    scenario = load_scenario(SCENARIOS / "sally-anne.yaml").scenario
    assert probe_order(scenario) >= 2  # Anne is asked where Sally thinks the marble is
