"""The report's fact views: each mind's belief about a fact, and who knows it, as data for the page.

A fact view draws the same tree of minds as an object view (`belief_view.view_layout`);
its last column holds, instead of the containers, three boxes (true, false, don't know)
that the deepest minds' arrows point at, and below them the cast, marked with who
really knows whether the fact holds and who the viewed holder thinks knows. Who
thinks who knows is computed by the page from the cells themselves, as the tracker
does (`FactLedger.thought_knowers`): a mind knows when it has a belief; it thinks
another knows when its model of that one has a belief that is not the opposite of
its own. So the page carries one cell per mind, fact and turn, as for objects.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from simstage.events import FACT_OPTIONS, WhoKnowsAnswered
from simstage.scenario.models import Scenario
from simstage.tom.beliefs import normalise_chain
from simstage.tom.matrix import FactCell
from simstage.world.actions import clause

FACT_SOURCES = ("initial", "told", "overheard", "claimed", "inferred")
TRUTH_BOXES = ("true", "false", "don't know")
"""The fact column's boxes, in the order a cell's value indexes them (-1: the last)."""
WHO_KNOWS = "who knows"


def _pack(cell: FactCell, names: dict[str, int]) -> list[int]:
    """A fact cell as six integers: value (1 true, 0 false, -1 none), source, formed turn, liar,
    probe answer (an index of `FACT_OPTIONS`, -1: none), changed."""
    return [
        -1 if cell.value is None else int(cell.value),
        FACT_SOURCES.index(cell.source) if cell.source in FACT_SOURCES else -1,
        -1 if cell.formed is None else cell.formed,
        names.get(cell.lie_by, -1) if cell.lie_by else -1,
        FACT_OPTIONS.index(cell.probe_answer) if cell.probe_answer in FACT_OPTIONS else -1,
        int(cell.changed),
    ]


def fact_data(
    scenario: Scenario, events: Sequence[Any], cells: Sequence[FactCell], row_of: dict[tuple[str, tuple[str, ...]], int],
    turns: Sequence[int], probed: dict[int, str],
) -> dict[str, Any]:  # fmt: skip
    """The facts' part of the page's data.

    Args:
        scenario: the scene.
        events: the run's events (for the who-knows probes).
        cells: the fact cells of `turns` (`simstage.tom.matrix.belief_matrices`).
        row_of: each (holder, chain) row's index.
        turns: the turns shown.
        probed: the longest probe answer of each row; fact probe answers are added to it.

    Returns:
        {"facts", "fact_text" (each sentence as it reads after "that"), "truth", "fsources",
         "fcells" ([turn][fact] → six ints per row),
         "who_probes" ([[turn, row (-1: the narrator), fact, [cast indices said]], ...])}.
    """
    facts = list(scenario.world.facts)
    names = {name: k for k, name in enumerate(scenario.cast_names)}
    wanted = {t: k for k, t in enumerate(turns)}
    packed: list[list[list[int]]] = [[[] for _ in facts] for _ in turns]
    for cell in cells:
        row = row_of[(cell.holder, cell.chain)]
        if cell.probe_answer and len(cell.probe_answer) > len(probed.get(row, "")):
            probed[row] = cell.probe_answer
        k = wanted.get(cell.turn)
        if k is not None:
            packed[k][facts.index(cell.fact)].extend(_pack(cell, names))
    who: list[list[Any]] = []
    for event in events:
        if not isinstance(event, WhoKnowsAnswered) or event.fact not in facts:
            continue
        asked = (
            None
            if event.ask is None
            else (event.ask, normalise_chain(event.ask, event.through)[1:])
        )
        seat = -1 if asked is None else row_of.get(asked)
        if seat is not None:
            said = [names[name] for name in event.said if name in names]
            who.append([event.turn, seat, facts.index(event.fact), said])
    return {
        "facts": facts, "fact_text": [clause(scenario.world.facts[f].text) for f in facts],
        "truth": [bool(scenario.world.facts[f].true) for f in facts], "fsources": list(FACT_SOURCES),
        "fcells": packed, "who_probes": who,
    }  # fmt: skip
