"""ToM metrics of a run, folded from its events: the tracker's answer to each probe, and the score.

Nothing here is stored in the run log. The tracker's answer to a probe and the
run's ToM score are computed from the events wherever they are read (the
transcript, the report, sweep rows, compare, the TUI), so all readers agree and
a better tracker re-scores old logs.

Three kinds of probe are scored. About an object: the container the tracker says the
asked character believes (along its chain), or None when it has no belief (then the
probe counts only against reality). About a fact: yes, no, or don't know (no belief),
always answered. Who knows a fact: the set of cast members the tracker says the asked
character thinks know whether it holds (asked of the narrator, who really does); the
model's set agrees when it is the same set, and its per-name F1 says how near it came.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from statistics import fmean
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from simstage.events import ProbeAnswered, WhoKnowsAnswered
from simstage.scenario.models import Scenario
from simstage.stats import Interval, wilson
from simstage.tom.beliefs import BeliefState

FACT_ANSWERS = {True: "yes", False: "no", None: "don't know"}
"""A fact probe's answer for a belief that the fact holds, that it does not, and for no belief."""


class ProbeScore(BaseModel):
    """How often the model's probe answers agree with the ToM tracker, in one group of probes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    n: int = 0
    """Probes in the group that the tracker could answer."""
    agreed: int = 0
    """Of those, how many the model answered as the tracker did."""
    accuracy: float | None = None
    """`agreed / n`; None when `n` is 0."""

    @property
    def interval(self) -> Interval | None:
        """`accuracy` with its 95% Wilson interval over the group's probes (None when `n` is 0)."""
        return wilson(self.agreed, self.n)


