"""Puppeteer and metric events over turns as small inline SVG line charts.

Whatever numeric fields `turn_metrics` (and the optimizer's `candidate_chosen`)
events carry are charted, so metrics added later show up without changes here;
runs without such events get no charts.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape
from typing import Any

W, H, PAD = 300, 110, 26
SERIES_EVENTS = ("turn_metrics", "candidate_chosen")
MAX_SERIES = 24
MAX_POINTS = 2000


def _numeric(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def metric_series(events: Sequence[Any]) -> dict[str, list[tuple[int, float, str]]]:
    """Per metric name, its (turn, value, speaker) points, in event order.

    Names are the event's field (`persona_fit`), a dict field's key (`rewards.goal`),
    prefixed with `optimizer ` for the optimizer's events; booleans count as 0/1 (`flip`).
    """
    series: dict[str, list[tuple[int, float, str]]] = {}
    for event in events:
        kind = getattr(event, "type", None)
        if kind not in SERIES_EVENTS:
            continue
        data = event.model_dump() if hasattr(event, "model_dump") else {}
        speaker = str(data.get("speaker", ""))
        turn = int(data.get("turn", 0))
        prefix = "optimizer " if kind == "candidate_chosen" else ""
        for key, value in data.items():
            if key in ("turn", "type", "index"):
                continue
            if isinstance(value, dict):
                items = [(f"{key}.{k}", v) for k, v in value.items()]
            elif isinstance(value, bool):
                items = [(key, float(value))]
            else:
                items = [(key, value)]
            for name, raw in items:
                number = _numeric(raw)
                if number is None:
                    continue
                points = series.setdefault(prefix + name, [])
                if len(points) < MAX_POINTS:
                    points.append((turn, number, speaker))
        if len(series) > MAX_SERIES:
            break
    return dict(list(series.items())[:MAX_SERIES])


def line_chart(name: str, points: Sequence[tuple[int, float, str]], colours: dict[str, str]) -> str:
    """One small chart: a grey line through the points, each dot in its speaker's colour."""
    turns = [p[0] for p in points]
    values = [p[1] for p in points]
    t0, t1 = min(turns), max(turns)
    v0, v1 = min(values), max(values)
    if v0 == v1:
        v0, v1 = v0 - 1, v1 + 1
    span_t = (t1 - t0) or 1

    def xy(turn: int, value: float) -> tuple[float, float]:
        return (
            PAD + (turn - t0) / span_t * (W - 2 * PAD),
            H - PAD + 8 - (value - v0) / (v1 - v0) * (H - PAD - 8 - 12),
        )

    coords = [xy(t, v) for t, v, _ in points]
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    dots = "".join(
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colours.get(who, "#6b7280")}">'
        f"<title>turn {t}{' · ' + escape(who) if who else ''}: {v:.3g}</title></circle>"
        for (x, y), (t, v, who) in zip(coords, points, strict=True)
    )
    return (
        f'<figure class="chart"><svg viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img" '
        f'aria-label="{escape(name)}">'
        f'<line x1="{PAD}" y1="{H - PAD + 8}" x2="{W - PAD}" y2="{H - PAD + 8}" stroke="#d1d5db"/>'
        f'<polyline points="{line}" fill="none" stroke="#9ca3af"/>{dots}'
        f'<text x="{PAD}" y="{H - 4}" class="axis">turn {t0}</text>'
        f'<text x="{W - PAD}" y="{H - 4}" class="axis" text-anchor="end">turn {t1}</text>'
        f'<text x="2" y="12" class="axis">{v1:.3g}</text><text x="2" y="{H - PAD + 8}" class="axis">{v0:.3g}</text>'
        f"</svg><figcaption>{escape(name)}</figcaption></figure>"
    )


def metric_charts(events: Sequence[Any], colours: dict[str, str]) -> str:
    """Every metric series as a chart, or "" when the run recorded none."""
    series = metric_series(events)
    return "".join(line_chart(name, points, colours) for name, points in series.items() if points)
