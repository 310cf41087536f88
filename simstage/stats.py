"""95% intervals for the rates simstage reports: Wilson for a proportion, a bootstrap over runs for means.

- `wilson(k, n)`: the Wilson score interval of k successes in n trials (probe
  answers that agree with the tracker, benchmark questions answered right).
  Unlike the normal approximation it stays inside [0, 1] and is sensible at
  0/n and n/n.
- `bootstrap_mean(values)`: a percentile bootstrap of the mean of per-run
  values (one value per seed), resampling runs with replacement. Probes within
  one run share its story, so runs, not probes, are the independent units.
- `paired_difference(a, b)`: the mean of per-seed differences a - b over the
  seeds both have, with the same bootstrap resampling seeds.
- `bootstrap_clusters(sums, counts)`: a rate pooled over clusters (probes
  within scenes: sum of sums over sum of counts), with a bootstrap that
  resamples whole clusters, so probes that share a scene count as one unit.

Bootstraps are seeded, so the same numbers always give the same interval.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from statistics import NormalDist, fmean
from typing import Any

WILSON = "95% Wilson"
Z95 = NormalDist().inv_cdf(0.975)
RESAMPLES = 10_000
"""Bootstrap resamples."""
SEED = 0
"""The bootstrap's random seed."""


def bootstrap_method(unit: str = "seeds") -> str:
    """The name of the bootstrap interval, as printed: `95% bootstrap over seeds`."""
    return f"95% bootstrap over {unit}"


@dataclass(frozen=True)
class Interval:
    """An estimate with its 95% interval, and the method that gave it."""

    estimate: float
    low: float | None
    """None when the method cannot give an interval (a bootstrap of one value)."""
    high: float | None
    n: int
    """Trials (Wilson) or runs (bootstrap) behind the estimate."""
    method: str

    def text(self, *, percent: bool = False, digits: int | None = None) -> str:
        """`0.61 [0.45, 0.75]`, or `61.0% [45.2%, 75.1%]` with `percent`; `0.61 [n=1]` without bounds."""

        def show(value: float) -> str:
            if percent:
                return f"{value:.{1 if digits is None else digits}%}"
            return f"{value:.{2 if digits is None else digits}f}"

        if self.low is None or self.high is None:
            return f"{show(self.estimate)} [n={self.n}]"
        return f"{show(self.estimate)} [{show(self.low)}, {show(self.high)}]"

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: estimate, low, high, n, method."""
        return {
            "estimate": self.estimate,
            "low": self.low,
            "high": self.high,
            "n": self.n,
            "method": self.method,
        }


def wilson(successes: int, n: int, *, z: float = Z95) -> Interval | None:
    """The Wilson score interval of `successes` out of `n` (None when n is 0).

    Raises:
        ValueError: counts that are negative or successes above n.
    """
    if n < 0 or successes < 0 or successes > n:
        raise ValueError(f"not a proportion: {successes} of {n}")
    if n == 0:
        return None
    p = successes / n
    z2 = z * z
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denominator
    # Rounding can put the ends a hair outside [0, 1] (or past p) at 0/n and n/n.
    return Interval(p, max(0.0, min(p, centre - half)), min(1.0, max(p, centre + half)), n, WILSON)


def _percentiles(means: list[float]) -> tuple[float, float]:
    """The 2.5th and 97.5th percentiles of the bootstrap means (nearest rank)."""
    means.sort()
    count = len(means)
    low = means[max(0, math.ceil(0.025 * count) - 1)]
    high = means[min(count - 1, math.ceil(0.975 * count) - 1)]
    return low, high


def bootstrap_mean(
    values: Sequence[float], *, unit: str = "seeds", resamples: int = RESAMPLES, seed: int = SEED
) -> Interval | None:
    """The mean of `values` (one per run) with its percentile-bootstrap 95% interval.

    Args:
        values: one value per run.
        unit: what a value stands for, named in the method ("seeds", "runs").
        resamples: bootstrap resamples.
        seed: the resampling's random seed (the interval is reproducible).

    Returns:
        None for no values; with one value the interval has no bounds.
    """
    data = [float(v) for v in values]
    if not data:
        return None
    method = bootstrap_method(unit)
    estimate = fmean(data)
    if len(data) < 2:
        return Interval(estimate, None, None, len(data), method)
    rng = random.Random(seed)
    n = len(data)
    means = [fmean(rng.choices(data, k=n)) for _ in range(resamples)]
    low, high = _percentiles(means)
    return Interval(estimate, low, high, n, method)


def paired_difference(
    a: Mapping[Any, float | None],
    b: Mapping[Any, float | None],
    *,
    unit: str = "seeds",
    resamples: int = RESAMPLES,
    seed: int = SEED,
) -> Interval | None:
    """Mean of a[key] - b[key] over the keys (seeds) both have a value for, bootstrapped over keys.

    Returns:
        None when no key has both values.
    """
    keys = [key for key in a if key in b and a[key] is not None and b[key] is not None]
    differences = [float(a[key]) - float(b[key]) for key in keys]  # type: ignore[arg-type]
    return bootstrap_mean(differences, unit=unit, resamples=resamples, seed=seed)


CLUSTER_BLOCK = 1_000
"""Resamples drawn at once by `bootstrap_clusters` (bounds its memory on many clusters)."""


def bootstrap_clusters(
    sums: Sequence[float],
    counts: Sequence[int],
    *,
    unit: str = "scenes",
    resamples: int = RESAMPLES,
    seed: int = SEED,
) -> Interval | None:
    """`sum(sums) / sum(counts)` with a percentile-bootstrap 95% interval that resamples clusters.

    Args:
        sums: per cluster (scene), the sum of its values (probes answered right, or differences).
        counts: per cluster, how many values it holds; clusters of 0 are left out.
        unit: what a cluster is, named in the method ("scenes").
        resamples: bootstrap resamples.
        seed: the resampling's random seed (the interval is reproducible).

    Returns:
        None without values; with one cluster the interval has no bounds. `n` counts the clusters.

    Raises:
        ValueError: `sums` and `counts` of different lengths, or a negative count.
    """
    import numpy as np

    if len(sums) != len(counts):
        raise ValueError("sums and counts must be as many")
    if any(count < 0 for count in counts):
        raise ValueError("a cluster cannot hold fewer than 0 values")
    kept = [
        (float(total), int(count)) for total, count in zip(sums, counts, strict=True) if count > 0
    ]
    if not kept:
        return None
    method = bootstrap_method(unit)
    totals = np.array([total for total, _ in kept])
    sizes = np.array([count for _, count in kept], dtype=np.int64)
    estimate = float(totals.sum() / sizes.sum())
    if len(kept) < 2:
        return Interval(estimate, None, None, 1, method)
    rng = np.random.default_rng(seed)
    ratios: list[float] = []
    for start in range(0, resamples, CLUSTER_BLOCK):
        picks = rng.integers(0, len(kept), size=(min(CLUSTER_BLOCK, resamples - start), len(kept)))
        ratios.extend((totals[picks].sum(axis=1) / sizes[picks].sum(axis=1)).tolist())
    low, high = _percentiles(ratios)
    return Interval(estimate, min(low, estimate), max(high, estimate), len(kept), method)
