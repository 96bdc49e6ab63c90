"""The benchmark's arithmetic: summaries of timings, ratios, noise floors and growth rates.

Pure functions over plain numbers, in the manner of `packaging.tags`: no clock, no process, no
file, so `tests/unit/test_bench.py` checks each on known inputs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


def mean(samples: Sequence[float]) -> float:
    if not samples:
        raise ValueError("mean of no samples")
    return math.fsum(samples) / len(samples)


def median(samples: Sequence[float]) -> float:
    if not samples:
        raise ValueError("median of no samples")
    ordered = sorted(samples)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def stddev(samples: Sequence[float]) -> float:
    """Sample standard deviation (n - 1); 0 for fewer than two samples."""
    if len(samples) < 2:
        return 0.0
    centre = mean(samples)
    return math.sqrt(math.fsum((x - centre) ** 2 for x in samples) / (len(samples) - 1))


def ratio(value: float, baseline: float) -> float | None:
    """`value / baseline`, or None when the baseline is zero (nothing to compare with)."""
    return None if baseline == 0 else value / baseline


def loglog_slope(sizes: Sequence[float], values: Sequence[float]) -> float | None:
    """Least-squares slope of log(value) against log(size): ~1 linear, ~2 quadratic.

    None with fewer than two usable points (sizes and values must be positive).
    """
    points = [(math.log(s), math.log(v)) for s, v in zip(sizes, values, strict=True) if s > 0 < v]
    if len(points) < 2:
        return None
    mx = mean([x for x, _ in points])
    my = mean([y for _, y in points])
    sxx = math.fsum((x - mx) ** 2 for x, _ in points)
    if sxx == 0:
        return None
    return math.fsum((x - mx) * (y - my) for x, y in points) / sxx


def marginal_costs(sizes: Sequence[int], values: Sequence[float]) -> list[float | None]:
    """Cost per extra item between consecutive sizes (None for the first size).

    Linear growth with a fixed overhead (creating the venv, starting the interpreter) shows as
    a constant marginal cost even though the log-log slope of the totals is below 1.
    """
    out: list[float | None] = [None]
    for i in range(1, len(sizes)):
        step = sizes[i] - sizes[i - 1]
        out.append((values[i] - values[i - 1]) / step if step else None)
    return out


@dataclass(frozen=True)
class Stats:
    """Summary of one set of timings (seconds)."""

    n: int
    mean: float
    median: float
    stddev: float
    min: float
    max: float
    samples: tuple[float, ...] = ()  # in measurement order, for re-analysis from the JSON

    @classmethod
    def of(cls, samples: Sequence[float]) -> Stats:
        return cls(
            n=len(samples),
            mean=mean(samples),
            median=median(samples),
            stddev=stddev(samples),
            min=min(samples),
            max=max(samples),
            samples=tuple(samples),
        )


def noise_floor(a: Stats, baseline: Stats) -> float | None:
    """The seed's noise floor: 2 × standard error of the difference of means, as a fraction of
    the baseline's median. A difference smaller than this is not distinguishable from noise."""
    if baseline.median == 0 or a.n == 0 or baseline.n == 0:
        return None
    se = math.sqrt(a.stddev**2 / a.n + baseline.stddev**2 / baseline.n)
    return 2 * se / baseline.median


def growth(stats: Mapping[int, Stats]) -> dict[str, object]:
    """Per-item cost at each size, marginal cost between sizes, and the log-log slope."""
    sizes = sorted(stats)
    medians = [stats[s].median for s in sizes]
    return {
        "sizes": sizes,
        "median": medians,
        "per_item": [m / s for m, s in zip(medians, sizes, strict=True)],
        "marginal_per_item": marginal_costs(sizes, medians),
        "slope": loglog_slope(sizes, medians),
    }
