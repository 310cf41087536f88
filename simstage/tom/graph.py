"""The BeliefGraph: a run's beliefs at one turn as a networkx multigraph.

Nodes are characters, objects, containers and facts (attribute `kind`). Each belief
is an edge from its holder to the object, carrying the chain ("B>C"), the
believed container, source, turn formed, truth, who lied (if anyone) and the
model's probed answer for the same question (if it was asked). The object's
real container is a `located` edge from the object to the container. A fact node
holds its sentence, whether it holds and who really knows it (`known_by`, names
joined by ","); each belief about it is a `fact_belief` edge from its holder to the
fact, with the believed `value`, whether it is `right`, and the rest as a belief's
(a holder with no belief about it has no edge: "don't know"). Every attribute is a
GraphML-safe scalar (str, int, bool).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from simstage.events import ProbeAnswered
from simstage.scenario.models import Scenario
from simstage.tom.facts import FactBelief
from simstage.tom.tracker import Belief, fold_beliefs

if TYPE_CHECKING:
    import networkx as nx

CHAIN_SEP = ">"


def chain_text(chain: Sequence[str]) -> str:
    """A chain as one string: ("B", "C") -> "B>C"; () -> ""."""
    return CHAIN_SEP.join(chain)


def _probes(events: Iterable[Any], turn: int | None) -> dict[tuple[str, str, str], ProbeAnswered]:
    """The latest probe answer per (holder, chain, object or fact), up to `turn` (a fact's name
    is never an object's)."""
    found: dict[tuple[str, str, str], ProbeAnswered] = {}
    for event in events:
        if isinstance(event, ProbeAnswered) and (turn is None or event.turn <= turn):
            found[(event.ask, chain_text(event.through), event.about)] = event
    return found


def belief_graph(
    scenario: Scenario, events: Sequence[Any], turn: int | None = None, *, order: int | None = None
) -> nx.MultiDiGraph:
    """The beliefs after `turn` (default: the end of the run) as a graph.

    Args:
        scenario: the scene.
        events: the run's events.
        turn: the last turn folded.
        order: deepest belief order (default: the scenario's `tom.order`).

    Returns:
        A `MultiDiGraph`; edges of kind `belief` hold the beliefs about objects (key:
        "holder|chain|object"), edges of kind `fact_belief` those about facts ("holder|chain|fact").
    """
    import networkx as nx

    state = fold_beliefs(scenario, events, order=order, upto_turn=turn)
    graph = nx.MultiDiGraph(title=scenario.title, turn=state.turn, order=state.order)
    for name in state.characters:
        graph.add_node(name, kind="character", label=name)
    for container, config in scenario.world.containers.items():  # containers never move
        graph.add_node(container, kind="container", label=container, location=config.in_)
    for obj in state.objects:
        graph.add_node(obj, kind="object", label=obj)
        graph.add_edge(
            obj, state.reality[obj], key=f"located|{obj}", kind="located", turn=state.turn
        )
    for fact in state.facts:
        text = scenario.world.facts[fact].text
        graph.add_node(
            fact, kind="fact", label=fact, text=text, holds=state.fact_truth[fact],
            known_by=",".join(state.who_knows(fact)),
        )  # fmt: skip
    probes = _probes(events, turn)
    for belief in state.beliefs():
        _add_belief(graph, belief, probes)
    for fact_belief in state.fact_beliefs():
        _add_fact_belief(graph, fact_belief, probes)
    return graph


def _add_belief(
    graph: nx.MultiDiGraph, belief: Belief, probes: dict[tuple[str, str, str], ProbeAnswered]
) -> None:
    chain = chain_text(belief.chain)
    attrs: dict[str, Any] = {
        "kind": "belief",
        "holder": belief.holder,
        "chain": chain,
        "order": belief.order,
        "object": belief.object,
        "container": belief.container or "",
        "source": belief.source,
        "turn": belief.turn,
        "true": belief.true,
        "lie_by": belief.lie_by or "",
    }
    probe = probes.get((belief.holder, chain, belief.object))
    attrs["probed"] = probe.answer if probe is not None else ""
    attrs["probe_turn"] = probe.turn if probe is not None else -1
    graph.add_edge(
        belief.holder, belief.object, key=f"{belief.holder}|{chain}|{belief.object}", **attrs
    )


def _add_fact_belief(
    graph: nx.MultiDiGraph, belief: FactBelief, probes: dict[tuple[str, str, str], ProbeAnswered]
) -> None:
    chain = chain_text(belief.chain)
    probe = probes.get((belief.holder, chain, belief.fact))
    graph.add_edge(
        belief.holder, belief.fact, key=f"{belief.holder}|{chain}|{belief.fact}", kind="fact_belief",
        holder=belief.holder, chain=chain, order=belief.order, fact=belief.fact, value=belief.value,
        source=belief.source, turn=belief.turn, right=belief.right, lie_by=belief.lie_by or "",
        probed=probe.answer if probe is not None else "", probe_turn=probe.turn if probe is not None else -1,
    )  # fmt: skip


def belief_edges(graph: nx.MultiDiGraph) -> dict[str, dict[str, Any]]:
    """The belief edges about objects of a graph by key."""
    return {
        key: data
        for _, _, key, data in graph.edges(keys=True, data=True)
        if data.get("kind") == "belief"
    }


def fact_edges(graph: nx.MultiDiGraph) -> dict[str, dict[str, Any]]:
    """The belief edges about facts of a graph by key."""
    return {
        key: data
        for _, _, key, data in graph.edges(keys=True, data=True)
        if data.get("kind") == "fact_belief"
    }


@dataclass(frozen=True)
class BeliefChange:
    """A belief that appeared, disappeared or changed between two turns."""

    key: str
    """holder|chain|object, or holder|chain|fact."""
    before: str | None
    """The believed container before (None: no belief; "" : knows only where it is not); for a
    fact, "true" or "false"."""
    after: str | None
    """The believed container (or a fact's value) after."""


def graph_diff(before: nx.MultiDiGraph, after: nx.MultiDiGraph) -> list[BeliefChange]:
    """Beliefs whose container (or a fact's value) differs between two belief graphs, sorted by key."""
    old, new = belief_edges(before), belief_edges(after)
    for graph, into in ((before, old), (after, new)):
        for key, data in fact_edges(graph).items():
            into[key] = {"container": str(data["value"]).lower()}
    changes = []
    for key in sorted(set(old) | set(new)):
        a = old[key]["container"] if key in old else None
        b = new[key]["container"] if key in new else None
        if a != b:
            changes.append(BeliefChange(key, a, b))
    return changes


def belief_diff(
    scenario: Scenario, events: Sequence[Any], turn_a: int, turn_b: int
) -> list[BeliefChange]:
    """What changed in the beliefs from the end of `turn_a` to the end of `turn_b`."""
    return graph_diff(
        belief_graph(scenario, events, turn_a), belief_graph(scenario, events, turn_b)
    )
