"""The interval arithmetic, checked against cases worked out by hand."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import pytest

from simstage.stats import WILSON, Z95, bootstrap_mean, paired_difference, wilson


def test_wilson_eight_of_ten_by_hand() -> None:
    # p = 0.8, z = 1.959964, z^2 = 3.841459:
    #   denominator = 1 + z^2/10                            = 1.3841459
    #   centre      = (0.8 + z^2/20) / 1.3841459            = 0.9920729 / 1.3841459 = 0.716740
    #   half        = z * sqrt(0.016 + z^2/400) / 1.3841459 = 1.959964 * 0.1600114 / 1.3841459 = 0.226578
    #   interval    = centre -/+ half                       = [0.490162, 0.943318]
    interval = wilson(8, 10)
    assert interval is not None and interval.method == WILSON == "95% Wilson"
    assert interval.estimate == 0.8 and interval.n == 10
    assert interval.low == pytest.approx(0.490162, abs=1e-6)
    assert interval.high == pytest.approx(0.943318, abs=1e-6)
    assert Z95 == pytest.approx(1.959964, abs=1e-6)


def test_wilson_at_the_ends_stays_inside_zero_and_one() -> None:
    # 0 of 10: centre = half = (z^2/20) / (1 + z^2/10) = 0.192073 / 1.384146 = 0.138766
    none = wilson(0, 10)
    assert (
        none is not None and none.low == 0.0 and none.high == pytest.approx(2 * 0.138766, abs=1e-6)
    )
    every = wilson(10, 10)
    assert (
        every is not None
        and every.high == 1.0
        and every.low == pytest.approx(1 - 2 * 0.138766, abs=1e-6)
    )
    assert wilson(0, 0) is None
    with pytest.raises(ValueError):
        wilson(3, 2)


def test_wilson_matches_the_closed_form_with_another_z() -> None:
    interval = wilson(1, 4, z=1.0)
    p, n = 0.25, 4
    centre = (p + 1 / (2 * n)) / (1 + 1 / n)
    half = math.sqrt(p * (1 - p) / n + 1 / (4 * n * n)) / (1 + 1 / n)
    assert interval is not None
    assert (interval.low, interval.high) == pytest.approx((centre - half, centre + half))


def exact_percentiles(values: list[float]) -> tuple[float, float]:
    """The 2.5th and 97.5th percentiles of the exact bootstrap distribution of the mean (every resample)."""
    n = len(values)
    counts: dict[Fraction, int] = {}
    for resample in itertools.product(values, repeat=n):
        mean = Fraction(sum(Fraction(v) for v in resample), n)
        counts[mean] = counts.get(mean, 0) + 1
    total = n**n
    seen = 0
    low = high = None
    for mean in sorted(counts):
        seen += counts[mean]
        if low is None and Fraction(seen, total) >= Fraction(25, 1000):
            low = mean
        if high is None and Fraction(seen, total) >= Fraction(975, 1000):
            high = mean
    assert low is not None and high is not None
    return float(low), float(high)


def test_bootstrap_of_three_runs_by_hand() -> None:
    # Resamples of [0, 1, 1] have means 0, 1/3, 2/3, 1 with chances 1/27, 6/27, 12/27, 8/27:
    # the cumulative chances 0.037, 0.259, 0.704, 1 put the 2.5th percentile at 0 and the 97.5th at 1.
    assert exact_percentiles([0, 1, 1]) == (0.0, 1.0)
    interval = bootstrap_mean([0, 1, 1])
    assert interval is not None and interval.method == "95% bootstrap over seeds"
    assert interval.estimate == pytest.approx(2 / 3)
    assert (interval.low, interval.high) == (0.0, 1.0)


def test_bootstrap_agrees_with_the_exact_distribution() -> None:
    values = [0.2, 0.5, 0.5, 0.9, 1.0]
    interval = bootstrap_mean(values, unit="runs")
    assert interval is not None and interval.method == "95% bootstrap over runs"
    low, high = exact_percentiles(values)
    # 10,000 resamples land within one step (0.02) of the exact percentiles.
    assert interval.low == pytest.approx(low, abs=0.021)
    assert interval.high == pytest.approx(high, abs=0.021)


def test_bootstrap_is_deterministic_and_needs_two_values() -> None:
    values = [0.1, 0.4, 0.35, 0.8]
    assert bootstrap_mean(values) == bootstrap_mean(values)
    one = bootstrap_mean([0.61])
    assert one is not None and one.low is None and one.text() == "0.61 [n=1]"
    assert bootstrap_mean([]) is None
    same = bootstrap_mean([0.5, 0.5, 0.5])
    assert same is not None and (same.low, same.high) == (0.5, 0.5)


def test_paired_difference_uses_the_seeds_both_have() -> None:
    a = {1: 0.9, 2: 0.5, 3: 0.7, 4: None}
    b = {1: 0.4, 2: 0.5, 3: 0.2, 5: 0.3}
    diff = paired_difference(a, b)
    # Seeds 1-3 only: differences 0.5, 0, 0.5 (the [0, 1, 1] case scaled by 0.5).
    assert diff is not None and diff.n == 3
    assert diff.estimate == pytest.approx(1 / 3)
    assert (diff.low, diff.high) == pytest.approx((0.0, 0.5))
    assert paired_difference({1: 1.0}, {2: 1.0}) is None


def test_interval_text() -> None:
    interval = wilson(8, 10)
    assert interval is not None
    assert interval.text() == "0.80 [0.49, 0.94]"
    assert interval.text(percent=True) == "80.0% [49.0%, 94.3%]"
    assert interval.as_dict()["method"] == "95% Wilson"
