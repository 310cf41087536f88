"""The belief matrix: rows holder › chain, columns objects, each cell the believed container.

A fold over the same `BeliefTimeline` the TUI and the engine keep (no second
tracker): for every turn, every (holder, chain, object) up to the order gets a
cell with the believed container, whether it matches the world at that turn,
how it was formed, who lied, whether it changed since the previous turn, and the
model's latest probe answer on the same question. The report, the TUI and
`simstage export --format csv` all read it; it imports nothing from Textual.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from simstage.events import ProbeAnswered
from simstage.scenario.models import Scenario
from simstage.tom.beliefs import BeliefState, normalise_chain

ROW_SEP = " › "
"""Between the names of a row's label: "Priya › Reed › Cole"."""
CSV_COLUMNS = ("turn", "holder", "chain", "object", "container", "true", "source", "lie_by")
"""The long-form columns of `simstage export --format csv`."""

Row = tuple[str, tuple[str, ...]]


@dataclass(frozen=True)
class MatrixCell:
    """One cell: where `holder` thinks (along `chain`) `object` is, at the end of `turn`."""

    turn: int
    """The turn the cell describes (the state at its end)."""
    holder: str
    """A, who holds the belief."""
    chain: tuple[str, ...]
    """The chain after the holder; () is the holder's own belief."""
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
    def order(self) -> int:
        """1 for the holder's own belief, 2 for "A thinks B thinks", and so on."""
        return len(self.chain) + 1

    @property
    def probe_disagrees(self) -> bool:
        """Whether a probe asked this and the model's answer differs from the tracker's container."""
        return self.probe_answer is not None and self.probe_answer != self.container


def row_label(holder: str, chain: Sequence[str]) -> str:
    """A row's label: ("Priya", ("Reed", "Cole")) -> "Priya › Reed › Cole"."""
    return ROW_SEP.join((holder, *chain))


def chain_words(holder: str, chain: Sequence[str]) -> str:
    """The chain in words: "Priya thinks Reed thinks Cole thinks"."""
    return " ".join(f"{name} thinks" for name in (holder, *chain))


def _probe_answers(events: Iterable[Any]) -> list[tuple[int, tuple[str, tuple[str, ...], str], str]]:
    """Every probe as (turn, (holder, chain, object), answer), in log order; chains normalised."""
    found = []
    for event in events:
        if isinstance(event, ProbeAnswered):
            chain = normalise_chain(event.ask, event.through)[1:]
            found.append((event.turn, (event.ask, chain, event.about), event.answer))
    return found


def _cells(
    state: BeliefState, turn: int, before: dict[tuple[str, tuple[str, ...], str], str | None] | None,
    probes: dict[tuple[str, tuple[str, ...], str], str],
) -> list[MatrixCell]:
    """The cells of one state; `before` is the previous turn's containers (None at the first turn)."""
    out = []
    for holder in state.characters:
        for chain in state.chains(holder):
            for obj in state.objects:
                belief = state.where(holder, obj, chain)
                container = None if belief is None else belief.container
                key = (holder, chain, obj)
                out.append(
                    MatrixCell(
                        turn=turn,
                        holder=holder,
                        chain=chain,
                        object=obj,
                        container=container,
                        true=None if container is None else container == state.reality.get(obj),
                        source=None if belief is None else belief.source,
                        lie_by=None if belief is None else belief.lie_by,
                        changed=before is not None and before.get(key) != container,
                        probe_answer=probes.get(key),
                        formed=None if belief is None else belief.turn,
                    )
                )
    return out


def belief_matrix(
    scenario: Scenario, events: Sequence[Any], turn: int | None = None, order: int | None = None,
    turns: Iterable[int] | None = None,
) -> list[MatrixCell]:
    """The belief matrix, from the run's events.

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
    seen: dict[tuple[str, tuple[str, ...], str], str] = {}
    before: dict[tuple[str, tuple[str, ...], str], str | None] | None = None
    out: list[MatrixCell] = []
    next_probe = 0
    for t in wanted:
        while next_probe < len(probes) and probes[next_probe][0] <= t:
            seen[probes[next_probe][1]] = probes[next_probe][2]
            next_probe += 1
        cells = _cells(timeline.at(t), t, before, seen)
        before = {(c.holder, c.chain, c.object): c.container for c in cells}
        if shown is None or t in shown:
            out.extend(cells)
    return out


def matrix_rows(cells: Iterable[MatrixCell]) -> list[Row]:
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


def csv_text(cells: Iterable[MatrixCell]) -> str:
    """The cells as long-form CSV (`CSV_COLUMNS`); chains joined by ">", empty for none."""
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for c in cells:
        true = "" if c.true is None else str(c.true).lower()
        writer.writerow(
            [c.turn, c.holder, ">".join(c.chain), c.object, c.container or "", true, c.source or "", c.lie_by or ""]
        )
    return buffer.getvalue()
