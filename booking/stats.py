"""Small, honest statistics for comparisons: intervals, percentiles, fairness."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

Z95 = 1.959963984540054  # two-sided 95% normal quantile


def wilson(successes: int, trials: int, z: float = Z95) -> tuple[float, float]:
    """95% Wilson score interval for a proportion: sane at 0/n and n/n, unlike the normal interval."""
    if trials == 0:
        return (0.0, 1.0)
    p = successes / trials
    denom = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denom
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0-100) by linear interpolation between closest ranks; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def jain(allocations: Sequence[float]) -> float | None:
    """Jain's fairness index: 1 when every buyer got the same, 1/n when one got everything."""
    if not allocations:
        return None
    total = sum(allocations)
    squares = sum(x * x for x in allocations)
    if squares == 0:
        return 1.0
    return total * total / (len(allocations) * squares)


def mean_sd(values: Sequence[float]) -> tuple[float | None, float | None]:
    if not values:
        return (None, None)
    return (statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0)


# Two-sided 95% quantiles of Student's t by degrees of freedom (1-30); beyond 30 the normal's is close enough.
_T95: tuple[float, ...] = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179)
_T95 += (2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052)
_T95 += (2.048, 2.045, 2.042)


def t95(df: int) -> float:
    """Student's t quantile for a two-sided 95% interval with `df` degrees of freedom."""
    return _T95[df - 1] if 1 <= df <= len(_T95) else Z95


def mean_ci(values: Sequence[float]) -> tuple[float | None, tuple[float, float] | None]:
    """The mean and its 95% t-interval (None with fewer than two values: no interval can be said)."""
    if not values:
        return (None, None)
    m = statistics.fmean(values)
    if len(values) < 2:
        return (m, None)
    half = t95(len(values) - 1) * statistics.stdev(values) / math.sqrt(len(values))
    return (m, (m - half, m + half))


def ratio_ci(a: Sequence[float], b: Sequence[float]) -> tuple[float, tuple[float, float]] | None:
    """mean(a) / mean(b) with a 95% interval (delta method on the log ratio; t with the smaller sample's df)."""
    if len(a) < 2 or len(b) < 2:
        return None
    ma, mb = statistics.fmean(a), statistics.fmean(b)
    if ma <= 0 or mb <= 0:
        return None
    se = math.sqrt(statistics.variance(a) / (len(a) * ma * ma) + statistics.variance(b) / (len(b) * mb * mb))
    r = ma / mb
    k = math.exp(t95(min(len(a), len(b)) - 1) * se)
    return (r, (r / k, r * k))


def overlap(x: tuple[float, float] | None, y: tuple[float, float] | None) -> bool:
    """Do two intervals overlap? (A missing interval overlaps everything: nothing can be told apart.)"""
    if x is None or y is None:
        return True
    return x[0] <= y[1] and y[0] <= x[1]


def outliers(values: Sequence[float], cut: float = 3.5) -> list[int]:
    """Indices of values whose modified z-score (Iglewicz and Hoaglin: 0.6745 (x - median) / MAD) exceeds `cut`."""
    if len(values) < 4:  # with three, the median's nearest neighbour makes any third value look far
        return []
    centre = statistics.median(values)
    mad = statistics.median(abs(v - centre) for v in values)
    if mad == 0:
        return []
    return [i for i, v in enumerate(values) if 0.6745 * abs(v - centre) / mad > cut]


def repeated(
    values: Sequence[float], floor: float = 0.0
) -> tuple[float, tuple[float, float] | None, tuple[float, float]]:
    """Independent repetitions of one figure: their mean, its 95% t-interval (never below `floor`: a rate is
    not negative; None with one repetition) and their min-max."""
    mean, ci = mean_ci(values)
    if mean is None:
        raise ValueError("no repetitions")
    if ci is not None:
        ci = (max(floor, ci[0]), ci[1])
    return mean, ci, (min(values), max(values))
