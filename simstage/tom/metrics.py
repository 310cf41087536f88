"""ToM metrics of a run, folded from its events: the tracker's answer to each probe, and the score.

Nothing here is stored in the run log. The tracker's answer to a probe and the
run's ToM score are computed from the events wherever they are read (the
transcript, the report, sweep rows, compare, the TUI), so all readers agree and
a better tracker re-scores old logs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from simstage.events import ProbeAnswered
from simstage.scenario.models import Scenario


class ProbeScore(BaseModel):
    """How often the model's probe answers agree with the ToM tracker, in one group of probes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    n: int = 0
    """Probes in the group that the tracker could answer."""
    agreed: int = 0
    """Of those, how many the model answered as the tracker did."""
    accuracy: float | None = None
    """`agreed / n`; None when `n` is 0."""


class TomMetrics(BaseModel):
    """The model's probe answers scored against the ToM tracker."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    turn: int = 0
    """The last turn the score covers."""
    overall: ProbeScore
    """Every probe the tracker could answer."""
    by_order: dict[str, ProbeScore] = Field(default_factory=dict)
    """By belief order ("1": "A thinks", "2": "A thinks B thinks", ...)."""
    by_style: dict[str, ProbeScore] = Field(default_factory=dict)
    """By question style (`direct`, `indirect`)."""
    false_belief: ProbeScore = Field(default_factory=ProbeScore)
    """Probes where the tracker's belief is false (it differs from where the object really is)."""
    reality: ProbeScore = Field(default_factory=ProbeScore)
    """The model's answers against where the object really was (not against the tracker)."""


@dataclass(frozen=True)
class ProbeVerdict:
    """A probe and what the tracker says the asked character believes (None: no belief)."""

    probe: ProbeAnswered
    tracker: str | None

    @property
    def agrees(self) -> bool:
        """Whether the model answered as the tracker does."""
        return self.tracker is not None and self.probe.answer == self.tracker


class VerdictFold:
    """Folds events one at a time and answers each probe as it comes (for printers and TUIs).

    Args:
        scenario: the scene.
    """

    def __init__(self, scenario: Scenario):
        from simstage.tom.timeline import BeliefTimeline

        self.timeline = BeliefTimeline(scenario)
        self.verdicts: list[ProbeVerdict] = []

    def add(self, event: Any) -> ProbeVerdict | None:
        """Fold one event; for a probe, return (and keep) its verdict."""
        if not isinstance(event, ProbeAnswered):
            self.timeline.add(event)
            return None
        belief = self.timeline.now().where(event.ask, event.about, event.through)
        verdict = ProbeVerdict(event, None if belief is None else belief.container)
        self.verdicts.append(verdict)
        return verdict


def probe_verdicts(scenario: Scenario, events: Iterable[Any]) -> list[ProbeVerdict]:
    """Every probe of a run with the tracker's answer at the moment it was asked.

    The tracker folds the events before each probe (at the scenario's order, or the
    deepest its probes ask), with the scenario's rule set.
    """
    fold = VerdictFold(scenario)
    for event in events:
        fold.add(event)
    return fold.verdicts


def _score(pairs: list[tuple[str, str]]) -> ProbeScore:
    agreed = sum(answer == expected for answer, expected in pairs)
    return ProbeScore(n=len(pairs), agreed=agreed, accuracy=agreed / len(pairs) if pairs else None)


def score_verdicts(verdicts: Sequence[ProbeVerdict], turn: int = 0) -> TomMetrics | None:
    """The ToM score of some probes' verdicts (None when there are none).

    Probes the tracker could not answer count only towards `reality`.
    """
    if not verdicts:
        return None
    answered = [(v.probe, v.tracker) for v in verdicts if v.tracker is not None]
    by_order: dict[str, list[tuple[str, str]]] = {}
    by_style: dict[str, list[tuple[str, str]]] = {}
    for probe, tracker in answered:
        by_order.setdefault(str(len(probe.through) + 1), []).append((probe.answer, tracker))
        by_style.setdefault(probe.style, []).append((probe.answer, tracker))
    return TomMetrics(
        turn=turn,
        overall=_score([(p.answer, t) for p, t in answered]),
        by_order={key: _score(value) for key, value in sorted(by_order.items())},
        by_style={key: _score(value) for key, value in sorted(by_style.items())},
        false_belief=_score([(p.answer, t) for p, t in answered if t != p.truth]),
        reality=_score([(v.probe.answer, v.probe.truth) for v in verdicts]),
    )


def tom_metrics(scenario: Scenario, events: Sequence[Any]) -> TomMetrics | None:
    """Score every probe of a run against the tracker (None when the run asked no probes)."""
    last = max((e.turn for e in events), default=0)
    return score_verdicts(probe_verdicts(scenario, events), last)
