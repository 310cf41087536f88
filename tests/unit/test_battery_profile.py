"""The profile's arithmetic on probes made by hand: pooled rates, intervals over scenes, baselines, pairs."""

from __future__ import annotations

from dataclasses import replace

import pytest

from simstage.analysis.profile import Profile, agreement, cell, model_differences
from simstage.analysis.profile_runs import ProbeRecord, RunRecord, lower_answer
from simstage.events import ProbeAnswered
from simstage.scenario import parse_scenario
from simstage.stats import bootstrap_clusters, wilson
from simstage.tom.timeline import BeliefTimeline

PROBE = ProbeRecord(
    model="m", scene="s1", seed=1, puppeteer="as-written", run_style="as-written", turn=3, ask="Ann",
    about="ball", through=("Bob",), style="direct", kind="object", answer="box", tracker="box", reality="bag",
    lower="bag", first_named="bag", last_named="box", options=3, occurrence=0,
)  # fmt: skip


def test_a_pooled_rate_resamples_scenes_not_probes() -> None:
    # Two scenes, all right in one and all wrong in the other: the probes are not independent.
    clustered = bootstrap_clusters([10, 0], [10, 10])
    assert clustered is not None and clustered.estimate == 0.5 and clustered.n == 2
    naive = wilson(10, 20)
    assert naive is not None and clustered.low is not None and clustered.high is not None
    assert clustered.high - clustered.low > naive.high - naive.low  # type: ignore[operator]
    one = bootstrap_clusters([3], [4])
    assert one is not None and one.estimate == 0.75 and one.low is None
    assert bootstrap_clusters([], []) is None
    with pytest.raises(ValueError):
        bootstrap_clusters([1], [1, 2])


def test_a_cell_scores_the_model_and_each_baseline_on_the_same_probes() -> None:
    probes = [
        PROBE,
        replace(PROBE, scene="s2", answer="bag"),
        replace(PROBE, scene="s3", first_named=None, last_named=None, answer="box"),
    ]
    found = cell(probes, 2, "direct", "false", "object")
    assert found is not None
    assert found.accuracy.value == pytest.approx(2 / 3) and found.accuracy.units == 3
    assert found.baselines["reality"].value == 0.0  # type: ignore[union-attr]
    assert found.baselines["last_named"].value == 1.0 and found.baselines["last_named"].n == 2  # type: ignore[union-attr]
    assert found.chance == pytest.approx(1 / 3)


def test_direct_and_indirect_agree_when_they_give_the_same_answer() -> None:
    direct = PROBE
    indirect = replace(PROBE, style="indirect", answer="bag")
    other_scene = [replace(PROBE, scene="s2"), replace(PROBE, scene="s2", style="indirect")]
    found = agreement([direct, indirect, *other_scene])
    assert found is not None and found.pairs == 2 and found.same.value == 0.5
    assert found.indirect.value == 0.5 and found.direct.value == 1.0
    assert agreement([direct]) is None


def _run(model: str, probes: list[ProbeRecord]) -> RunRecord:
    from pathlib import Path

    return RunRecord(f"{model}-run", model, "s1", 1, "as-written", "as-written", "round_robin",
                     tuple(replace(p, model=model) for p in probes), None, Path("x.jsonl"))  # fmt: skip


def test_models_are_paired_on_the_same_questions() -> None:
    a = _run("a", [PROBE, replace(PROBE, ask="Cat", answer="bag")])
    b = _run(
        "b",
        [
            replace(PROBE, answer="bag"),
            replace(PROBE, ask="Cat", answer="bag"),
            replace(PROBE, ask="Dan"),
        ],
    )
    differences = {d.group: d for d in model_differences(["a", "b"], [a, b])}
    assert differences["all"].difference.n == 2  # Dan was asked of b only
    assert differences["all"].difference.value == pytest.approx(0.5)
    assert differences["all"].accuracy_a == 0.5 and differences["all"].accuracy_b == 0.0


def test_the_lower_order_answer_is_the_chain_without_its_last_mind() -> None:
    loaded = parse_scenario(
        """
title: t
world: {locations: [room, hall], containers: {box: {in: room}, bag: {in: room}}, objects: {ball: {in: box}}}
cast:
  - {name: Ann, persona: a, location: room}
  - {name: Bob, persona: b, location: room}
timeline:
  - {at: 1, event: {type: exit, who: Bob, to: hall}}
  - {at: 2, event: {type: move, who: Ann, object: ball, to: bag}}
probes:
  - {at: 2, ask: Ann, about: ball, through: [Bob]}
max_turns: 2
"""
    )
    from simstage.run.open import open_simulation
    from simstage.stage.scripted import ScriptedStage

    simulation = open_simulation(loaded.scenario, ScriptedStage()).simulation
    simulation.run()
    timeline = BeliefTimeline(loaded.scenario)
    for event in simulation.events:
        if isinstance(event, ProbeAnswered):
            assert lower_answer(timeline.now(), event) == "bag"  # Ann's own belief: she moved it
            break
        timeline.add(event)
    else:
        raise AssertionError("no probe")


def test_an_empty_profile_round_trips() -> None:
    profile = Profile(title="t", folder="f", runs_planned=0, runs_finished=0, models=[])
    assert Profile.model_validate_json(profile.model_dump_json()) == profile
    assert "units" in Profile.model_json_schema()["$defs"]["Estimate"]["properties"]
