"""The main metrics of a sweep per variant (mean ± standard deviation over seeds): a PNG and a terminal chart.

matplotlib and plotext are imported only here, when a plot is asked for.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from statistics import fmean, pstdev
from typing import Any

from simstage.sweep.plan import SweepError, SweepPlan, value_text

PLOT_FILE = "plot.png"
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
INSTALL_HINT = "plotting needs matplotlib and plotext: pip install 'simstage[sweep]'"

MAIN_METRICS = (
    ("tom_accuracy", "ToM accuracy (all probes)"),
    ("tom_false_belief", "ToM accuracy (false-belief probes)"),
    ("voice_collapse", "voice collapse"),
    ("reward_gain", "optimizer reward gain"),
)


@dataclass(frozen=True)
class Point:
    """One variant's values of one metric over its seeds."""

    variant: str
    mean: float
    spread: float
    """Population standard deviation over seeds (0 with one seed)."""
    n: int


@dataclass(frozen=True)
class Panel:
    """One metric across variants."""

    column: str
    title: str
    points: list[Point]


def require_plotting() -> None:
    """Fail early when the plotting libraries are missing.

    Raises:
        SweepError: matplotlib or plotext cannot be imported.
    """
    try:
        import matplotlib  # noqa: F401
        import plotext  # noqa: F401
    except ImportError:
        raise SweepError(INSTALL_HINT) from None


def _varied(plan: SweepPlan) -> set[str]:
    """Keys with more than one value (a key set to one value names no difference between variants)."""
    return {setting.key for setting in plan.sets if len(setting.values) > 1}


def _short_label(plan: SweepPlan, settings: tuple[tuple[str, Any], ...]) -> str:
    """A variant by its values alone (the keys go in the axis title)."""
    varied = _varied(plan)
    return " / ".join(value_text(value) for key, value in settings if key in varied) or "as written"


def panels(plan: SweepPlan, rows: dict[str, dict[str, Any]]) -> list[Panel]:
    """The main metrics, one panel each, for those present in at least one row."""
    rewards = sorted({name for row in rows.values() for name in row.get("rewards") or {}})
    wanted = list(MAIN_METRICS) + [
        (f"reward.{name}", f"reward {name} (mean per run)") for name in rewards
    ]
    result = []
    for column, title in wanted:
        points = []
        for variant in plan.variants:
            values = []
            for run in plan.runs:
                row = rows.get(run.run_id)
                if run.variant is not variant or row is None:
                    continue
                value = (
                    (row.get("rewards") or {}).get(column[7:])
                    if column.startswith("reward.")
                    else row.get(column)
                )
                if isinstance(value, int | float) and not isinstance(value, bool):
                    values.append(float(value))
            if values:
                points.append(
                    Point(
                        _short_label(plan, variant.settings),
                        fmean(values),
                        pstdev(values),
                        len(values),
                    )
                )
        if points:
            result.append(Panel(column, title, points))
    return result


def axis_title(plan: SweepPlan) -> str:
    """What the variant labels list (`puppeteer.kind / stage.temperature`)."""
    varied = _varied(plan)
    return " / ".join(key for key in plan.keys if key in varied) or "variant"


def write_png(path: Path, plan: SweepPlan, charts: list[Panel]) -> Path:
    """Draw every panel as bars with error bars into one PNG (written atomically)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    width = max(6.0, 1.0 + 0.9 * max(len(p.points) for p in charts))
    figure, axes = plt.subplots(len(charts), 1, figsize=(width, 2.8 * len(charts)), squeeze=False)
    for axis, panel in zip(axes[:, 0], charts, strict=True):
        labels = [point.variant for point in panel.points]
        means = [point.mean for point in panel.points]
        spreads = [point.spread for point in panel.points]
        axis.bar(range(len(labels)), means, yerr=spreads, capsize=4, color="#4c78a8")
        axis.set_xticks(
            range(len(labels)),
            labels,
            rotation=20 if len(labels) > 4 else 0,
            ha="right" if len(labels) > 4 else "center",
        )
        axis.set_title(f"{panel.title} — mean ± sd over seeds", fontsize=10)
        axis.set_xlabel(axis_title(plan), fontsize=8)
        if panel.column.startswith("tom_") or panel.column == "voice_collapse":
            axis.set_ylim(0, 1.05)
    figure.suptitle(
        f"sweep of {Path(plan.scenario_path).name}: {len(plan.seeds)} seeds per variant",
        fontsize=11,
    )
    figure.tight_layout()
    temporary = path.with_name(f".{path.name}.tmp.png")
    figure.savefig(temporary, dpi=110)
    plt.close(figure)
    os.replace(temporary, path)
    return path


def _limits(panel: Panel) -> tuple[float, float]:
    if panel.column.startswith("tom_") or panel.column == "voice_collapse":
        return 0.0, 1.0
    low = min(0.0, *(p.mean - p.spread for p in panel.points))
    high = max(0.0, *(p.mean + p.spread for p in panel.points))
    return low, high if high > low else low + 1.0


def terminal_charts(
    plan: SweepPlan, charts: list[Panel], width: int, *, color: bool = False
) -> str:
    """Every panel as a horizontal bar chart for the terminal (plotext), one after another."""
    import plotext as plt

    texts = [f"per {axis_title(plan)}: mean ± sd over seeds, n runs"]
    for panel in charts:
        # Listed top to bottom in plan order (plotext draws the first bar at the bottom).
        points = panel.points[::-1]
        labels = [f"{p.variant} ({p.mean:.2f}±{p.spread:.2f}, n={p.n})" for p in points]
        means = [p.mean for p in points]
        # plotext leaves out a title wider than the plot.
        title = panel.title[: max(10, width - 4)]
        size = (max(40, width), 5 + 2 * len(points))
        low, high = _limits(panel)
        if hasattr(plt, "clear_figure"):  # plotext 5
            plt.clear_figure()
            plt.theme("clear")
            plt.bar(labels, means, orientation="horizontal", width=0.4)
            plt.xlim(low, high)
            plt.title(title)
            plt.plotsize(*size)
            text = plt.build()
            plt.clear_figure()
        else:  # plotext 6: the figure object
            figure = plt.figure
            figure.clear()
            figure.theme("simple")
            figure.draw(figure.bar(labels, means, orientation="h", width=0.4))
            figure.ruler("x").lim(low, high)
            figure.title(title)
            figure.plot_size(*size)
            text = str(figure.build())
            figure.clear()
        texts.append(text if color else _ANSI.sub("", text))
    return "\n".join(texts)
