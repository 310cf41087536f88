"""The main metrics of a sweep per variant, each a mean over seeds with its 95% bootstrap interval over seeds.

ToM accuracy gets three panels: all probes beside false-belief probes, then by
probe style (direct, indirect) and by belief order side by side, each with the
chance level of the probes' options (1/number of containers) as a dashed line.
Voice collapse, reward gain and each reward follow, one panel each. The same
panels are drawn as a PNG and, flattened to labelled bars, in the terminal.

matplotlib and plotext are imported only here, when a plot is asked for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from statistics import fmean
from typing import Any

from simstage.report.files import atomic_replace
from simstage.stats import bootstrap_mean, bootstrap_method
from simstage.sweep.plan import SweepError, SweepPlan, value_text
from simstage.sweep.table import group_columns, variant_values

PLOT_FILE = "plot.png"
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
INSTALL_HINT = "plotting needs matplotlib and plotext: pip install 'simstage[sweep]'"
METHOD = bootstrap_method("seeds")

OTHER_METRICS = (
    ("voice_collapse", "voice collapse"),
    ("reward_gain", "optimizer reward gain"),
)
SERIES_COLOURS = ("#4c78a8", "#f58518", "#54a24b", "#b279a2", "#e45756", "#72b7b2")


@dataclass(frozen=True)
class Point:
    """One variant's values of one metric over its seeds."""

    variant: str
    mean: float
    low: float | None
    """The 95% bootstrap interval over seeds; None with a single seed."""
    high: float | None
    n: int
    """Runs (seeds) behind the mean."""


@dataclass(frozen=True)
class Series:
    """One metric across variants (`label`: what it is within its panel, e.g. `direct`)."""

    column: str
    label: str
    points: list[Point]


@dataclass(frozen=True)
class Panel:
    """One chart: one or more series side by side per variant, and the chance level per variant."""

    key: str
    title: str
    series: list[Series]
    chance: dict[str, float] = field(default_factory=dict)
    """Per variant, the mean chance level of its probes (1/number of options); ToM panels only."""

    @property
    def rate(self) -> bool:
        """Whether the values are rates in [0, 1]."""
        return self.key.startswith("tom") or self.key == "voice_collapse"


def require_plotting() -> None:
    """Fail early when the plotting libraries are missing.

    Raises:
        SweepError: matplotlib or plotext cannot be imported.
    """
    try:
        import matplotlib  # noqa: F401 - only whether the sweep extra is installed
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


def _series(plan: SweepPlan, rows: dict[str, dict[str, Any]], column: str, label: str) -> Series:
    points = []
    for variant, values in variant_values(plan, rows, column):
        interval = bootstrap_mean(values)
        if interval is not None:
            points.append(
                Point(
                    _short_label(plan, variant.settings),
                    interval.estimate,
                    interval.low,
                    interval.high,
                    interval.n,
                )
            )
    return Series(column, label, points)


def panels(plan: SweepPlan, rows: dict[str, dict[str, Any]]) -> list[Panel]:
    """The panels that have data in at least one row (ToM first, then the other metrics)."""
    chance = {}
    for variant, values in variant_values(plan, rows, "tom_chance"):
        if values:
            chance[_short_label(plan, variant.settings)] = fmean(values)
    groups = group_columns(list(rows.values()))
    wanted: list[tuple[str, str, list[tuple[str, str]]]] = [
        (
            "tom",
            "ToM accuracy (all probes, false-belief probes)",
            [("tom_accuracy", "all probes"), ("tom_false_belief", "false-belief probes")],
        ),
        (
            "tom_style",
            "ToM accuracy by probe style",
            [
                (name, name.removeprefix("tom.style."))
                for name in groups
                if name.startswith("tom.style.")
            ],
        ),
        (
            "tom_order",
            "ToM accuracy by belief order",
            [
                (name, f"order {name.removeprefix('tom.order.')}")
                for name in groups
                if name.startswith("tom.order.")
            ],
        ),
    ]
    rewards = sorted({name for row in rows.values() for name in row.get("rewards") or {}})
    wanted += [(column, title, [(column, "")]) for column, title in OTHER_METRICS]
    wanted += [
        (f"reward.{name}", f"reward {name} (mean per run)", [(f"reward.{name}", "")])
        for name in rewards
    ]
    result = []
    for key, title, columns in wanted:
        series = [
            s for column, label in columns if (s := _series(plan, rows, column, label)).points
        ]
        if series:
            result.append(Panel(key, title, series, chance if key.startswith("tom") else {}))
    return result


def axis_title(plan: SweepPlan) -> str:
    """What the variant labels list (`puppeteer.kind / stage.temperature`)."""
    varied = _varied(plan)
    return " / ".join(key for key in plan.keys if key in varied) or "variant"


def _variants(panel: Panel) -> list[str]:
    """The panel's variants, in plan order."""
    return list(dict.fromkeys(point.variant for series in panel.series for point in series.points))


