"""The belief matrix: rows holder › chain, columns objects and facts, each cell a belief.

A fold over the same `BeliefTimeline` the TUI and the engine keep (no second
tracker): for every turn, every (holder, chain, object) up to the order gets a
cell with the believed container, whether it matches the world at that turn,
how it was formed, who lied, whether it changed since the previous turn, and the
model's latest probe answer on the same question. Every (holder, chain, fact)
gets a `FactCell` alike: true, false or none (don't know), whether that is right,
source, turn formed, who lied, and the latest answer of a probe about the fact.
The report, the TUI and `simstage export --format csv` all read it; it imports
nothing from Textual.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypedDict

from simstage.events import ProbeAnswered
from simstage.scenario.models import Scenario
from simstage.tom.beliefs import Belief, BeliefState, normalise_chain
from simstage.tom.facts import FactBelief
from simstage.tom.metrics import FACT_ANSWERS

ROW_SEP = " › "
"""Between the names of a row's label: "Priya › Reed › Cole"."""
CSV_COLUMNS = (
    "turn",
    "holder",
    "chain",
    "object",
    "container",
    "true",
    "source",
    "lie_by",
    "fact",
    "value",
)
"""The long-form columns of `simstage export --format csv`: an object's row leaves `fact` and
`value` empty, a fact's leaves `object` and `container` empty (`true`: the belief is right)."""

Row = tuple[str, tuple[str, ...]]


@dataclass(frozen=True)
class BeliefCell:
    """What every cell of the matrix names: whose belief, along which chain, at the end of which turn."""

    turn: int
    """The turn the cell describes (the state at its end)."""
    holder: str
    """A, who holds the belief."""
    chain: tuple[str, ...]
    """The chain after the holder; () is the holder's own belief."""

    @property
    def order(self) -> int:
        """1 for the holder's own belief, 2 for "A thinks B thinks", and so on."""
        return len(self.chain) + 1


@dataclass(frozen=True)
class MatrixCell(BeliefCell):
    """One cell: where `holder` thinks (along `chain`) `object` is, at the end of `turn`."""

    object: str
    """The column: the object the belief is about."""
    container: str | None
    """The believed container; None: no belief, or only where it is not."""
    true: bool | None
    """Whether `container` matches the world at `turn`; None when `container` is None."""
    source: str | None
    """How the belief was formed (`initial`, `witnessed`, `told`, `claimed`, `inferred`); None: no belief."""
    lie_by: str | None
    """Who lied, when the belief comes from a false claim."""
    changed: bool
    """Whether `container` differs from the previous turn's (never at the first turn)."""
    probe_answer: str | None
    """The model's answer to the latest probe on this (holder, chain, object) at or before `turn`."""
    formed: int | None = None
    """The turn the belief was formed; None: no belief."""

    @property
    def probe_disagrees(self) -> bool:
        """Whether a probe asked this and the model's answer differs from the tracker's container."""
        return self.probe_answer is not None and self.probe_answer != self.container


@dataclass(frozen=True)
class FactCell(BeliefCell):
    """One fact cell: what `holder` thinks (along `chain`) of whether `fact` holds, at the end of `turn`."""

    fact: str
    """The column: the fact the belief is about."""
    value: bool | None
    """True: believed to hold; False: believed not to; None: no belief (don't know)."""
    right: bool | None
    """Whether `value` is the fact's truth; None when `value` is None."""
    source: str | None
    """How the belief formed (`initial`, `told`, `overheard`, `claimed`, `inferred`); None: no belief."""
    lie_by: str | None
    """Who lied, when the belief rests on a lie."""
    changed: bool
    """Whether `value` differs from the previous turn's (never at the first turn)."""
    probe_answer: str | None
    """The model's answer (yes, no, don't know) to the latest probe on this (holder, chain, fact)
    at or before `turn`."""
    formed: int | None = None
    """The turn the belief formed; None: no belief."""

    @property
    def answer(self) -> str:
        """The tracker's answer in a fact probe's words: yes, no, or don't know."""
        return FACT_ANSWERS[self.value]

    @property
    def probe_disagrees(self) -> bool:
        """Whether a probe asked this and the model's answer differs from the tracker's."""
        return self.probe_answer is not None and self.probe_answer != self.answer


Key = tuple[str, tuple[str, ...], str]
"""(holder, chain, object or fact)."""


def row_label(holder: str, chain: Sequence[str]) -> str:
    """A row's label: ("Priya", ("Reed", "Cole")) -> "Priya › Reed › Cole"."""
    return ROW_SEP.join((holder, *chain))