class TomMetrics(BaseModel):
    """The model's probe answers scored against the ToM tracker."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    turn: int = 0
    """The last turn the score covers."""
    overall: ProbeScore
    """Every probe the tracker could answer (a who-knows probe agrees when its set is the tracker's)."""
    by_order: dict[str, ProbeScore] = Field(default_factory=dict)
    """By belief order ("1": "A thinks", "2": "A thinks B thinks", ...). A who-knows probe asked of
    a character is one order deeper than its chain ("who does A think knows" is order 2); asked of
    the narrator, order 1."""
    by_style: dict[str, ProbeScore] = Field(default_factory=dict)
    """By question style (`direct`, `indirect`; facts and who-knows probes are direct)."""
    by_kind: dict[str, ProbeScore] = Field(default_factory=dict)
    """By what is asked: `object`, `fact`, `who_knows` (exact-set accuracy)."""
    false_belief: ProbeScore = Field(default_factory=ProbeScore)
    """Probes where the tracker's belief is false (an object where it is not, a fact the wrong way)."""
    reality: ProbeScore = Field(default_factory=ProbeScore)
    """The model's answers against reality (where the object was, whether the fact holds, who
    really knows), not against the tracker."""
    who_knows_f1: float | None = None
    """Who-knows probes: the mean over probes of the per-name F1 of the model's set against the
    tracker's (a name is a positive when it knows); None without such probes."""


def agrees(event: ProbeAnswered | WhoKnowsAnswered, tracker: str | tuple[str, ...] | None) -> bool:
    """Whether a probe's answer is the tracker's: the same container or yes / no / don't know (no
    tracker answer: never), or for a who-knows probe the same set of names. The ToM score counts
    it, and the transcript's mark shows it."""
    if isinstance(event, WhoKnowsAnswered):
        return isinstance(tracker, tuple) and set(event.said) == set(tracker)
    return tracker is not None and event.answer == tracker


@dataclass(frozen=True)
class ProbeVerdict:
    """A probe about an object or a fact, and what the tracker says the asked character believes.

    `tracker` is a container (None: no belief) for an object, yes / no / don't know for a fact.
    """

    probe: ProbeAnswered
    tracker: str | None

    @property
    def agrees(self) -> bool:
        """Whether the model answered as the tracker does."""
        return agrees(self.probe, self.tracker)

    @property
    def false_belief(self) -> bool:
        """Whether the tracker's belief is one that reality contradicts (no belief is not one)."""
        if self.tracker is None or (
            self.tracker == FACT_ANSWERS[None] and self.probe.kind == "fact"
        ):
            return False
        return self.tracker != self.probe.truth


@dataclass(frozen=True)
class WhoKnowsVerdict:
    """A who-knows probe, who the tracker says the asked one thinks knows, and who really knows."""

    probe: WhoKnowsAnswered
    tracker: tuple[str, ...]
    """Asked of a character: who it thinks (along the chain) knows; of the narrator: who really knows."""
    really: tuple[str, ...]
    """Who really knows (each character whose own belief is right)."""

    @property
    def agrees(self) -> bool:
        """Whether the model named exactly the tracker's set."""
        return agrees(self.probe, self.tracker)

    @property
    def f1(self) -> float:
        """Per-name F1 of the model's set against the tracker's (1.0 when both are empty)."""
        return f1(self.probe.said, self.tracker)


Verdict = ProbeVerdict | WhoKnowsVerdict


def f1(said: Iterable[str], expected: Iterable[str]) -> float:
    """The F1 of the names `said` against the names `expected` (1.0 when both are empty)."""
    chosen, wanted = set(said), set(expected)
    if not chosen and not wanted:
        return 1.0
    hits = len(chosen & wanted)
    return 2 * hits / (len(chosen) + len(wanted))


def probe_order_of(probe: ProbeAnswered | WhoKnowsAnswered) -> int:
    """A probe's belief order (a who-knows probe asked of a character reads one order deeper)."""
    if isinstance(probe, WhoKnowsAnswered):
        return 1 if probe.ask is None else len(probe.through) + 2
    return len(probe.through) + 1


def verdict_of(state: BeliefState, event: ProbeAnswered | WhoKnowsAnswered) -> Verdict:
    """The tracker's answer to one probe, from the beliefs as it was asked."""
    if isinstance(event, WhoKnowsAnswered):
        really = state.who_knows(event.fact)
        tracker = (
            really if event.ask is None else state.who_knows(event.fact, event.ask, event.through)
        )
        return WhoKnowsVerdict(event, tracker, really)
    if event.kind == "fact":
        fact = state.fact_belief(event.ask, event.about, event.through)
        return ProbeVerdict(event, FACT_ANSWERS[None if fact is None else fact.value])
    belief = state.where(event.ask, event.about, event.through)
    return ProbeVerdict(event, None if belief is None else belief.container)


class VerdictFold:
    """Folds events one at a time and answers each probe as it comes (for printers and TUIs).

    Args:
        scenario: the scene.
    """

    def __init__(self, scenario: Scenario):
        from simstage.tom.timeline import BeliefTimeline

        self.timeline = BeliefTimeline(scenario)
        self.verdicts: list[Verdict] = []
        """Every probe's verdict so far, in log order."""

    def add(self, event: Any) -> Verdict | None:
        """Fold one event; for a probe, return (and keep) its verdict."""
        if not isinstance(event, (ProbeAnswered, WhoKnowsAnswered)):
            self.timeline.add(event)
            return None
        verdict = verdict_of(self.timeline.now(), event)
        self.verdicts.append(verdict)
        return verdict


def run_verdicts(scenario: Scenario, events: Iterable[Any]) -> list[Verdict]:
    """Every probe of a run (objects, facts, who knows), in log order, with the tracker's answer
    at the moment it was asked.

    The tracker folds the events before each probe (at the scenario's order, or the
    deepest its probes ask), with the scenario's rule set.
    """
    fold = VerdictFold(scenario)
    for event in events:
        fold.add(event)
    return fold.verdicts


def probe_verdicts(scenario: Scenario, events: Iterable[Any]) -> list[ProbeVerdict]:
    """The verdicts of a run's probes about objects and facts (one per `ProbeAnswered`), in log order."""
    return [v for v in run_verdicts(scenario, events) if isinstance(v, ProbeVerdict)]


def _score(outcomes: Sequence[bool]) -> ProbeScore:
    agreed = sum(outcomes)
    return ProbeScore(
        n=len(outcomes), agreed=agreed, accuracy=agreed / len(outcomes) if outcomes else None
    )


def _kind(verdict: Verdict) -> str:
    return "who_knows" if isinstance(verdict, WhoKnowsVerdict) else verdict.probe.kind


def score_verdicts(verdicts: Sequence[Verdict], turn: int = 0) -> TomMetrics | None:
    """The ToM score of some probes' verdicts (None when there are none).

    Object probes the tracker could not answer count only towards `reality`.
    """
    if not verdicts:
        return None
    answered = [v for v in verdicts if not isinstance(v, ProbeVerdict) or v.tracker is not None]
    groups: dict[str, dict[str, list[bool]]] = {"order": {}, "style": {}, "kind": {}}
    for verdict in answered:
        style = verdict.probe.style if isinstance(verdict, ProbeVerdict) else "direct"
        for group, key in (
            ("order", str(probe_order_of(verdict.probe))),
            ("style", style),
            ("kind", _kind(verdict)),
        ):
            groups[group].setdefault(key, []).append(verdict.agrees)
    reality = [
        v.probe.answer == v.probe.truth
        if isinstance(v, ProbeVerdict)
        else set(v.probe.said) == set(v.really)
        for v in verdicts
    ]
    who = [v.f1 for v in verdicts if isinstance(v, WhoKnowsVerdict)]
    return TomMetrics(
        turn=turn,
        overall=_score([v.agrees for v in answered]),
        by_order={key: _score(value) for key, value in sorted(groups["order"].items())},
        by_style={key: _score(value) for key, value in sorted(groups["style"].items())},
        by_kind={key: _score(value) for key, value in sorted(groups["kind"].items())},
        false_belief=_score(
            [v.agrees for v in answered if isinstance(v, ProbeVerdict) and v.false_belief]
        ),
        reality=_score(reality),
        who_knows_f1=fmean(who) if who else None,
    )


def tom_metrics(scenario: Scenario, events: Sequence[Any]) -> TomMetrics | None:
    """Score every probe of a run against the tracker (None when the run asked no probes)."""
    last = max((e.turn for e in events), default=0)
    return score_verdicts(run_verdicts(scenario, events), last)
