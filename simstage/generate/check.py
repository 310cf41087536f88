"""A generated set checked: its balance table (`simstage generate --check`), and the tracker's answers.

The balance table counts, at each order and over all probes: where the answer
stands among the options, how often the question names it last, the share of
false-belief probes, of direct questions, of probes passing ExploreToM's filter,
and what the trivial strategies would score on the same probes (answer reality,
answer the lower order, chance).
"""

from __future__ import annotations

from collections.abc import Sequence

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from simstage.events import Rejected
from simstage.generate.core import (
    GeneratedScene,
    GenerateError,
    IntendedProbe,
    fact_label,
    knowers_label,
)
from simstage.scenario.checks import check_references
from simstage.scenario.models import Scenario
from simstage.tom.timeline import BeliefTimeline
from simstage.world.actions import resolve
from simstage.world.state import WorldState

TOLERANCE = 0.10
"""How far a share may stand from its even value and still count as balanced."""


class BalanceRow(BaseModel):
    """The controls over one group of probes (one order, or all)."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    group: str
    """The order ("1", "2", ...) of the probes with options (objects, facts); "who knows 2", ...
    for who-knows probes; or "all"."""
    probes: int
    """Probes in the group."""
    position: list[float]
    """Of the probes with options, the share of answers at each option position (first, second, ...)."""
    named_last: float | None
    """Of the probes that name two containers, the share whose answer is named last."""
    false_belief: float
    """The share of false-belief probes."""
    direct: float | None
    """Of the probes about objects, the share of direct questions (the rest are indirect); None
    without any (facts and who knows are asked one way)."""
    filtered: float
    """The share whose answer differs from reality and from the lower order (ExploreToM's filter)."""
    reality: float
    """Baseline: the accuracy of always answering where the object really is."""
    lower: float
    """Baseline: the accuracy of answering one order down (at order 1, reality)."""
    chance: float | None
    """Baseline: the accuracy of picking an option at random (None: no probe with options)."""


class BalanceTable(BaseModel):
    """The balance of a generated set, order by order and over all probes."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    family: str
    scenes: int
    rows: list[BalanceRow]
    """One row per order, then "all"."""
    tolerance: float = TOLERANCE
    tracker_agrees: int | None = None
    """Probes whose tracker answer equals the intended one (None: not checked)."""
    tracker_asked: int | None = None
    """Probes checked against the tracker."""
    rejected: list[str] = Field(default_factory=list)
    """Timeline events the world refused (`FILE: turn N: reason`); a sound set has none."""

    def balanced(self) -> dict[str, bool]:
        """Whether each control is within the tolerance in every row."""
        rows, tol = self.rows, self.tolerance + 1e-9
        return {
            "answer position": all(
                abs(share - 1 / len(row.position)) <= tol for row in rows for share in row.position
            ),
            "named last": all(
                row.named_last is None or abs(row.named_last - 0.5) <= tol for row in rows
            ),
            "false/true belief": all(abs(row.false_belief - 0.5) <= tol for row in rows),
            "direct/indirect": all(
                row.direct is None or abs(row.direct - 0.5) <= tol for row in rows
            ),
        }


def _row(group: str, probes: Sequence[IntendedProbe]) -> BalanceRow:
    n = len(probes)
    offered = [p for p in probes if p.options]
    width = max((len(p.options) for p in offered), default=0)
    named = [p for p in probes if p.named]
    objects = [p for p in probes if p.kind == "object"]
    return BalanceRow(
        group=group,
        probes=n,
        position=[sum(p.position == i for p in offered) / len(offered) for i in range(width)],
        named_last=sum(p.named_last == p.answer for p in named) / len(named) if named else None,
        false_belief=sum(p.false_belief for p in probes) / n,
        direct=sum(p.style == "direct" for p in objects) / len(objects) if objects else None,
        filtered=sum(p.filtered for p in probes) / n,
        reality=sum(p.answer == p.reality for p in probes) / n,
        lower=sum(p.answer == p.lower for p in probes) / n,
        chance=sum(1 / len(p.options) for p in offered) / len(offered) if offered else None,
    )


def balance_table(family: str, scenes: Sequence[GeneratedScene]) -> BalanceTable:
    """The balance of a set of scenes (without the tracker's check): a row per order of the
    probes with options, one per order of the who-knows probes, and one over all."""
    probes = [probe for scene in scenes for probe in scene.probes]
    rows = []
    for who_knows, label in ((False, ""), (True, "who knows ")):
        group = [p for p in probes if (p.kind == "who_knows") == who_knows]
        for order in sorted({p.order for p in group}):
            rows.append(_row(f"{label}{order}", [p for p in group if p.order == order]))
    if probes:
        rows.append(_row("all", probes))
    return BalanceTable(family=family, scenes=len(scenes), rows=rows)


class TrackerAnswers(BaseModel):
    """What the ToM tracker answers to a scenario's probes, its timeline played with no stage."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    answers: list[str | None]
    """Per probe, in the file's order: the tracker's container (None: no belief); yes, no or don't
    know for a fact; who knows (as `knowers_label` writes it) for a who-knows probe."""
    rejected: list[str]
    """Timeline events the world refused (`turn N: reason`)."""


def tracker_answers(scenario: Scenario) -> TrackerAnswers:
    """The tracker's answer to each probe, folding the timeline as a run applies it.

    A run applies each turn's timeline entries at the start of the turn, in file
    order, and asks the turn's probes at its end; what characters say in between
    changes no belief about an object (an action a model takes on its turn can:
    this is the scene as scripted).
    """
    world = WorldState.initial(scenario)
    timeline = BeliefTimeline(scenario)
    answers: list[str | None] = [None] * len(scenario.probes)
    rejected = []
    for turn in range(1, scenario.max_turns + 1):
        for entry in scenario.timeline:
            if entry.at != turn:
                continue
            event = resolve(world, entry.event, turn, "timeline")  # type: ignore[arg-type]
            if isinstance(event, Rejected):
                rejected.append(f"turn {turn}: {event.reason}")
            world.apply(event)
            timeline.add(event)
        for index, probe in enumerate(scenario.probes):
            if probe.at != turn or probe.ask is None:  # generated probes are asked of characters
                continue
            state = timeline.now()
            if probe.who_knows is not None:
                answers[index] = knowers_label(
                    state.who_knows(probe.who_knows, probe.ask, probe.through)
                )
            elif probe.about in scenario.world.facts:
                fact = state.fact_belief(probe.ask, probe.about, probe.through)
                answers[index] = fact_label(None if fact is None else fact.value)
            elif probe.about is not None:
                belief = state.where(probe.ask, probe.about, probe.through)
                answers[index] = None if belief is None else belief.container
    return TrackerAnswers(answers=answers, rejected=rejected)


def scene_scenario(scene: GeneratedScene) -> Scenario:
    """A generated scene's text read back as a scenario, with the loader's checks but not its
    line-by-line error locations (libyaml's parser where PyYAML has it: a set is thousands of files).

    Raises:
        GenerateError: the text is not a valid scenario (a generator bug; `simstage validate` says where).
    """
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        scenario = Scenario.model_validate(yaml.load(scene.text, Loader=loader))
    except ValidationError as exc:
        raise GenerateError(
            f"{scene.file_name}: not a valid scenario: {exc.errors()[0]['msg']}"
        ) from None
    problems = check_references(scenario)
    if problems:
        raise GenerateError(
            f"{scene.file_name}: {'.'.join(map(str, problems[0].loc))}: {problems[0].message}"
        )
    return scenario


def with_tracker(table: BalanceTable, scenes: Sequence[GeneratedScene]) -> BalanceTable:
    """The table with the tracker's agreement: each scene read back from its text and folded."""
    agrees = asked = 0
    rejected = []
    for scene in scenes:
        scenario = scene_scenario(scene)
        found = tracker_answers(scenario)
        rejected += [f"{scene.file_name}: {reason}" for reason in found.rejected]
        asked += len(scene.probes)
        agrees += sum(
            answer == probe.answer
            for answer, probe in zip(found.answers, scene.probes, strict=True)
        )
    return table.model_copy(
        update={"tracker_agrees": agrees, "tracker_asked": asked, "rejected": rejected}
    )


def render_table(table: BalanceTable) -> str:
    """The table as text, for the terminal."""
    width = max(len(row.position) for row in table.rows) if table.rows else 0
    label = max([5, *(len(row.group) for row in table.rows)])
    head = f"{'order':>{label}} {'probes':>6}  {'answer position':<{6 * width}} {'named last':>10} {'false':>6}"
    head += f" {'direct':>6} {'filter':>6}  {'reality':>7} {'lower':>6} {'chance':>6}"
    lines = [f"{table.family}: {table.scenes} scenes", "", head]
    for row in table.rows:
        spots = "".join(f"{share:6.2f}" for share in row.position).ljust(6 * width)
        last, direct, chance = (
            "-" if share is None else f"{share:.2f}"
            for share in (row.named_last, row.direct, row.chance)
        )
        lines.append(
            f"{row.group:>{label}} {row.probes:>6}  {spots} {last:>10} {row.false_belief:6.2f} {direct:>6}"
            f" {row.filtered:6.2f}  {row.reality:7.2f} {row.lower:6.2f} {chance:>6}"
        )
    lines += [
        "",
        "answer position: share of answers at each option (a fact's options: yes, no, don't know;",
        "who-knows probes have none); named last: share whose answer the question names last;",
        "filter: share passing ExploreToM's filter; reality, lower, chance: the accuracy of",
        "answering reality, the lower order, or at random, on the same probes.",
        "",
    ]
    verdicts = table.balanced()
    asked = {  # a control no probe of the set has (facts name no containers) is not applicable
        "answer position": any(row.position for row in table.rows),
        "named last": any(row.named_last is not None for row in table.rows),
        "direct/indirect": any(row.direct is not None for row in table.rows),
    }
    lines.append(
        f"balanced within ±{table.tolerance:.0%}: "
        + ", ".join(
            f"{name} {'n/a' if not asked.get(name, True) else 'yes' if ok else 'NO'}"
            for name, ok in verdicts.items()
        )
    )
    if table.tracker_asked is not None:
        lines.append(
            f"the tracker's answers equal the intended ones on {table.tracker_agrees} of {table.tracker_asked} probes"
        )
    lines += [f"refused: {reason}" for reason in table.rejected]
    return "\n".join(lines)