def chain_words(holder: str, chain: Sequence[str]) -> str:
    """The chain in words: "Priya thinks Reed thinks Cole thinks"."""
    return " ".join(f"{name} thinks" for name in (holder, *chain))


def _probe_answers(events: Iterable[Any]) -> list[tuple[int, Key, str, str]]:
    """Every probe as (turn, (holder, chain, object or fact), answer, kind), in log order; chains normalised."""
    found: list[tuple[int, Key, str, str]] = []
    for event in events:
        if isinstance(event, ProbeAnswered):
            chain = normalise_chain(event.ask, event.through)[1:]
            found.append((event.turn, (event.ask, chain, event.about), event.answer, event.kind))
    return found


class _Formed(TypedDict):
    """What an object cell and a fact cell say alike of a belief: how and when it formed, whether
    it changed since the turn before, and the latest probe answer on it."""

    source: str | None
    lie_by: str | None
    changed: bool
    probe_answer: str | None
    formed: int | None


def _formed(
    belief: Belief | FactBelief | None,
    key: Key,
    now: str | bool | None,
    before: Mapping[Key, str | bool | None] | None,
    probes: dict[Key, str],
) -> _Formed:
    """A cell's `_Formed` fields; `now` is its container or value, `before` the previous turn's
    (None at the first turn)."""
    return _Formed(
        source=None if belief is None else belief.source,
        lie_by=None if belief is None else belief.lie_by,
        changed=before is not None and key in before and before[key] != now,
        probe_answer=probes.get(key),
        formed=None if belief is None else belief.turn,
    )


def _cells(
    state: BeliefState, turn: int, before: dict[Key, str | None] | None, probes: dict[Key, str]
) -> list[MatrixCell]:
    """The object cells of one state; `before` is the previous turn's containers (None at the first turn)."""
    out = []
    for holder, chain in state.holder_chains():
        for obj in state.objects:
            belief = state.where(holder, obj, chain)
            container = None if belief is None else belief.container
            true = None if container is None else container == state.reality.get(obj)
            formed = _formed(belief, (holder, chain, obj), container, before, probes)
            out.append(
                MatrixCell(
                    turn=turn, holder=holder, chain=chain, object=obj, container=container, true=true, **formed
                )
            )  # fmt: skip
    return out


def _fact_cells(
    state: BeliefState, turn: int, before: dict[Key, bool | None] | None, probes: dict[Key, str]
) -> list[FactCell]:
    """The fact cells of one state; `before` is the previous turn's values (None at the first turn)."""
    out = []
    for holder, chain in state.holder_chains():
        for fact in state.facts:
            belief = state.fact_belief(holder, fact, chain)
            value = None if belief is None else belief.value
            right = None if belief is None else belief.right
            formed = _formed(belief, (holder, chain, fact), value, before, probes)
            out.append(
                FactCell(turn=turn, holder=holder, chain=chain, fact=fact, value=value, right=right, **formed)
            )  # fmt: skip
    return out


def _states(
    scenario: Scenario,
    events: Sequence[Any],
    turn: int | None,
    order: int | None,
    turns: Iterable[int] | None,
) -> Iterator[tuple[int, BeliefState, bool, dict[Key, str], dict[Key, str]]]:
    """(turn, state at its end, whether it is shown, object probe answers, fact probe answers so far),
    for each turn the matrix reads, in order."""
    from simstage.tom.timeline import BeliefTimeline

    timeline = BeliefTimeline(scenario, order=order).extend(events)
    shown = set(turns) if turns is not None else None if turn is None else {turn}
    if shown is None:
        # Every turn the log records (a played run records each one; a hostile log's
        # numbers can be huge, and between its events nothing changes).
        wanted = sorted({0, *(getattr(e, "turn", 0) for e in events)})
    else:  # each shown turn beside the turn before it (for `changed`)
        wanted = sorted({t for k in shown for t in (k - 1, k) if t >= 0})
    probes = _probe_answers(events)
    seen: dict[str, dict[Key, str]] = {"object": {}, "fact": {}}
    next_probe = 0
    for t in wanted:
        while next_probe < len(probes) and probes[next_probe][0] <= t:
            _, key, answer, kind = probes[next_probe]
            seen[kind][key] = answer
            next_probe += 1
        yield t, timeline.at(t), shown is None or t in shown, seen["object"], seen["fact"]


