"""Probes about facts and who-knows probes: asked, logged as observations, scored against the tracker."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

import pytest

from simstage.cast.probes import fact_question, who_knows_question
from simstage.engine import Simulation
from simstage.events import (
    FACT_OPTIONS,
    ProbeAnswered,
    WhoKnowsAnswered,
    event_from_json,
    event_to_json,
)
from simstage.scenario import ScenarioError, parse_scenario
from simstage.scenario.models import Scenario
from simstage.stage.abilities import Batching, LatentReader, OneByOne
from simstage.stage.base import Message
from simstage.stage.scripted import ScriptedStage
from simstage.tom.metrics import (
    ProbeVerdict,
    WhoKnowsVerdict,
    f1,
    run_verdicts,
    score_verdicts,
    tom_metrics,
)
from simstage.tom.timeline import BeliefTimeline

SCENE = """\
title: Facts asked
world:
  locations: [hall, study]
  containers: {box: {in: hall}, drawer: {in: study}}
  objects: {ring: {in: box}}
  facts:
    debt: {text: "Felix owes Edwin money", true: true}
    fake: {text: "The ring is a fake", true: false}
cast:
  - {name: Ann, persona: p, location: hall, knows: {debt: true}}
  - {name: Bob, persona: p, location: hall}
  - {name: Cy, persona: p, location: study}
timeline:
  - {at: 1, event: {type: assert, who: Ann, fact: debt, holds: true, to: Bob}}
  - {at: 2, event: {type: assert, who: Bob, fact: fake, holds: true}}
probes:
  - {at: 2, ask: Bob, about: debt}
  - {at: 2, ask: Ann, about: debt, through: [Bob]}
  - {at: 2, ask: Bob, about: debt, through: [Ann, Bob]}
  - {at: 2, ask: Cy, about: debt}
  - {at: 2, ask: Ann, about: fake}
  - {at: 2, ask: Ann, about: ring}
  - {at: 2, ask: Ann, who_knows: debt}
  - {at: 2, ask: Cy, who_knows: debt}
  - {at: 2, ask: Bob, who_knows: fake}
  - {at: 2, who_knows: debt}
  - {at: 2, who_knows: fake}
