"""Statistics over seeds: a mean with a confidence interval, and whether two intervals separate.

A training run is one draw from a distribution of runs: another seed, or the same seed on another CPU,
gives another curve. A chapter's claim from training ("replay beats learning online") is therefore a
claim about means over seeds, and it is asserted only when the intervals say so.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy import stats as scipy_stats

from course_lib import _validate


class Interval(NamedTuple):
    """A mean over runs and a two-sided confidence interval around it."""

    mean: float
    low: float
    high: float
    num_runs: int

    def __str__(self) -> str:
        return f"{self.mean:.1f} [{self.low:.1f}, {self.high:.1f}]"


def mean_interval(values: np.ndarray, confidence: float = 0.95) -> Interval:
    """Mean of ``values`` (one number per seed) and its Student-t confidence interval.

    The t quantile, not the normal 1.96, because the course trains 8 to 16 seeds: with 8 runs the
    95 % half-width is 2.36 standard errors, 20 % wider than the normal approximation claims.

    Args:
        values: ``(num_runs,)``, at least 2 finite numbers.
        confidence: the interval's coverage, in (0, 1).
    """
    _validate.numeric("values", values)
    values = np.asarray(values, dtype=float)
    if values.ndim != 1 or values.size < 2:
        raise ValueError(f"values must be one number per run, at least 2 runs, got shape {values.shape}")
    if not np.all(np.isfinite(values)):
        raise ValueError("values must all be finite (a run with no finished episode is NaN: drop or fill it)")
    mean = float(values.mean())
    half_width = float(half_widths(values[:, None], confidence)[0])
    return Interval(mean=mean, low=mean - half_width, high=mean + half_width, num_runs=int(values.size))


def half_widths(curves: np.ndarray, confidence: float = 0.95) -> np.ndarray:
    """Half-width of the Student-t interval of the mean at every point of ``(num_runs, num_points)``
    curves (zeros for a single run): the band that ``plotting.learning_curve`` shades."""
    _validate.numeric("curves", curves)
    curves = np.asarray(curves, dtype=float)
    if curves.ndim != 2:
        raise ValueError(f"curves must have shape (num_runs, num_points), got shape {curves.shape}")
    _validate.in_range("confidence", confidence, 1e-9, 1 - 1e-9)
    num_runs = curves.shape[0]
    if num_runs < 2:
        return np.zeros(curves.shape[1])
    quantile = float(scipy_stats.t.ppf(0.5 + confidence / 2, df=num_runs - 1))
    return quantile * curves.std(axis=0, ddof=1) / np.sqrt(num_runs)


def _check_interval(name: str, value: object) -> None:
    if not isinstance(value, Interval):
        raise TypeError(f"{name} must be an Interval from mean_interval, got {type(value).__name__}")


def separated(higher: Interval, lower: Interval) -> bool:
    """True when ``higher``'s interval lies wholly above ``lower``'s: a difference that more seeds, or
    another machine, will not reverse. Overlapping intervals say "not shown", not "equal"."""
    _check_interval("higher", higher)
    _check_interval("lower", lower)
    return higher.low > lower.high


def compare(interval: Interval, reference: Interval) -> str:
    """``"above"``, ``"below"`` or ``"overlap"``: where ``interval`` lies against ``reference``, the words
    a chapter prints instead of reading an order into two means."""
    _check_interval("interval", interval)
    _check_interval("reference", reference)
    if separated(interval, reference):
        return "above"
    if separated(reference, interval):
        return "below"
    return "overlap"