def belief_matrices(
    scenario: Scenario,
    events: Sequence[Any],
    turn: int | None = None,
    order: int | None = None,
    turns: Iterable[int] | None = None,
) -> tuple[list[MatrixCell], list[FactCell]]:
    """The object cells and the fact cells of the belief matrix, in one fold (see `belief_matrix`)."""
    cells: list[MatrixCell] = []
    facts: list[FactCell] = []
    before: dict[Key, str | None] | None = None
    values: dict[Key, bool | None] | None = None
    for t, state, shown, object_probes, fact_probes in _states(
        scenario, events, turn, order, turns
    ):
        now = _cells(state, t, before, object_probes)
        held = _fact_cells(state, t, values, fact_probes)
        before = {(c.holder, c.chain, c.object): c.container for c in now}
        values = {(c.holder, c.chain, c.fact): c.value for c in held}
        if shown:
            cells.extend(now)
            facts.extend(held)
    return cells, facts


def belief_matrix(
    scenario: Scenario,
    events: Sequence[Any],
    turn: int | None = None,
    order: int | None = None,
    turns: Iterable[int] | None = None,
) -> list[MatrixCell]:
    """The belief matrix's object cells, from the run's events.

    Args:
        scenario: the scene.
        events: the run's events, in order.
        turn: only the cells at the end of this turn; None: turn 0 and every turn an event
            has (in a played run, every turn from 0 to its last).
        order: deepest order (1: own beliefs; default: the scenario's `tom.order`, or its
            probes' when deeper, as the timeline keeps).
        turns: only these turns (the report's sampled turns: a log's turn numbers can be
            huge, so "every turn" is not always a list one can make); overrides `turn`.

    Returns:
        The cells, by turn, then holder in cast order, chain, object in world order
        (every (holder, chain, object) has a cell, with `container` None where no belief).

    Raises:
        ValueError: `order` outside 0..4.
    """
    return belief_matrices(scenario, events, turn, order, turns)[0]


def fact_matrix(
    scenario: Scenario,
    events: Sequence[Any],
    turn: int | None = None,
    order: int | None = None,
    turns: Iterable[int] | None = None,
) -> list[FactCell]:
    """The belief matrix's fact cells, by turn, holder, chain and fact in world order (arguments as
    `belief_matrix`'s; every (holder, chain, fact) has a cell, `value` None where no belief)."""
    return belief_matrices(scenario, events, turn, order, turns)[1]


def matrix_rows(cells: Iterable[MatrixCell | FactCell]) -> list[Row]:
    """The rows of some cells, in a stable order: holder in cast order, then chain by length, then cast order.

    The cast order is the order holders first appear in (as `belief_matrix` makes them).
    """
    cells = list(cells)
    rank: dict[str, int] = {}
    for cell in cells:
        rank.setdefault(cell.holder, len(rank))
    rows = {(cell.holder, cell.chain) for cell in cells}

    def key(row: Row) -> tuple[int, int, tuple[int, ...]]:
        holder, chain = row
        return (rank[holder], len(chain), tuple(rank.get(name, len(rank)) for name in chain))

    return sorted(rows, key=key)


def matrix_columns(cells: Iterable[MatrixCell]) -> list[str]:
    """The objects of some cells, in the order they first appear (the world's)."""
    return list(dict.fromkeys(cell.object for cell in cells))


def matrix_grid(cells: Iterable[MatrixCell], turn: int) -> dict[Row, dict[str, MatrixCell]]:
    """The cells of one turn by row, then by object."""
    grid: dict[Row, dict[str, MatrixCell]] = {}
    for cell in cells:
        if cell.turn == turn:
            grid.setdefault((cell.holder, cell.chain), {})[cell.object] = cell
    return grid


def csv_text(cells: Iterable[MatrixCell], facts: Iterable[FactCell] = ()) -> str:
    """The cells as long-form CSV (`CSV_COLUMNS`); chains joined by ">", empty for none.

    The object cells come first, then the fact cells (`value` true or false, empty for no belief).
    """
    import csv
    import io

    def flag(value: bool | None) -> str:
        return "" if value is None else str(value).lower()

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for c in cells:
        writer.writerow(
            [c.turn, c.holder, ">".join(c.chain), c.object, c.container or "", flag(c.true), c.source or "",
             c.lie_by or "", "", ""]
        )  # fmt: skip
    for f in facts:
        writer.writerow(
            [f.turn, f.holder, ">".join(f.chain), "", "", flag(f.right), f.source or "", f.lie_by or "", f.fact,
             flag(f.value)]
        )  # fmt: skip
    return buffer.getvalue()
