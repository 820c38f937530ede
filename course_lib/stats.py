"""Statistics over seeds: a mean with a confidence interval, and whether two intervals separate; the
interquartile mean, stratified bootstrap intervals, performance profiles and the probability of
improvement of Agarwal et al. (2021, "Deep reinforcement learning at the edge of the statistical
precipice").

A training run is one draw from a distribution of runs: another seed, or the same seed on another CPU,
gives another curve. A chapter's claim from training ("replay beats learning online") is therefore a
claim about means over seeds, and it is asserted only when the intervals say so.

Scores for the bootstrap functions are ``(num_runs, num_tasks)``: one number per run (seed) and task
(environment), or ``(num_runs,)`` for a single task. Runs are resampled within each task (a stratified
bootstrap), so every resample keeps every task, as the experiment did.
"""

from __future__ import annotations

from collections.abc import Callable
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
    if not isinstance(value, (Interval, BootstrapInterval)):
        raise TypeError(
            f"{name} must be an Interval from mean_interval or a BootstrapInterval from stratified_bootstrap, "
            f"got {type(value).__name__}"
        )


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


# --- Agarwal et al. (2021): aggregates that hold up with few runs, and their bootstrap intervals. -------

BOOTSTRAP_METHODS = ("percentile", "basic", "BCa")


class BootstrapInterval(NamedTuple):
    """An aggregate of scores over runs (``estimate``: the IQM, the mean, the median, ...) and a
    bootstrap confidence interval around it, from ``num_runs`` runs on each of ``num_tasks`` tasks."""

    estimate: float
    low: float
    high: float
    num_runs: int
    num_tasks: int

    def __str__(self) -> str:
        return f"{self.estimate:.1f} [{self.low:.1f}, {self.high:.1f}]"


class Profile(NamedTuple):
    """A performance profile: at each threshold, the fraction of runs whose score is above it, with a
    bootstrap band ``[low, high]``. All four are ``(num_thresholds,)``."""

    thresholds: np.ndarray
    fraction: np.ndarray
    low: np.ndarray
    high: np.ndarray


class Improvement(NamedTuple):
    """``probability`` that a run of X scores higher than a run of Y (ties count one half), averaged over
    tasks, and its bootstrap interval. 0.5 means neither is better."""

    probability: float
    low: float
    high: float
    num_runs_x: int
    num_runs_y: int
    num_tasks: int

    def __str__(self) -> str:
        return f"{self.probability:.2f} [{self.low:.2f}, {self.high:.2f}]"


