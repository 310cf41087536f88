"""Write belief graphs as GraphML, GEXF, JSON (networkx node-link), DOT or Mermaid.

DOT and Mermaid are written by hand (no pygraphviz); every attribute is a scalar.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import networkx as nx

FORMATS = ("graphml", "gexf", "json", "dot", "mermaid")
SUFFIX = {"graphml": ".graphml", "gexf": ".gexf", "json": ".json", "dot": ".dot", "mermaid": ".mmd"}


def recorded_turns(events: Iterable[Any]) -> list[int]:
    """Turn 0 and every turn an event has, in order: the turns `export --all-turns` writes.

    A played run records each turn from 0 to its last; between a log's events nothing
    changes, so a turn without one would only repeat the graph before it.
    """
    return sorted({0, *(getattr(event, "turn", 0) for event in events)})


def _dot_id(text: Any) -> str:
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def to_dot(graph: nx.MultiDiGraph) -> str:
    """Graphviz DOT text: nodes shaped by kind, false beliefs in red, lies dashed."""
    shapes = {"character": "ellipse", "object": "box", "container": "cylinder", "fact": "note"}
    lines = [f"digraph {_dot_id(graph.graph.get('title', 'beliefs'))} {{", "  rankdir=LR;"]
    for node, data in graph.nodes(data=True):
        attrs = {k: v for k, v in data.items()}
        attrs["shape"] = shapes.get(data.get("kind", ""), "ellipse")
        lines.append(f"  {_dot_id(node)} [{_dot_attrs(attrs)}];")
    for u, v, key, data in graph.edges(keys=True, data=True):
        attrs = dict(data)
        attrs["key"] = key
        believed = _believed(data)
        if believed is not None:
            value, right = believed
            label = data["chain"] + ":" if data["chain"] else ""
            attrs["label"] = f"{label}{value}"
            attrs["color"] = "black" if right else "red"
            if data.get("lie_by"):
                attrs["style"] = "dashed"
        lines.append(f"  {_dot_id(u)} -> {_dot_id(v)} [{_dot_attrs(attrs)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _believed(data: dict[str, Any]) -> tuple[str, bool] | None:
    """What a belief edge says and whether it is right (None: not a belief edge)."""
    if data.get("kind") == "belief":
        return data["container"] or "?", data["true"]
    if data.get("kind") == "fact_belief":
        return str(data["value"]).lower(), data["right"]
    return None


def _dot_attrs(attrs: dict[str, Any]) -> str:
    return ", ".join(
        f"{k}={_dot_id(str(v).lower() if isinstance(v, bool) else v)}" for k, v in attrs.items()
    )


def _mermaid_id(node: Any, ids: dict[Any, str]) -> str:
    if node not in ids:
        ids[node] = f"n{len(ids)}"
    return ids[node]


def _mermaid_text(text: Any) -> str:
    return str(text).replace('"', "#quot;").replace("|", "#124;")


def to_mermaid(graph: nx.MultiDiGraph) -> str:
    """Mermaid flowchart text; belief edges labelled "chain: container" (a fact's: "chain: true")."""
    ids: dict[Any, str] = {}
    lines = ["flowchart LR"]
    brackets = {
        "character": ('(["', '"])'),
        "object": ('["', '"]'),
        "container": ('[("', '")]'),
        "fact": ('{{"', '"}}'),
    }
    for node, data in graph.nodes(data=True):
        left, right = brackets.get(data.get("kind", ""), ('["', '"]'))
        lines.append(f"  {_mermaid_id(node, ids)}{left}{_mermaid_text(node)}{right}")
    for u, v, data in graph.edges(data=True):
        if data.get("kind") == "belief":
            label = (data["chain"] + ": " if data["chain"] else "") + (data["container"] or "?")
            if not data["true"]:
                label += " (false)"
        elif data.get("kind") == "fact_belief":
            label = (data["chain"] + ": " if data["chain"] else "") + str(data["value"]).lower()
            if not data["right"]:
                label += " (wrong)"
        else:
            label = data.get("kind", "")
        lines.append(f'  {_mermaid_id(u, ids)} -->|"{_mermaid_text(label)}"| {_mermaid_id(v, ids)}')
    return "\n".join(lines) + "\n"


def to_json(graph: nx.MultiDiGraph) -> str:
    """networkx node-link JSON."""
    import networkx as nx

    return json.dumps(nx.node_link_data(graph, edges="edges"), indent=1, sort_keys=True)


def render_graph(graph: nx.MultiDiGraph, fmt: str) -> str:
    """A belief graph as text in `fmt` (one of `FORMATS`).

    Raises:
        ValueError: unknown format.
    """
    import io

    import networkx as nx

    if fmt == "dot":
        return to_dot(graph)
    if fmt == "mermaid":
        return to_mermaid(graph)
    if fmt == "json":
        return to_json(graph)
    if fmt in ("graphml", "gexf"):
        buffer = io.BytesIO()
        writer = nx.write_graphml if fmt == "graphml" else nx.write_gexf
        writer(graph, buffer)
        return buffer.getvalue().decode("utf-8")
    raise ValueError(f"unknown format {fmt!r} (choose from {', '.join(FORMATS)})")
