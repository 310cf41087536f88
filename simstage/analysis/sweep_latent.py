"""A sweep's latent profile: the probes fitted per layer for each target, for the sweep's report to render.

When a sweep's runs captured activations (`--latent`), their captured probes
are read into one dataset and `probes.fit` is run for each target (mean
difference, logistic regression and CCS, split by run). The report draws and
tabulates the result; it fits nothing itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from simstage.analysis.results import DatasetSummary, FitResult, Skipped

Progress = Callable[[str], None]


@dataclass(frozen=True)
class SweepLatent:
    """What the probes read in a sweep's captured runs."""

    dataset: DatasetSummary | Skipped
    """The captured probes, or why they could not be read into one dataset."""
    targets: tuple[tuple[str, FitResult | Skipped], ...]
    """Each target (in `probes.TARGETS`' order; the fact targets only with fact probes) with its fit, or why it
    was not fitted; empty when `dataset` is skipped."""


def latent_profile(folder: Path, progress: Progress = lambda _: None) -> SweepLatent | None:
    """Fit the probes on the captured runs in `folder`, per target; None when no run there captured any.

    Args:
        folder: a sweep folder; every run log under it with a sidecar counts.
        progress: told what is being read and fitted, a line at a time.

    Returns:
        The dataset's size and each target's `FitResult` (or the reason it has none);
        a dataset that cannot be built (runs of different widths, a torn sidecar) is
        a `Skipped` dataset, not an error.
    """
    from simstage.analysis.dataset import run_logs
    from simstage.latent.store import LatentError, sidecar_path

    try:
        logs = [log for log in run_logs([folder]) if sidecar_path(log).exists()]
    except LatentError:
        return None
    return latent_of_logs(logs, progress)


def latent_of_logs(logs: Sequence[Path], progress: Progress = lambda _: None) -> SweepLatent | None:
    """`latent_profile` of the run logs given (each with its sidecar): one model's runs of a battery.

    Returns:
        None when no log is given.
    """
    from simstage.analysis.dataset import build_dataset
    from simstage.analysis.probes import fit, targets_for
    from simstage.latent.store import LatentError

    if not logs:
        return None
    progress(f"latent: reading the activations of {len(logs)} runs")
    try:
        dataset = build_dataset(logs)
    except LatentError as exc:
        return SweepLatent(Skipped(str(exc)), ())
    targets: list[tuple[str, FitResult | Skipped]] = []
    wanted = targets_for(dataset)
    for index, target in enumerate(wanted, 1):
        progress(f"latent: fitting probes for {target} ({index}/{len(wanted)})")
        try:
            targets.append((target, fit(dataset, None, target)))
        except LatentError as exc:
            targets.append((target, Skipped(str(exc))))
    return SweepLatent(dataset.summary(), tuple(targets))