def iqm(scores: np.ndarray, axis: int | None = None) -> float | np.ndarray:
    """Interquartile mean (IQM): the mean of the middle half of ``scores`` along ``axis``; with
    ``axis=None``, of all scores pooled (runs and tasks together, as Agarwal et al. pool them).

    Why: one diverged run drags the mean, and the median listens to one or two runs only. The IQM drops
    the lowest and highest quarter and averages the half in between, so it moves little with one outlier
    while using many runs: with 8 to 32 seeds its interval is narrower than the median's.

    Exactly: sort the ``n`` scores, drop the ``n // 4`` lowest and the ``n // 4`` highest, and take the
    mean of the rest. Only whole scores are dropped: for ``n`` not divisible by 4 a little more than half
    is kept (5 keeps 3, 6 keeps 4, 7 keeps 5), and for ``n < 4`` nothing is dropped (the IQM is the mean).
    Ties need no rule, since scores are dropped by position in the sorted order. This is
    ``scipy.stats.trim_mean(scores, 0.25, axis)``, which computes it.

    Args:
        scores: any shape, finite numbers; at least one along ``axis``.
        axis: the axis to reduce, or None for all of them.

    Returns:
        a float for ``axis=None``, else an array with ``axis`` removed.
    """
    _validate.numeric("scores", scores)
    array = np.asarray(scores, dtype=float)
    if axis is not None:
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise TypeError(f"axis must be an int or None, got {axis!r}")
        if not -array.ndim <= axis < array.ndim:
            raise ValueError(f"axis must name one of the {array.ndim} axes of scores (shape {array.shape}), got {axis}")
    if array.size == 0 or (axis is not None and array.shape[axis] == 0):
        raise ValueError(f"scores must hold at least one score to average, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError("scores must all be finite (a run with no finished episode is NaN: drop or fill it)")
    result = scipy_stats.trim_mean(array, 0.25, axis=axis)
    return float(result) if axis is None else np.asarray(result)


def _runs_by_tasks(name: str, scores: object) -> np.ndarray:
    """``scores`` as a float array ``(num_runs, num_tasks)``, or a ValueError naming ``name``."""
    _validate.numeric(name, scores)
    array = np.asarray(scores, dtype=float)
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2 or array.shape[0] < 2 or array.shape[1] < 1:
        raise ValueError(
            f"{name} must have shape (num_runs,) or (num_runs, num_tasks) with at least 2 runs, "
            f"got shape {np.shape(scores)}"
        )
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must all be finite (a run with no finished episode is NaN: drop or fill it)")
    return array


def _bootstrap_options(confidence: float, num_resamples: int, seed: int) -> tuple[float, int, int]:
    _validate.numeric("confidence", confidence)
    _validate.scalar("confidence", confidence)
    if not 0.0 < float(confidence) < 1.0:
        raise ValueError(f"confidence must lie in (0, 1), e.g. 0.95, got {confidence!r}")
    num_resamples = _validate.positive_int("num_resamples", num_resamples)
    if num_resamples < 100:
        raise ValueError(
            f"num_resamples must be at least 100 (the interval's ends are quantiles of the resamples; "
            f"a few thousand make them stable), got {num_resamples}"
        )
    return float(confidence), num_resamples, _validate.non_negative_int("seed", seed)


def _bootstrap(
    samples: list[np.ndarray],
    statistic: Callable[..., np.ndarray],
    *,
    confidence: float,
    num_resamples: int,
    method: str,
    seed: int,
    batch: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Ends of ``scipy.stats.bootstrap``'s interval: each sample (one task's runs, of one algorithm) is
    resampled with replacement on its own, which is the stratified bootstrap. ``statistic(*samples,
    axis=-1)`` is vectorised over leading (resample) axes; a vector statistic puts its own axis first."""
    result = scipy_stats.bootstrap(
        samples, statistic, n_resamples=num_resamples, batch=batch, vectorized=True, paired=False, axis=-1,
        confidence_level=confidence, method=method, rng=np.random.default_rng(seed),
    )  # fmt: skip
    return np.asarray(result.confidence_interval.low), np.asarray(result.confidence_interval.high)


def stratified_bootstrap(
    scores: np.ndarray,
    statistic: Callable[..., np.ndarray] = iqm,
    *,
    confidence: float = 0.95,
    num_resamples: int = 2000,
    method: str = "percentile",
    seed: int = 0,
) -> BootstrapInterval:
    """An aggregate of ``scores`` and its stratified bootstrap confidence interval (Agarwal et al., 2021).

    Why a bootstrap: the Student-t interval of :func:`mean_interval` is for a mean of roughly normal
    numbers; the IQM or the median of 8 capped CartPole returns is neither. Resampling the runs themselves
    makes no such assumption. Why stratified: runs are resampled within each task, so every resample has
    every task with its own number of runs, as the experiment had; pooling tasks first would let a
    resample hold only the easy task.

    Args:
        scores: ``(num_runs, num_tasks)`` or ``(num_runs,)`` for one task; at least 2 runs, finite.
        statistic: ``statistic(pooled, axis=-1)`` reduces the pooled scores of all runs and tasks along
            the last axis, e.g. :func:`iqm`, ``np.mean``, ``np.median``. (Agarwal et al.'s median is the
            median over tasks of each task's mean; for one task it would be the plain mean.)
        confidence: the interval's coverage, in (0, 1).
        num_resamples: resamples, at least 100. With 2,000, the ends of a 95 % interval move by about 2 %
            of its width from one seed to another (tests/test_stats.py measures it).
        method: ``"percentile"`` (the quantiles of the resampled statistic, as Agarwal et al.),
            ``"basic"`` or ``"BCa"`` (bias-corrected; NaN when every resample gives the same value).
        seed: the resampling's seed: the same seed gives the same numbers.

    Returns:
        ``BootstrapInterval(estimate, low, high, num_runs, num_tasks)``, ``estimate`` being the statistic
        of ``scores`` themselves.
    """
    array = _runs_by_tasks("scores", scores)
    _validate.function("statistic", statistic)
    confidence, num_resamples, seed = _bootstrap_options(confidence, num_resamples, seed)
    _validate.one_of("method", method, BOOTSTRAP_METHODS)
    pooled = array.T.reshape(-1)  # task by task
    try:
        estimate = np.asarray(statistic(pooled, axis=-1), dtype=float)
        batched = np.asarray(statistic(np.stack([pooled, pooled[::-1]]), axis=-1), dtype=float)
    except TypeError as error:
        raise TypeError(
            f"statistic must be called as statistic(scores, axis=-1) and reduce that axis, like iqm, np.mean "
            f"or np.median; calling it raised TypeError: {error}"
        ) from None
    if estimate.shape != () or batched.shape != (2,):
        raise ValueError(
            "statistic must reduce the last axis to one number per row, like iqm, np.mean or np.median; "
            f"it turned shape {pooled.shape} into {estimate.shape} and shape (2, {pooled.size}) into {batched.shape}"
        )

    def pooled_statistic(*tasks: np.ndarray, axis: int = -1) -> np.ndarray:
        return statistic(np.concatenate(tasks, axis=axis), axis=axis)

    low, high = _bootstrap(
        list(array.T), pooled_statistic, confidence=confidence, num_resamples=num_resamples, method=method,
        seed=seed,
    )  # fmt: skip
    num_runs, num_tasks = array.shape
    return BootstrapInterval(float(estimate), float(low), float(high), int(num_runs), int(num_tasks))


def performance_profile(
    scores: np.ndarray,
    thresholds: np.ndarray | None = None,
    *,
    confidence: float = 0.95,
    num_resamples: int = 2000,
    seed: int = 0,
) -> Profile:
    """The fraction of runs whose score is above each threshold tau, with stratified bootstrap bands.

    Why: one number (a mean, an IQM) hides the shape of the distribution of runs. A profile shows it
    whole: where one curve lies above another at every tau, its runs are better at every level, not only
    on average (stochastic dominance, Agarwal et al., 2021). With several tasks the fraction is averaged
    over tasks, which with equal runs per task is the fraction of all runs.

    Args:
        scores: ``(num_runs, num_tasks)`` or ``(num_runs,)``; at least 2 runs, finite.
        thresholds: ``(num_thresholds,)`` finite taus; by default 101 evenly spaced from the lowest
            score to the highest.
        confidence, num_resamples, seed: as in :func:`stratified_bootstrap`. The bands are percentile
            intervals (where every resample gives the same fraction, 0 or 1, the band is that point).

    Returns:
        ``Profile(thresholds, fraction, low, high)``, each ``(num_thresholds,)``.
    """
    array = _runs_by_tasks("scores", scores)
    confidence, num_resamples, seed = _bootstrap_options(confidence, num_resamples, seed)
    if thresholds is None:
        thresholds = np.linspace(array.min(), array.max(), 101)
    _validate.numeric("thresholds", thresholds)
    taus = np.asarray(thresholds, dtype=float)
    if taus.ndim != 1 or taus.size == 0:
        raise ValueError(f"thresholds must be a 1-D array of at least one tau, got shape {taus.shape}")
    if not np.all(np.isfinite(taus)):
        raise ValueError("thresholds must all be finite")

    def fraction_above(*tasks: np.ndarray, axis: int = -1) -> np.ndarray:
        pooled = np.concatenate(tasks, axis=axis)  # (..., runs * tasks)
        above = pooled[..., None, :] > taus[:, None]  # (..., num_thresholds, runs * tasks)
        return np.moveaxis(above.mean(axis=-1), -1, 0)  # (num_thresholds, ...): scipy's layout

    fraction = fraction_above(*array.T)
    batch = max(1, min(num_resamples, 2**24 // (array.size * taus.size)))  # about 16 MB of booleans at once
    low, high = _bootstrap(
        list(array.T), fraction_above, confidence=confidence, num_resamples=num_resamples, method="percentile",
        seed=seed, batch=batch,
    )  # fmt: skip
    return Profile(taus, np.asarray(fraction, dtype=float), low, high)


def _improvement(num_tasks: int) -> Callable[..., np.ndarray]:
    """P(X > Y) + P(X = Y) / 2 averaged over tasks, from samples ``x_1, ..., x_T, y_1, ..., y_T``."""

    def probability(*samples: np.ndarray, axis: int = -1) -> np.ndarray:
        per_task = []
        for x, y in zip(samples[:num_tasks], samples[num_tasks:]):
            x, y = np.moveaxis(x, axis, -1)[..., :, None], np.moveaxis(y, axis, -1)[..., None, :]
            per_task.append(((x > y) + 0.5 * (x == y)).mean(axis=(-2, -1)))
        return np.mean(per_task, axis=0)

    return probability


def probability_of_improvement(
    x: np.ndarray,
    y: np.ndarray,
    *,
    confidence: float = 0.95,
    num_resamples: int = 2000,
    method: str = "percentile",
    seed: int = 0,
) -> Improvement:
    """How likely a run of algorithm X scores higher than a run of algorithm Y, with a bootstrap interval.

    Why: "X's mean is higher" can come from one lucky run; P(X > Y) asks how often X wins a head-to-head
    comparison of runs, and says nothing about by how much. It is the Mann-Whitney U statistic of X
    against Y divided by ``n * m``: every pair of a run of X and a run of Y counts 1 if X's is higher and
    1/2 on a tie. With several tasks it is averaged over tasks (Agarwal et al., 2021). The interval
    resamples the runs of X and of Y independently within each task; an interval above 0.5 says X is
    better more often than not, in a way that more seeds would confirm.

    Args:
        x: ``(n, num_tasks)`` or ``(n,)``, at least 2 runs; finite.
        y: ``(m, num_tasks)`` or ``(m,)``, the same tasks; ``m`` may differ from ``n``.
        confidence, num_resamples, method, seed: as in :func:`stratified_bootstrap`.

    Returns:
        ``Improvement(probability, low, high, num_runs_x, num_runs_y, num_tasks)``.
    """
    x_array, y_array = _runs_by_tasks("x", x), _runs_by_tasks("y", y)
    if x_array.shape[1] != y_array.shape[1]:
        raise ValueError(
            f"x and y must have the same tasks (second axis), got {x_array.shape[1]} and {y_array.shape[1]} "
            f"(shapes {np.shape(x)} and {np.shape(y)})"
        )
    confidence, num_resamples, seed = _bootstrap_options(confidence, num_resamples, seed)
    _validate.one_of("method", method, BOOTSTRAP_METHODS)
    num_tasks = x_array.shape[1]
    statistic = _improvement(num_tasks)
    samples = [*x_array.T, *y_array.T]
    probability = float(statistic(*samples))
    pairs = x_array.shape[0] * y_array.shape[0] * num_tasks
    low, high = _bootstrap(
        samples, statistic, confidence=confidence, num_resamples=num_resamples, method=method, seed=seed,
        batch=max(1, min(num_resamples, 2**22 // pairs)),
    )  # fmt: skip
    return Improvement(probability, float(low), float(high), x_array.shape[0], y_array.shape[0], num_tasks)
