"""The probes' accuracy per layer as a PNG: each probe kind with its interval shaded, chance, behaviour."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

if TYPE_CHECKING:
    from simstage.analysis.results import FitResult

KINDS: dict[str, str] = {
    "mean_diff": "mean difference",
    "logistic": "logistic regression",
    "ccs": "CCS (unsupervised)",
}
"""Each probe kind (a `LayerFit` field) and its name on the page."""

LEVELS: dict[str, dict[str, Any]] = {
    "chance": {"color": "grey", "linestyle": "--", "linewidth": 1},
    "behaviour": {"color": "black", "linestyle": ":", "linewidth": 1.2},
}
"""How each level line of an accuracy-per-layer plot is drawn (here and in a battery's profile)."""


def level_line(axes: Any, level: str, value: float | None, words: str) -> None:
    """Draw the `chance` or `behaviour` level across `axes`, labelled `words` and the value;
    nothing where `value` is None."""
    if value is not None:
        axes.axhline(value, label=f"{words} {value:.2f}", **LEVELS[level])


def plot_fit(result: FitResult, out: BinaryIO, name: str | Path) -> None:
    """Draw a `probes.fit` result into the open file `out`, in the format `name`'s suffix names.

    A PNG unless matplotlib knows `name`'s suffix (`.svg`, `.pdf`); the file is
    `out`, so matplotlib never adds a suffix to `name`.
    """
    figure = fit_figure(result)
    import matplotlib.pyplot as plt

    try:
        suffix = Path(name).suffix.removeprefix(".").lower()
        known = figure.canvas.get_supported_filetypes()
        figure.savefig(out, format=suffix if suffix in known else "png")
    finally:
        plt.close(figure)


def fit_svg(result: FitResult) -> str:
    """The same picture as an inline `<svg>` element (text drawn as paths), for the sweep report."""
    import io

    figure = fit_figure(result)
    import matplotlib.pyplot as plt

    buffer = io.StringIO()
    figure.savefig(buffer, format="svg")
    plt.close(figure)
    text = buffer.getvalue()
    return re.sub(r"<metadata>.*?</metadata>\s*", "", text[text.index("<svg") :], flags=re.S)


def fit_figure(result: FitResult) -> Any:
    """A `probes.fit` result as a figure: accuracy per layer, 95% intervals shaded, chance and behaviour as lines."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    summary = result.summary
    layers = [entry.layer for entry in result.layers]
    figure, axes = plt.subplots(figsize=(8, 4.5), dpi=120)
    for kind, label in KINDS.items():
        found = [entry.cell(kind) for entry in result.layers]
        cells = [c for c in found if c is not None]
        if len(cells) < len(found):
            continue  # CCS where it does not apply
        axes.plot(layers, [c.estimate for c in cells], marker="o", markersize=3, label=label)
        bounds = [(c.low, c.high) for c in cells if c.low is not None and c.high is not None]
        if len(bounds) == len(cells):
            axes.fill_between(
                layers, [low for low, _ in bounds], [high for _, high in bounds], alpha=0.2
            )
    level_line(axes, "chance", summary.chance, "chance (majority class)")
    # The model's own answers against the tracker's belief, whatever the probes decode.
    behaviour = result.behaviour.all
    agree = None if behaviour is None else behaviour.estimate
    level_line(axes, "behaviour", agree, "behaviour: answers agree with the tracker")
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_ylim(0, 1.02)
    axes.set_xlabel("layer (block output l_out-L)")
    axes.set_ylabel("test accuracy")
    axes.set_title(
        f"Probing {summary.target}: {summary.n} probes, {summary.n_runs} runs, split by run",
        fontsize=10,
    )
    axes.legend(fontsize=8, loc="best")
    axes.grid(alpha=0.3)
    figure.tight_layout()
    return figure
