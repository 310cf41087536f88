"""What the panes show at a given turn: pure folds over the event list, no model, no widgets."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from simstage.events import ProbeAnswered, RunEnded
from simstage.scenario.models import Scenario
from simstage.world.state import WorldState, fold_world

TRACKER_MISSING = "tracker not available"


@dataclass(frozen=True, kw_only=True)
class PaneRow:
    """What every row of the beliefs pane has: its chain, and the marks beside the belief."""

    chain: tuple[str, ...]
    source: str
    """How the belief was formed."""
    changed: bool
    """Whether it changed since the turn before."""
    lie_by: str | None = None
    probed: str | None = None
    """What the model answered when this exact question was last probed, if it was (about a
    fact: yes, no or don't know)."""


@dataclass(frozen=True, kw_only=True)
class BeliefRow(PaneRow):
    """One belief about an object as the beliefs pane shows it."""

    object: str
    container: str | None
    true: bool
    probed_truth: str | None = None


@dataclass(frozen=True, kw_only=True)
class FactRow(PaneRow):
    """One belief about a fact as the beliefs pane shows it."""

    fact: str
    value: bool
    """True: believed to hold; False: believed not to."""
    right: bool

    @property
    def answer(self) -> str:
        """The tracker's answer in a fact probe's words."""
        return "yes" if self.value else "no"


@dataclass(frozen=True)
class BeliefsView:
    """The selected character's beliefs at a turn, or why there are none."""

    holder: str
    turn: int
    rows: tuple[BeliefRow, ...] = ()
    unavailable: str | None = None
    facts: tuple[FactRow, ...] = ()
    """Its beliefs about facts (a fact it has no belief about has no row)."""


@dataclass(frozen=True)
class TurnView:
    """Everything the panes need at one turn."""

    turn: int
    events: list[Any]
    world: WorldState
    beliefs: BeliefsView
    speakers: dict[str, int] = field(default_factory=dict)


def events_upto(events: Sequence[Any], turn: int) -> list[Any]:
    """The events of turns up to and including `turn` (the run's end marker left out)."""
    return [e for e in events if e.turn <= turn and not isinstance(e, RunEnded)]


def last_turn(events: Sequence[Any]) -> int:
    """The highest turn any event belongs to."""
    return max((e.turn for e in events), default=0)


def belief_timeline(scenario: Scenario, events: Sequence[Any] = ()) -> Any:
    """The incremental belief fold the app keeps and feeds each new event (None: no tracker)."""
    try:
        from simstage.tom.timeline import BeliefTimeline
    except ImportError:
        return None
    return BeliefTimeline(scenario).extend(events)


def beliefs_view(timeline: Any, events: Sequence[Any], holder: str, turn: int) -> BeliefsView:
    """The tracker's beliefs of `holder` at `turn`, changes since the turn before, and probe answers."""
    if timeline is None:
        return BeliefsView(holder, turn, unavailable=TRACKER_MISSING)
    try:
        state = timeline.at(turn)
        before = timeline.at(turn - 1) if turn > 0 else None
    except Exception as exc:
        return BeliefsView(holder, turn, unavailable=f"tracker failed: {type(exc).__name__}: {exc}")
    probes: dict[tuple[tuple[str, ...], str], ProbeAnswered] = {}
    for event in events_upto(events, turn):
        if isinstance(event, ProbeAnswered) and event.ask == holder:
            probes[(tuple(event.through), event.about)] = event
    rows = []
    mine = [b for b in state.beliefs() if b.holder == holder]
    for belief in sorted(mine, key=lambda b: (len(b.chain), b.chain, b.object)):
        old = before.where(holder, belief.object, belief.chain) if before is not None else None
        changed = turn > 0 and (old is None or old.container != belief.container)
        probe = probes.get((tuple(belief.chain), belief.object))
        rows.append(
            BeliefRow(
                chain=tuple(belief.chain),
                object=belief.object,
                container=belief.container,
                source=belief.source,
                true=belief.true,
                changed=changed,
                lie_by=belief.lie_by,
                probed=probe.answer if probe is not None else None,
                probed_truth=probe.truth if probe is not None else None,
            )
        )
    facts = []
    for fact in (b for b in state.fact_beliefs() if b.holder == holder):
        old_fact = before.fact_belief(holder, fact.fact, fact.chain) if before is not None else None
        probe = probes.get((fact.chain, fact.fact))
        facts.append(
            FactRow(
                chain=fact.chain, fact=fact.fact, value=fact.value, right=fact.right, source=fact.source,
                changed=turn > 0 and (old_fact is None or old_fact.value != fact.value), lie_by=fact.lie_by,
                probed=probe.answer if probe is not None and probe.kind == "fact" else None,
            )
        )  # fmt: skip
    facts.sort(key=lambda row: (len(row.chain), row.chain))
    return BeliefsView(holder, turn, tuple(rows), facts=tuple(facts))


def turn_view(
    scenario: Scenario, events: Sequence[Any], timeline: Any, turn: int, holder: str
) -> TurnView:
    """The transcript events, world and beliefs as they were at the end of `turn`."""
    shown = events_upto(events, turn)
    return TurnView(
        turn=turn,
        events=shown,
        world=fold_world(scenario, shown),
        beliefs=beliefs_view(timeline, events, holder, turn),
    )


@dataclass(frozen=True)
class MatrixLine:
    """One row of the belief matrix: where `label`'s holder thinks (along its chain) the object is,
    or for a fact whether it holds."""

    label: str
    """"Priya › Reed › Cole": Priya thinks Reed thinks Cole thinks."""
    container: str | None
    """The believed container; for a fact "true" or "false"; None: no belief."""
    source: str | None
    formed: int | None
    true: bool | None
    """Whether the belief matches the world (an object's container, a fact's truth)."""
    changed: bool
    probe_answer: str | None
    """The model's latest probe answer to this question, when it differs from the tracker's."""
    lie_by: str | None = None


@dataclass(frozen=True)
class MatrixView:
    """One object (or fact) across the whole cast at a turn, to the scene's order, or why it cannot be shown."""

    object: str
    """The object or the fact shown."""
    turn: int
    order: int = 0
    lines: tuple[MatrixLine, ...] = ()
    unavailable: str | None = None
    kind: str = "object"
    """`object`, or `fact` when `object` names a fact."""


def matrix_view(scenario: Scenario, events: Sequence[Any], turn: int, obj: str) -> MatrixView:
    """The belief matrix of `obj` (an object or a fact) at the end of `turn` (rows holder › chain,
    as `simstage.tom.matrix` orders them)."""
    kind = "fact" if obj in scenario.world.facts else "object"
    try:
        from simstage.tom.matrix import belief_matrix, fact_matrix, matrix_rows, row_label
    except ImportError:
        return MatrixView(obj, turn, unavailable=TRACKER_MISSING, kind=kind)
    shown = events_upto(events, turn)
    try:
        cells: list[Any] = (
            [c for c in fact_matrix(scenario, shown, turn=turn) if c.fact == obj]
            if kind == "fact"
            else [c for c in belief_matrix(scenario, shown, turn=turn) if c.object == obj]
        )
    except Exception as exc:
        return MatrixView(
            obj, turn, unavailable=f"tracker failed: {type(exc).__name__}: {exc}", kind=kind
        )
    by_row = {(c.holder, c.chain): c for c in cells}
    lines = []
    for row in matrix_rows(cells):
        cell = by_row[row]
        if kind == "fact":
            believed, true = None if cell.value is None else str(cell.value).lower(), cell.right
        else:
            believed, true = cell.container, cell.true
        lines.append(
            MatrixLine(
                label=row_label(*row),
                container=believed,
                source=cell.source,
                formed=cell.formed,
                true=true,
                changed=cell.changed,
                probe_answer=cell.probe_answer if cell.probe_disagrees else None,
                lie_by=cell.lie_by,
            )
        )
    order = max((len(c.chain) + 1 for c in cells), default=0)
    return MatrixView(obj, turn, order, tuple(lines), kind=kind)