max_turns: 2
"""

# The tracker's answers, by the rules (README, "Beliefs: the ToM tracker"): Ann tells Bob the debt
# privately (Cy is elsewhere); Bob, who has no belief about the fake, says aloud that the ring is one
# (not a lie) and Ann, trusting him, adopts it: a false belief.
EXPECTED = [
    "yes",
    "yes",
    "yes",
    "don't know",
    "yes",
    "box",
    ("Ann", "Bob"),  # Ann thinks she and Bob know
    (),  # Cy knows nothing of it, nor of who does
    ("Ann",),  # Bob has no belief; he thinks Ann believes what he said
    ("Ann", "Bob"),  # who really knows the debt
    (),  # nobody knows the truth about the fake: Ann believes it wrongly
]


def scene() -> Scenario:
    return parse_scenario(SCENE, "facts.yaml").scenario


def played(stage: ScriptedStage) -> list:
    simulation = Simulation(scene(), stage)
    simulation.run()
    return simulation.events


def test_questions_about_facts_are_worded_at_every_order() -> None:
    said = "Felix owes Edwin money"
    assert fact_question("Ann", said) == f"Is it true that {said}? Yes, no, or don't know?"
    assert (
        fact_question("Ann", said, ["Bob"])
        == f"Does Bob think it is true that {said}? Yes, no, or don't know?"
    )
    assert fact_question("Ann", said, ["Bob", "Cy"]) == (
        f"Does Bob think Cy thinks it is true that {said}? Yes, no, or don't know?"
    )
    assert fact_question("Ann", said, ["Bob", "Ann"]).startswith(
        "Does Bob think you think it is true"
    )
    assert who_knows_question("Ann", said, "Ann") == f"Do you know whether {said}? Yes or no?"
    assert who_knows_question("Ann", said, "Bob") == f"Does Bob know whether {said}? Yes or no?"
    assert (
        who_knows_question("Ann", said, "Cy", ["Bob"])
        == f"Does Bob think Cy knows whether {said}? Yes or no?"
    )
    assert (
        who_knows_question("Ann", said, "Ann", ["Bob"])
        == f"Does Bob think you know whether {said}? Yes or no?"
    )
    assert (
        who_knows_question("Ann", said, "Bob", ["Bob"])
        == f"Does Bob know whether {said}? Yes or no?"
    )
    assert who_knows_question(None, said, "Ann") == f"Does Ann know whether {said}? Yes or no?"


def test_every_probe_is_logged_as_an_observation_and_the_tracker_answers_it() -> None:
    events = played(ScriptedStage())
    asked = [e for e in events if isinstance(e, (ProbeAnswered, WhoKnowsAnswered))]
    assert len(asked) == len(scene().probes)
    facts = [e for e in asked if isinstance(e, ProbeAnswered) and e.kind == "fact"]
    assert len(facts) == 5 and all(e.options == FACT_OPTIONS for e in facts)
    assert [e.truth for e in facts] == ["yes", "yes", "yes", "yes", "no"]
    assert facts[0].question == "Is it true that Felix owes Edwin money? Yes, no, or don't know?"
    who = [e for e in asked if isinstance(e, WhoKnowsAnswered)]
    assert [(e.ask, e.fact) for e in who] == [
        ("Ann", "debt"),
        ("Cy", "debt"),
        ("Bob", "fake"),
        (None, "debt"),
        (None, "fake"),
    ]
    assert all(e.names == ("Ann", "Bob", "Cy") and len(e.questions) == 3 for e in who)
    verdicts = run_verdicts(scene(), events)
    assert [v.tracker for v in verdicts] == EXPECTED
    # The tracker's answers are folded where they are read: the log holds no trace of them.
    assert all("tracker" not in json.loads(event_to_json(e)) for e in asked)
    state = BeliefTimeline(scene()).extend(events).now()
    assert verdicts[6].tracker == state.who_knows("debt", "Ann") and verdicts[
        9
    ].tracker == state.who_knows("debt")


def _seat(messages: Sequence[Message]) -> str:
    found = re.search(r"You are (\w+)\.", messages[0].content)
    return found.group(1) if found else "narrator"


def test_a_model_that_answers_as_the_tracker_scores_full_marks_and_one_that_does_not_is_counted() -> (
    None
):
    first = played(ScriptedStage())  # every first option: yes
    metrics = tom_metrics(scene(), first)
    assert metrics is not None
    assert metrics.overall.n == len(scene().probes) == 11
    assert {k: (s.n, s.agreed) for k, s in metrics.by_kind.items()} == {
        "fact": (5, 4),
        "object": (1, 1),
        "who_knows": (5, 0),
    }
    # Saying everyone knows: F1 against {Ann, Bob} is 0.8, against nobody 0.
    assert metrics.who_knows_f1 == pytest.approx((0.8 + 0 + 2 * 1 / 4 + 0.8 + 0) / 5)
    assert (metrics.false_belief.n, metrics.false_belief.agreed) == (
        1,
        1,
    )  # Ann's belief in the fake
    assert {k: s.n for k, s in metrics.by_order.items()} == {"1": 6, "2": 4, "3": 1}
    oracle: dict[tuple[str, str], str] = {}
    for verdict in run_verdicts(scene(), first):
        asked = verdict.probe.ask or "narrator"
        if isinstance(verdict, WhoKnowsVerdict):
            for name, question in zip(verdict.probe.names, verdict.probe.questions, strict=True):
                oracle[(asked, question)] = "yes" if name in verdict.tracker else "no"
        else:
            oracle[(asked, verdict.probe.question)] = str(verdict.tracker)

    def chooser(messages: Sequence[Message], options: Sequence[str]) -> int:
        question = next(
            q for (seat, q) in oracle if seat == _seat(messages) and q in messages[-1].content
        )
        return list(options).index(oracle[(_seat(messages), question)])

    second = tom_metrics(scene(), played(ScriptedStage(chooser=chooser)))
    assert second is not None and second.overall.accuracy == 1.0 and second.who_knows_f1 == 1.0
    assert all(score.accuracy == 1.0 for score in second.by_kind.values())


def test_f1_and_exact_sets() -> None:
    assert (
        f1([], []) == 1.0 and f1(["A"], []) == 0.0 and f1(["A", "B"], ["B"]) == pytest.approx(2 / 3)
    )
    probe = WhoKnowsAnswered(
        turn=1, fact="debt", names=("A", "B"), questions=("q", "q"), answers=("no", "yes")
    )
    verdict = WhoKnowsVerdict(probe, ("B",), ("A", "B"))
    assert verdict.agrees and verdict.f1 == 1.0
    score = score_verdicts([verdict])
    assert score is not None and (score.reality.n, score.reality.agreed) == (1, 0)


def test_a_fact_probe_with_no_belief_is_not_a_false_belief() -> None:
    probe = ProbeAnswered(
        turn=1,
        ask="A",
        about="debt",
        kind="fact",
        question="q",
        options=FACT_OPTIONS,
        answer="no",
        truth="yes",
    )
    assert (
        not ProbeVerdict(probe, "don't know").false_belief
        and ProbeVerdict(probe, "no").false_belief
    )


def test_probe_lines_keep_their_shape_and_new_ones_round_trip() -> None:
    old = '{"type":"probe","turn":5,"ask":"Sally","about":"marble","question":"q","options":["a"],"answer":"a","truth":"a"}'
    event = event_from_json(old)
    assert isinstance(event, ProbeAnswered) and event.kind == "object"
    assert "kind" not in json.loads(event_to_json(event))
    fact = event.model_copy(update={"kind": "fact"})
    assert (
        json.loads(event_to_json(fact))["kind"] == "fact"
        and event_from_json(event_to_json(fact)) == fact
    )
    who = WhoKnowsAnswered(turn=2, fact="debt", names=("A",), questions=("q",), answers=("yes",))
    assert event_from_json(event_to_json(who)) == who
    with pytest.raises(ValueError, match="as many"):
        WhoKnowsAnswered(turn=2, fact="debt", names=("A", "B"), questions=("q",), answers=("yes",))


def test_the_narrator_reads_the_whole_story_and_a_character_only_what_it_perceived() -> None:
    seen: list[tuple[str, str]] = []

    def chooser(messages: Sequence[Message], options: Sequence[str]) -> int:
        seen.append((_seat(messages), "\n".join(m.content for m in messages)))
        return 0

    played(ScriptedStage(chooser=chooser))
    narrator = [text for seat, text in seen if seat == "narrator"]
    cy = [text for seat, text in seen if seat == "Cy"]
    assert narrator and all(
        'Ann tells Bob privately: "Felix owes Edwin money."' in text for text in narrator
    )
    assert all("It is not true that the ring is a fake." in text for text in narrator)
    assert cy and not any(
        "Felix owes Edwin money." in text.split("Answer truthfully")[0] for text in cy
    )


BAD = [
    (
        "{at: 2, ask: Bob, about: debt}",
        "{at: 2, ask: Bob, about: debts}",
        "probes.0.about",
        "unknown object or fact 'debts'",
    ),
    (
        "{at: 2, ask: Ann, who_knows: debt}",
        "{at: 2, ask: Ann, who_knows: ring}",
        "probes.6.who_knows",
        "unknown fact 'ring'",
    ),
    (
        "{at: 2, ask: Ann, who_knows: debt}",
        "{at: 2, ask: Ann, who_knows: debt, style: indirect}",
        "probes.6.style",
        "direct",
    ),
    (
        "{at: 2, ask: Ann, about: fake}",
        "{at: 2, ask: Ann, about: fake, named: [box, drawer]}",
        "probes.4.named",
        "names no containers",
    ),
    (
        "{at: 2, who_knows: fake}",
        "{at: 2, who_knows: fake, through: [Ann]}",
        "probes.10.through",
        "no `through`",
    ),
    ("{at: 2, ask: Bob, about: debt}", "{at: 2, about: debt}", "probes.0", "give `ask`"),
    (
        "{at: 2, ask: Bob, about: debt}",
        "{at: 2, ask: Bob, about: debt, who_knows: debt}",
        "probes.0",
        "give one of them",
    ),
    (
        "{at: 2, ask: Ann, who_knows: debt}",
        "{at: 2, ask: Ann, who_knows: debt, through: [Bob, Cy, Bob]}",
        "probes.6.through",
        "at most 2",
    ),
    (
        "{at: 2, ask: Cy, who_knows: debt}",
        "{at: 2, ask: Dee, who_knows: debt}",
        "probes.7.ask",
        "unknown character 'Dee'",
    ),
]


@pytest.mark.parametrize(("old", "new", "field", "message"), BAD)
def test_bad_fact_probes_are_located(old: str, new: str, field: str, message: str) -> None:
    assert old in SCENE
    text = SCENE.replace(old, new, 1)
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text, "facts.yaml")
    problem = caught.value.problems[0]
    assert problem.field == field and message in problem.message
    line = next(number for number, row in enumerate(text.splitlines(), 1) if new in row)
    assert problem.line == line and str(caught.value).startswith(f"facts.yaml:{line}:")


class _Reading(ScriptedStage, LatentReader):
    """A scripted stage that pretends to read activations: one block of zeros per answer."""

    @property
    def layers(self) -> tuple[int, ...]:
        return (1,)

    def choose_many_latent(self, jobs, contrast=None, steer=None):  # type: ignore[no-untyped-def]
        import numpy as np

        blocks = [
            np.zeros((1 + len(contrast[i]) if contrast else 1, 1, 4)) for i in range(len(jobs))
        ]
        return OneByOne(self).choose_many(jobs), blocks


def test_a_fact_probe_is_captured_with_yes_and_no_as_its_contrast_and_a_who_knows_probe_is_not() -> (
    None
):
    from simstage.events import LatentCaptured
    from simstage.latent.store import LatentStore

    scenario = parse_scenario(SCENE + "latent: {contrast: true}\n", "facts.yaml").scenario
    simulation = Simulation(scenario, _Reading(), latent_store=LatentStore(None))
    simulation.run()
    captured = [e for e in simulation.events if isinstance(e, LatentCaptured)]
    asked = [e for e in simulation.events if isinstance(e, (ProbeAnswered, WhoKnowsAnswered))]
    assert len(captured) == sum(isinstance(e, ProbeAnswered) for e in asked) == 6
    after = [simulation.events[simulation.events.index(e) - 1] for e in captured]
    assert all(
        isinstance(e, ProbeAnswered) and e.about == c.about
        for e, c in zip(after, captured, strict=True)
    )
    assert [c.contrast for c in captured if c.about != "ring"] == [("yes", "no")] * 5
    assert next(c for c in captured if c.about == "ring").contrast == ("box", "drawer")


class _Batching(ScriptedStage, Batching):
    """A scripted stage that says it batches: it records what `generate` was asked to decode."""

    together = True

    def __init__(self) -> None:
        super().__init__()
        self.primed: list[tuple[int, list[Message]]] = []
        self.asked: list[tuple[int, list[Message]]] = []

    def generate(self, seq, messages, sampling):  # type: ignore[no-untyped-def]
        if sampling.max_tokens == 0:
            self.primed.append((seq, list(messages)))
            return iter(())
        return super().generate(seq, messages, sampling)

    def choose_many(self, jobs):  # type: ignore[no-untyped-def]
        self.asked += [(seq, list(messages)) for seq, messages, _, _ in jobs]
        return OneByOne(self).choose_many(jobs)


def test_a_batching_stage_decodes_the_narrators_story_once_and_each_question_extends_it() -> None:
    from simstage.asking import NARRATOR_SEQUENCE

    stage = _Batching()
    simulation = Simulation(scene(), stage)
    simulation.run()
    narrator = simulation.sequence(NARRATOR_SEQUENCE)
    assert [seq for seq, _ in stage.primed] == [narrator]  # one turn asks the narrator
    (story,) = [messages for _, messages in stage.primed]
    questions = [messages for seq, messages in stage.asked if seq == narrator]
    assert len(questions) == 2 * len(scene().cast)
    for messages in questions:
        assert messages[0] == story[0] and messages[1].content.startswith(
            story[1].content + "\n\nQuestion: "
        )