def _draw_panel(axis: Any, plan: SweepPlan, panel: Panel) -> None:
    """Grouped bars (one group per variant, one bar per series) with interval whiskers and the chance line."""
    variants = _variants(panel)
    width = 0.8 / len(panel.series)
    for number, series in enumerate(panel.series):
        by_variant = {point.variant: point for point in series.points}
        xs, means, below, above = [], [], [], []
        for position, variant in enumerate(variants):
            point = by_variant.get(variant)
            if point is None:
                continue
            xs.append(position - 0.4 + width * (number + 0.5))
            means.append(point.mean)
            below.append(0.0 if point.low is None else point.mean - point.low)
            above.append(0.0 if point.high is None else point.high - point.mean)
        axis.bar(
            xs,
            means,
            width * 0.92,
            yerr=[below, above],
            capsize=3,
            label=series.label or None,
            color=SERIES_COLOURS[number % len(SERIES_COLOURS)],
        )
        for x, point in zip(xs, [by_variant[v] for v in variants if v in by_variant], strict=True):
            axis.annotate(
                f"n={point.n}",
                (x, 0),
                xytext=(0, 2),
                textcoords="offset points",
                ha="center",
                fontsize=6,
                color="white" if point.mean > 0.08 else "black",
            )
    drawn = False
    for position, variant in enumerate(variants):
        if variant in panel.chance:
            axis.hlines(
                panel.chance[variant],
                position - 0.45,
                position + 0.45,
                colors="#444444",
                linestyles="dashed",
                linewidth=1.2,
                label=None if drawn else "chance (1/options)",
            )
            drawn = True
    rotate = len(variants) > 4
    axis.set_xticks(
        range(len(variants)),
        variants,
        rotation=20 if rotate else 0,
        ha="right" if rotate else "center",
        fontsize=8,
    )
    axis.set_title(panel.title, fontsize=10)
    axis.set_xlabel(axis_title(plan), fontsize=8)
    legend = len(panel.series) > 1 or drawn
    if panel.rate:
        # Head room above 1 for the legend, so it never covers a bar.
        axis.set_ylim(0, 1.28 if legend else 1.05)
        axis.set_yticks([0, 0.25, 0.5, 0.75, 1.0])
    if legend:
        entries = len(panel.series) + (1 if drawn else 0)
        axis.legend(fontsize=7, loc="upper center", ncol=entries, framealpha=0.9, borderaxespad=0.3)


def write_png(path: Path, plan: SweepPlan, charts: list[Panel]) -> Path:
    """Draw every panel into one PNG (written atomically): ToM overall on top, style and order side by side."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paired = {"tom_style", "tom_order"}
    side = [panel for panel in charts if panel.key in paired]
    alone = [panel for panel in charts if panel.key not in paired]
    rows = len(alone) + (1 if side else 0)
    variants = max(len(_variants(panel)) for panel in charts)
    width = max(8.0, 1.5 + 1.1 * variants * (2 if side else 1))
    figure = plt.figure(figsize=(width, 3.0 * rows))
    grid = figure.add_gridspec(rows, 2)
    row = 0
    for panel in alone[:1]:
        _draw_panel(figure.add_subplot(grid[row, :]), plan, panel)
        row += 1
    if side:
        for column, panel in enumerate(side):
            _draw_panel(
                figure.add_subplot(grid[row, column] if len(side) == 2 else grid[row, :]),
                plan,
                panel,
            )
        row += 1
    for panel in alone[1:]:
        _draw_panel(figure.add_subplot(grid[row, :]), plan, panel)
        row += 1
    figure.suptitle(
        f"sweep of {Path(plan.scenario_path).name}: {len(plan.seeds)} seeds per variant; "
        f"bars: mean over seeds, whiskers: {METHOD}",
        fontsize=10,
    )
    figure.tight_layout()
    try:
        atomic_replace(path, lambda temporary: figure.savefig(temporary, dpi=110, format="png"))
    except OSError as exc:
        raise SweepError(f"{path}: cannot write: {exc.strerror or exc}") from None
    finally:
        plt.close(figure)
    return path


def _limits(panel: Panel) -> tuple[float, float]:
    if panel.rate:
        return 0.0, 1.0
    points = [p for series in panel.series for p in series.points]
    low = min(0.0, *(p.mean if p.low is None else p.low for p in points))
    high = max(0.0, *(p.mean if p.high is None else p.high for p in points))
    return low, high if high > low else low + 1.0


def _label(point: Point, series: Series) -> str:
    name = f"{point.variant} · {series.label}" if series.label else point.variant
    if point.low is None or point.high is None:
        return f"{name} ({point.mean:.2f}, n={point.n})"
    return f"{name} ({point.mean:.2f} [{point.low:.2f}, {point.high:.2f}], n={point.n})"


def _chance_text(panel: Panel) -> str:
    levels = sorted({round(level, 2) for level in panel.chance.values()})
    return f"; chance {' / '.join(f'{level:.2f}' for level in levels)}" if levels else ""


def terminal_charts(
    plan: SweepPlan, charts: list[Panel], width: int, *, color: bool = False
) -> str:
    """Every panel as a horizontal bar chart for the terminal (plotext), one after another."""
    import plotext as plt

    texts = [f"per {axis_title(plan)}: mean over seeds [{METHOD}], n runs"]
    for panel in charts:
        labelled = [
            (_label(point, series), point.mean)
            for point_group in _by_variant(panel)
            for point, series in point_group
        ]
        # Listed top to bottom in plan order (plotext draws the first bar at the bottom).
        labelled = labelled[::-1]
        labels = [label for label, _ in labelled]
        means = [mean for _, mean in labelled]
        # plotext leaves out a title wider than the plot.
        title = (panel.title + _chance_text(panel))[: max(10, width - 4)]
        size = (max(40, width), 5 + 2 * len(labels))
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


def _by_variant(panel: Panel) -> list[list[tuple[Point, Series]]]:
    """The panel's points grouped by variant (plan order), series in panel order within each."""
    out = []
    for variant in _variants(panel):
        out.append(
            [
                (point, series)
                for series in panel.series
                for point in series.points
                if point.variant == variant
            ]
        )
    return out
