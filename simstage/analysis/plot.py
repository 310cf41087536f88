"""The probes' accuracy per layer as a PNG: each probe kind with its interval shaded, chance, behaviour."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

KINDS = {"mean_diff": "mean difference", "logistic": "logistic regression", "ccs": "CCS (unsupervised)"}


def plot_fit(result: dict[str, Any], out: str | Path) -> None:
    """Draw a `probes.fit` result to a PNG (or any format matplotlib knows by `out`'s suffix)."""
    figure = fit_figure(result)
    import matplotlib.pyplot as plt

    figure.savefig(out)
    plt.close(figure)


def fit_svg(result: dict[str, Any]) -> str:
    """The same picture as an inline `<svg>` element (text drawn as paths), for the sweep report."""
    import io

    figure = fit_figure(result)
    import matplotlib.pyplot as plt

    buffer = io.StringIO()
    figure.savefig(buffer, format="svg")
    plt.close(figure)
    text = buffer.getvalue()
    return re.sub(r"<metadata>.*?</metadata>\s*", "", text[text.index("<svg") :], flags=re.S)


def fit_figure(result: dict[str, Any]) -> Any:
    """A `probes.fit` result as a figure: accuracy per layer, 95% intervals shaded, chance and behaviour as lines."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    layers = [entry["layer"] for entry in result["layers"]]
    figure, axes = plt.subplots(figsize=(8, 4.5), dpi=120)
    for kind, label in KINDS.items():
        cells = [entry.get(kind) for entry in result["layers"]]
        if any(c is None for c in cells):
            continue  # CCS where it does not apply
        axes.plot(layers, [c["estimate"] for c in cells], marker="o", markersize=3, label=label)
        if all(c["low"] is not None for c in cells):
            axes.fill_between(
                layers, [c["low"] for c in cells], [c["high"] for c in cells], alpha=0.2
            )
    axes.axhline(
        result["chance"],
        color="grey",
        linestyle="--",
        linewidth=1,
        label=f"chance (majority class) {result['chance']:.2f}",
    )
    behaviour = result["behaviour"]["all"]
    if behaviour is not None:
        # The model's own answers against the tracker's belief, whatever the probes decode.
        label = f"behaviour: answers agree with the tracker {behaviour['estimate']:.2f}"
        axes.axhline(
            behaviour["estimate"], color="black", linestyle=":", linewidth=1.2, label=label
        )
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_ylim(0, 1.02)
    axes.set_xlabel("layer (block output l_out-L)")
    axes.set_ylabel("test accuracy")
    axes.set_title(
        f"Probing {result['target']}: {result['n']} probes, {result['n_runs']} runs, split by run",
        fontsize=10,
    )
    axes.legend(fontsize=8, loc="best")
    axes.grid(alpha=0.3)
    figure.tight_layout()
    return figure
