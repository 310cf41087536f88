"""The belief graph as inline SVG: one layout for the whole run, one `<g>` of edges per turn.

Node positions come from networkx's spring layout with a fixed seed, over the
union of every turn's nodes and edges, so nodes stay put while the slider moves.
A belief is drawn from its holder to the container it puts the object in:
green when true, red when false, dashed for higher orders; the object's real
container is a grey dotted line.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape
from typing import Any

from simstage.scenario.models import Scenario

WIDTH, HEIGHT, MARGIN = 760, 520, 70
MAX_TURN_GROUPS = 200
"""Most turns drawn; longer runs are sampled evenly (the last turn always kept)."""
KIND_FILL = {"character": "#dbeafe", "object": "#fef3c7", "container": "#e5e7eb"}
TRUE_COLOUR, FALSE_COLOUR, REAL_COLOUR = "#15803d", "#dc2626", "#9ca3af"


def sampled_turns(last: int, limit: int = MAX_TURN_GROUPS) -> list[int]:
    """Turns 0..last, or `limit` of them spread evenly with the last kept."""
    if last + 1 <= limit:
        return list(range(last + 1))
    step = last / (limit - 1)
    return sorted({round(i * step) for i in range(limit - 1)} | {last})


def turn_graphs(scenario: Scenario, events: Sequence[Any], turns: Sequence[int]) -> dict[int, Any]:
    """The belief graph at the end of each of `turns`."""
    from simstage.tom.graph import belief_graph

    return {turn: belief_graph(scenario, events, turn) for turn in turns}


def layout(graphs: dict[int, Any]) -> dict[str, tuple[float, float]]:
    """Pixel positions of every node seen in any turn (spring layout, seed 7)."""
    import networkx as nx

    union = nx.Graph()
    for graph in graphs.values():
        for node, data in graph.nodes(data=True):
            union.add_node(node, kind=data.get("kind", ""))
        for source, _, data in graph.edges(data=True):
            target = data.get("container") or None
            if data.get("kind") == "located":
                target = None
            if target and target in graph:
                union.add_edge(source, target)
        for source, target, data in graph.edges(data=True):
            if data.get("kind") == "located":
                union.add_edge(source, target)
    if union.number_of_nodes() == 0:
        return {}
    if union.number_of_nodes() == 1:
        return {next(iter(union.nodes)): (WIDTH / 2, HEIGHT / 2)}
    raw = nx.spring_layout(
        union, seed=7, k=1.6 / math.sqrt(union.number_of_nodes()), iterations=200
    )
    xs = [p[0] for p in raw.values()]
    ys = [p[1] for p in raw.values()]
    span_x = (max(xs) - min(xs)) or 1.0
    span_y = (max(ys) - min(ys)) or 1.0
    return {
        str(node): (
            MARGIN + (float(p[0]) - min(xs)) / span_x * (WIDTH - 2 * MARGIN),
            MARGIN + (float(p[1]) - min(ys)) / span_y * (HEIGHT - 2 * MARGIN),
        )
        for node, p in raw.items()
    }


def _curve(
    a: tuple[float, float], b: tuple[float, float], bend: float
) -> tuple[str, tuple[float, float]]:
    """A quadratic path from a to b bent sideways by `bend` pixels, and its midpoint."""
    (x1, y1), (x2, y2) = a, b
    dx, dy = x2 - x1, y2 - y1
    length = math.hypot(dx, dy) or 1.0
    cx, cy = (x1 + x2) / 2 - dy / length * bend, (y1 + y2) / 2 + dx / length * bend
    mid = (0.25 * x1 + 0.5 * cx + 0.25 * x2, 0.25 * y1 + 0.5 * cy + 0.25 * y2)
    # Stop short of both node centres, so the arrowhead is not hidden under the target node.
    x1, y1 = _toward((x1, y1), (cx, cy), 22)
    x2, y2 = _toward((x2, y2), (cx, cy), 30)
    return f"M{x1:.1f},{y1:.1f} Q{cx:.1f},{cy:.1f} {x2:.1f},{y2:.1f}", mid


def _toward(a: tuple[float, float], b: tuple[float, float], step: float) -> tuple[float, float]:
    """The point `step` pixels from a toward b (a itself when they are closer than that)."""
    dx, dy = b[0] - a[0], b[1] - a[1]
    length = math.hypot(dx, dy)
    if length <= step:
        return a
    return a[0] + dx / length * step, a[1] + dy / length * step


def _edges_svg(graph: Any, pos: dict[str, tuple[float, float]]) -> list[str]:
    parts: list[str] = []
    seen: dict[tuple[str, str], int] = {}
    for source, target, data in sorted(
        graph.edges(data=True), key=lambda e: (str(e[0]), str(e[1]), str(e[2].get("chain", "")))
    ):
        kind = data.get("kind")
        end = str(target) if kind == "located" else str(data.get("container") or "")
        start = str(source)
        if start not in pos or end not in pos:
            continue
        index = seen.get((start, end), 0)
        seen[(start, end)] = index + 1
        bend = (index + 1) // 2 * 40 * (1 if index % 2 else -1) + (12 if kind == "belief" else 0)
        path, (mx, my) = _curve(pos[start], pos[end], bend)
        if kind == "located":
            parts.append(
                f'<path d="{path}" class="real" stroke="{REAL_COLOUR}" stroke-dasharray="2 4"/>'
            )
            continue
        true = bool(data.get("true"))
        colour = TRUE_COLOUR if true else FALSE_COLOUR
        chain = str(data.get("chain") or "")
        label = str(data.get("object", "")) + (
            f" (via {chain.replace('>', ', ')})" if chain else ""
        )
        dash = ' stroke-dasharray="7 4"' if chain else ""
        css = "belief true" if true else "belief false"
        title = (
            f"{data.get('holder', source)}{' thinks ' + chain.replace('>', ' thinks ') if chain else ''} thinks "
            f"the {data.get('object', '')} is in the {end} ({'true' if true else 'FALSE'})"
        )
        parts.append(
            f'<g class="{css}"><title>{escape(title)}</title>'
            f'<path d="{path}" stroke="{colour}"{dash} marker-end="url(#arrow-{"t" if true else "f"})"/>'
            f'<text x="{mx:.1f}" y="{my:.1f}" fill="{colour}">{escape(label)}</text></g>'
        )
    return parts


def belief_svg(graphs: dict[int, Any], pos: dict[str, tuple[float, float]], shown: int) -> str:
    """The SVG: static nodes, then one `<g class="turn" data-turn=N>` of edges per turn; `shown` is visible."""
    nodes: dict[str, str] = {}
    for graph in graphs.values():
        for node, data in graph.nodes(data=True):
            nodes.setdefault(str(node), str(data.get("kind", "")))
    out = [
        f'<svg id="beliefs" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" '
        'aria-label="belief graph">',
        "<defs>",
        *(
            f'<marker id="arrow-{key}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
            f'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="{colour}"/></marker>'
            for key, colour in (("t", TRUE_COLOUR), ("f", FALSE_COLOUR))
        ),
        "</defs>",
    ]
    for turn, graph in graphs.items():
        hidden = "" if turn == shown else ' style="display:none"'
        out.append(f'<g class="turn" data-turn="{turn}"{hidden}>')
        out.extend(_edges_svg(graph, pos))
        out.append("</g>")
    for name, kind in nodes.items():
        if name not in pos:
            continue
        x, y = pos[name]
        fill = KIND_FILL.get(kind, "#ffffff")
        shape = (
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="22" fill="{fill}" stroke="#374151"/>'
            if kind == "character"
            else f'<rect x="{x - 34:.1f}" y="{y - 14:.1f}" width="68" height="28" rx="{14 if kind == "object" else 3}" '
            f'fill="{fill}" stroke="#374151"/>'
        )
        out.append(
            f'<g class="node {escape(kind)}">{shape}<text x="{x:.1f}" y="{y + 4:.1f}" text-anchor="middle">'
            f"{escape(name[:18])}</text></g>"
        )
    out.append("</svg>")
    return "\n".join(out)
