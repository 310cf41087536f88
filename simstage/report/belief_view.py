"""The report's belief graph and matrix: positions from a tree layout, beliefs per turn as data.

Who thinks about whom is a tree: a holder, the minds it models, the minds those
model, down to the order. Each view (a holder, or everyone, and an order) lays
that tree out with igraph's Reingold–Tilford layout, turned left to right, so
every mind gets its own row and every depth its own column; the containers,
grouped by room, are one more column. Labels sit inside their nodes, columns
are as wide as their longest label, and rows are taller than a label, so no two
labels can overlap whatever the turn or the object. The page's script draws the
chosen view's belief edges (the deepest minds to the container they believe
the object is in) for the chosen turn and object from the data built here, and
the matrix from the same cells (`simstage.tom.matrix`). A fact is drawn on the
same tree, its last column the fact's three answers and who knows it (`fact_view`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from html import escape
from importlib import resources
from typing import Any

from simstage.report.fact_view import TRUTH_BOXES, WHO_KNOWS, fact_data
from simstage.scenario.models import Scenario
from simstage.tom.matrix import MatrixCell, belief_matrices, matrix_rows, row_label

MAX_TURNS = 200
"""Most turns carried; longer runs are sampled evenly (the last turn always kept)."""
MAX_ROWS = 5_000
"""Most belief chains (the matrix's holder › chain rows) a page carries. They grow with the cube
of the cast at order 3 (64 characters: 258,112), so a large cast is shown to a shallower order."""
MAX_CELLS = 100_000
"""Most belief cells (rows × (objects + facts) × turns) a page carries, about 1.5 MB of its data."""
MIN_TURNS = 12
"""Fewest turns the slider keeps before the page shows a shallower order instead."""
MAX_DRAWN = 1_500
"""Most minds one view's graph draws; a larger view (everyone, deep) has only its matrix."""
ROW_H, NODE_H, COL_GAP, MARGIN = 30, 22, 96, 12
CHAR_W, PAD_W = 7.4, 18
"""A generous width per character of a 12px label, and the padding around it."""
SOURCES = ("initial", "witnessed", "told", "claimed", "inferred")
TRUE_COLOUR, FALSE_COLOUR = "#15803d", "#dc2626"


def sampled_turns(last: int, limit: int = MAX_TURNS) -> list[int]:
    """Turns 0..last, or `limit` of them spread evenly with the last kept."""
    if last + 1 <= limit:
        return list(range(last + 1))
    step = last / (limit - 1)
    return sorted({round(i * step) for i in range(limit - 1)} | {last})


def chain_count(characters: int, order: int) -> int:
    """Rows of the belief matrix: every holder's chains up to `order` (no name twice in a row)."""
    return characters * sum((characters - 1) ** depth for depth in range(order))


def page_extent(
    characters: int, objects: int, order: int, last: int
) -> tuple[int, list[int], str | None]:
    """What a page of the run can carry: the order shown, the turns shown, and a note when the order is cut.

    The run's order is kept when its chains fit (`MAX_ROWS`) and their cells fit (`MAX_CELLS`)
    over the run's sampled turns, or over fewer of them but at least `MIN_TURNS`; otherwise
    the next order down is tried. Order 1 is always shown.

    Args:
        characters: the cast's size.
        objects: how many objects and facts the world has (each is a column of cells).
        order: the deepest order the run tracks.
        last: the run's last turn.
    """
    every = sampled_turns(last)
    per_row = max(1, objects)
    shown, turns = 1, every
    for depth in range(order, 0, -1):
        rows = chain_count(characters, depth)
        fit = MAX_CELLS // max(1, rows * per_row)
        if depth > 1 and (rows > MAX_ROWS or fit < min(MIN_TURNS, len(every))):
            continue
        shown, turns = depth, every if fit >= len(every) else sampled_turns(last, max(2, fit))
        break
    if shown == order:
        return shown, turns, None
    note = (
        f"Beliefs are shown to order {shown} of {order}: {characters} characters hold "
        f"{chain_count(characters, order):,} chains of beliefs up to order {order}, more than a page "
        f"carries (at most {MAX_ROWS:,} chains and {MAX_CELLS:,} cells). "
        "`simstage export RUN.jsonl --format csv` lists every one."
    )
    return shown, turns, note


def label_width(text: str) -> float:
    """The width of a node that holds `text` as its label."""
    return round(len(text) * CHAR_W + PAD_W, 1)


def _tree(rows: Sequence[tuple[str, tuple[str, ...]]], holder: str | None, order: int) -> list[int]:
    """Indices of the rows in the view's tree: `holder`'s (or every holder's) chains shorter than `order`."""
    return [
        i
        for i, (h, chain) in enumerate(rows)
        if (holder is None or h == holder) and len(chain) < order
    ]


def view_layout(
    rows: Sequence[tuple[str, tuple[str, ...]]],
    containers: Sequence[tuple[str, str]],
    holder: str | None,
    order: int,
    labels: dict[int, str],
) -> dict[str, Any]:
    """One view's positions: mind nodes (rows of the matrix) and container nodes, in pixels.

    Args:
        rows: every (holder, chain) of the matrix, in `matrix_rows` order.
        containers: (container, room) pairs, room by room.
        holder: the holder shown, or None for everyone.
        order: the deepest order shown: its minds are the leaves, whose beliefs are drawn.
        labels: the longest label each row's node can show as a leaf (its name, and a probe answer).

    Returns:
        {"minds": [[row, x, y, w], ...], "links": [[parent row, row], ...],
         "boxes": [[x, y, w] per container], "rooms": [[room, x, y], ...], "width", "height",
         "col": the last column's x, "tree": the tree's height}.
    """
    import igraph

    members = _tree(rows, holder, order)
    index = {rows[i]: n for n, i in enumerate(members)}
    graph = igraph.Graph(n=len(members) + 1, directed=True)
    links, edges = [], []
    for n, i in enumerate(members):
        h, chain = rows[i]
        parent = index.get((h, chain[:-1])) if chain else None
        edges.append((len(members) if parent is None else parent, n))
        if parent is not None:
            links.append([members[parent], i])
    graph.add_edges(edges)
    coords = graph.layout_reingold_tilford(root=[len(members)], mode="out").coords[:-1]
    top = min((c[0] for c in coords), default=0.0)
    depth_w: dict[int, float] = {}
    for i in members:
        depth = len(rows[i][1])
        name = rows[i][1][-1] if rows[i][1] else rows[i][0]
        # Only the view's leaves (its deepest minds) show a probe answer beside their name.
        depth_w[depth] = max(
            depth_w.get(depth, 0.0),
            label_width(labels.get(i, name) if depth == order - 1 else name),
        )
    x_of, x = {}, float(MARGIN)
    for depth in sorted(depth_w):
        x_of[depth] = x
        x += depth_w[depth] + COL_GAP
    minds = []
    for n, i in enumerate(members):
        depth = len(rows[i][1])
        minds.append(
            [i, x_of[depth], round(MARGIN + (coords[n][0] - top) * ROW_H, 1), depth_w[depth]]
        )
    tree_h = (max((c[0] for c in coords), default=0.0) - top + 1) * ROW_H
    slots: list[tuple[str, str]] = []
    room = None
    for name, where in containers:
        if where != room:
            slots.append(("room", where))
            room = where
        slots.append(("box", name))
    step = max(float(ROW_H), tree_h / max(1, len(slots)))
    box_w = max((label_width(name) for name, _ in containers), default=60.0)
    boxes: list[list[float]] = []
    rooms: list[list[Any]] = []
    for k, (kind, name) in enumerate(slots):
        y = round(MARGIN + k * step, 1)
        if kind == "room":
            rooms.append([name, x, y])
        else:
            boxes.append([x, y, box_w])
    height = MARGIN * 2 + max(tree_h, len(slots) * step)
    return {
        "minds": minds,
        "links": links,
        "boxes": boxes,
        "rooms": rooms,
        "width": round(x + box_w + MARGIN, 1),
        "height": round(height, 1),
        "col": x,
        "tree": tree_h,
    }


def fact_column(view: dict[str, Any], facts: Sequence[str], cast: Sequence[str]) -> dict[str, Any]:
    """A view's last column in its fact views: the fact's name, its three boxes, then the cast.

    Args:
        view: the view's layout (`view_layout`: `col`, the column's x, and `tree`, the tree's height).
        facts: the facts' names (the heading shows the chosen one; the column fits the longest).
        cast: the cast, whose boxes mark who knows.

    Returns:
        {"heads": [[x, y] fact name, [x, y] "who knows"], "boxes": [[x, y, w] per `TRUTH_BOXES`],
         "names": [[x, y, w] per cast member], "width", "height"}.
    """
    slots = [True, *(False for _ in TRUTH_BOXES), True, *(False for _ in cast)]  # True: a heading
    step = max(float(ROW_H), view["tree"] / len(slots))
    width = max(
        label_width(text) for text in [*TRUTH_BOXES, *facts, WHO_KNOWS, *(f"✓ {n}" for n in cast)]
    )
    x = view["col"]
    heads: list[list[float]] = []
    boxes: list[list[float]] = []
    for k, heading in enumerate(slots):
        y = round(MARGIN + k * step, 1)
        if heading:
            heads.append([x, y])
        else:
            boxes.append([x, y, width])
    return {
        "heads": heads, "boxes": boxes[: len(TRUTH_BOXES)], "names": boxes[len(TRUTH_BOXES) :],
        "width": round(x + width + MARGIN, 1), "height": round(MARGIN * 2 + max(view["tree"], len(slots) * step), 1),
    }  # fmt: skip


def _pack(cell: MatrixCell, names: dict[str, int], where: dict[str, int]) -> list[int]:
    """A cell as six integers: container, source, formed turn, liar, probe answer (-1: none), changed."""
    return [
        where.get(cell.container, -1) if cell.container else -1,
        SOURCES.index(cell.source) if cell.source in SOURCES else -1,
        -1 if cell.formed is None else cell.formed,
        names.get(cell.lie_by, -1) if cell.lie_by else -1,
        where.get(cell.probe_answer, -1) if cell.probe_answer else -1,
        int(cell.changed),
    ]


def belief_data(
    scenario: Scenario, events: Sequence[Any], turns: Sequence[int], order: int | None = None
) -> dict[str, Any]:
    """Everything the page's script draws from: the cast, the views' layouts, and the cells of `turns`.

    `order` is the deepest order shown (default: the run's, `probe_order`; see `page_extent`).
    A view of more than `MAX_DRAWN` minds gets `{"too_many": minds}` instead of a layout; with
    facts, each view's layout has a `fact` column too (`fact_column`).
    """
    from simstage.tom.timeline import probe_order
    from simstage.world.state import WorldState

    order = max(1, probe_order(scenario) if order is None else order)
    cells, fact_cells = belief_matrices(scenario, events, order=order, turns=turns)
    rows = matrix_rows(cells or fact_cells)
    row_of = {row: i for i, row in enumerate(rows)}
    world = WorldState.initial(scenario)
    rooms = {room: k for k, room in enumerate(world.locations)}
    containers = sorted(
        world.container_location.items(), key=lambda item: rooms.get(item[1], len(rooms))
    )
    where = {name: k for k, (name, _) in enumerate(containers)}
    cast = list(scenario.cast_names)
    names = {name: k for k, name in enumerate(cast)}
    objects = list(scenario.world.objects)
    wanted = {t: k for k, t in enumerate(turns)}
    packed: list[list[list[int]]] = [[[] for _ in objects] for _ in turns]
    probed: dict[int, str] = {}
    """The longest probe answer of each row that was asked about."""
    for cell in cells:
        k = wanted.get(cell.turn)
        row = row_of[(cell.holder, cell.chain)]
        if cell.probe_answer and len(cell.probe_answer) > len(probed.get(row, "")):
            probed[row] = cell.probe_answer
        if k is not None:
            packed[k][objects.index(cell.object)].extend(_pack(cell, names, where))
    timeline_reality = _reality(scenario, events, turns, objects, where)
    facts = fact_data(scenario, events, fact_cells, row_of, turns, probed)
    labels = {}
    for i, (name, chain) in enumerate(rows):
        labels[i] = (chain[-1] if chain else name) + (
            f" · model: {probed[i]} ✓" if i in probed else ""
        )
    views = {}
    for holder in [None, *cast]:
        for k in range(1, order + 1):
            minds = len(_tree(rows, holder, k))
            view: dict[str, Any] = {"too_many": minds}
            if minds <= MAX_DRAWN:
                view = view_layout(rows, containers, holder, k, labels)
            if facts["facts"] and minds <= MAX_DRAWN:
                view["fact"] = fact_column(view, facts["facts"], cast)
            views[f"{holder or ''}|{k}"] = view
    return {
        "cast": cast,
        "objects": objects,
        "containers": [list(c) for c in containers],
        "order": order,
        "plural": [bool(scenario.world.objects[o].plural) for o in objects],
        "rows": [[holder, list(chain), row_label(holder, chain)] for holder, chain in rows],
        "sources": list(SOURCES),
        "turns": list(turns),
        "cells": packed,
        "reality": timeline_reality,
        "views": views,
        **facts,
    }


def _reality(
    scenario: Scenario,
    events: Sequence[Any],
    turns: Sequence[int],
    objects: list[str],
    where: dict[str, int],
) -> list[list[int]]:
    """Where each object really is at the end of each of `turns`, as container indices."""
    from simstage.world.state import WorldState

    world = WorldState.initial(scenario)
    out, pending = [], list(turns)
    for event in [*events, None]:
        turn = None if event is None else getattr(event, "turn", None)
        while pending and (event is None or (isinstance(turn, int) and turn > pending[0])):
            out.append([where.get(world.object_container.get(obj, ""), -1) for obj in objects])
            pending.pop(0)
        if event is not None and getattr(event, "type", "") != "run_ended":
            world.apply(event)
    return out


def belief_section(
    scenario: Scenario, events: Sequence[Any], turns: Sequence[int], order: int | None = None
) -> str:
    """The Beliefs section: controls, the graph's SVG, the edge panel, the matrix, and their data."""
    data = belief_data(scenario, events, turns, order)
    blob = json.dumps(data, separators=(",", ":"), ensure_ascii=False).replace("<", "\\u003c")
    objects = "".join(
        f'<option value="{k}">{escape(o)}</option>' for k, o in enumerate(data["objects"])
    )
    if data["facts"]:
        facts = "".join(
            f'<option value="f{k}">{escape(f)}</option>' for k, f in enumerate(data["facts"])
        )
        objects = f'<optgroup label="objects">{objects}</optgroup><optgroup label="facts">{facts}</optgroup>'
        if not data["objects"]:
            objects = f'<optgroup label="facts">{facts}</optgroup>'

    holders = '<option value="">everyone</option>' + "".join(
        f'<option value="{escape(name)}">{escape(name)}</option>' for name in data["cast"]
    )
    orders = "".join(f'<option value="{k}">{k}</option>' for k in range(1, data["order"] + 1))
    return f"""<section class="beliefs"><h2>Beliefs</h2>
<div class="controls"><label>Turn <input type="range" id="turn" min="0" max="{len(turns) - 1}" value="{len(turns) - 1}" step="1"></label>
<span id="turnlabel">turn {turns[-1]}</span>
<label>{"object or fact" if data["facts"] else "object"} <select id="object">{objects}</select></label>
<label>holder <select id="holder">{holders}</select></label>
<label>order <select id="order">{orders}</select></label></div>
<p class="legend"><span style="color:{TRUE_COLOUR}">&#8594; true belief</span><span style="color:{FALSE_COLOUR}">&#8594; false belief</span>
<span>- - - from a lie</span><span class="real-key">where it really is{" (a fact: the truth, who really knows)" if data["facts"] else ""}</span><span class="changed-key">changed this turn</span><span>&#8800; the model answered otherwise</span></p>
<p id="question" class="meta"></p>
<div class="beliefcols"><div class="graphbox"><svg id="beliefs" role="img" aria-label="belief graph"></svg></div>
<div class="side"><div id="edgeinfo" class="meta">Hover or click an arrow for its chain.</div><div id="whoknows"></div><div id="matrix"></div></div></div>
<script type="application/json" id="belief-data">{blob}</script>
</section>"""


def belief_script() -> str:
    """The page's script that draws the graph and the matrix (simstage/report/beliefs.js)."""
    return resources.files("simstage.report").joinpath("beliefs.js").read_text(encoding="utf-8")
