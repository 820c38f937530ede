"""Checks for chapter 07, statistics that survive (Agarwal et al., 2021).

Exercise 7.1 (the interquartile mean) is checked value by value, NumPy or JAX alike. Exercise 7.2 (a
percentile bootstrap interval) is random, so it is judged by the distribution of its two ends over
hundreds of keys, by how often its intervals cover a known mean, and by its use of each key once; never
by equality of draws. The chapter runs the learner's bootstrap on the learner's IQM, under
``jax.jit(jax.vmap(...))`` over keys; a correct IQM written in NumPy is called from compiled code through
``jax.pure_callback``, so it drives the experiment too.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from course_lib.checking import (
    Case,
    Mistake,
    Verdict,
    check,
    describe_error,
    describe_key_reuse,
    format_verdict,
    learner_line,
)

# --- Exercise 7.1: the interquartile mean. ----------------------------------------------------------------


def interquartile_mean(scores: jax.Array) -> jax.Array:
    """The reference answer of Exercise 7.1: the mean of the middle half of ``scores`` ``(n,)``.

    Sort, drop the ``n // 4`` lowest and the ``n // 4`` highest scores, and average the rest: the rule of
    ``scipy.stats.trim_mean(scores, 0.25)`` and of ``course_lib.stats.iqm``. Written in JAX, so that it
    runs under ``jax.vmap`` over bootstrap resamples.
    """
    scores = jnp.asarray(scores, jnp.float32)
    n = scores.shape[0]
    cut = n // 4
    return jnp.sort(scores)[cut : n - cut].mean()


def _sorted(scores: Any) -> np.ndarray:
    return np.sort(np.asarray(scores, dtype=float))


def _slice_mean(start: Callable[[int], int], stop: Callable[[int], int], sort: bool = True) -> Callable:
    def wrong(scores):
        values = _sorted(scores) if sort else np.asarray(scores, dtype=float)
        n = values.size
        return np.mean(values[start(n) : stop(n)])

    return wrong


def _value_mask(scores):
    values = np.asarray(scores, dtype=float)
    low, high = np.percentile(values, [25, 75])
    return np.mean(values[(values >= low) & (values <= high)])


def _weighted(scores):
    """The IQM with fractional weights at the cut points (Wikipedia's definition for n not divisible by 4)."""
    values = _sorted(scores)
    n = values.size
    rank = np.minimum(np.arange(1, n + 1), np.arange(n, 0, -1))  # 1 at either end, growing inwards
    weights = np.clip(rank - n / 4, 0.0, 1.0)
    return np.sum(weights * values) / np.sum(weights)


def _trim_eighth(scores):
    values = _sorted(scores)
    cut = int(0.125 * values.size)
    return np.mean(values[cut : values.size - cut])


_UPPER_CUT = (
    "the top cut rounds the wrong way: for n not divisible by 4, 3 * n // 4 (or -n // 4, which is (-n) // "
    "4) drops one score more at the top than at the bottom. Drop the same number from each end: keep "
    "sorted_scores[n // 4 : n - n // 4]."
)
_TOO_MANY = (
    "too many scores are dropped when n is not divisible by 4: drop n // 4 from each end (rounded down, "
    "whole scores, by their position in the sorted order), as scipy.stats.trim_mean(scores, 0.25) does; "
    "not ceil(n / 4), and not by comparing with the quartile values, which keeps a different number."
)

IQM_MISTAKES = [
    Mistake(
        "that is the plain mean of all the scores: the IQM first drops the lowest quarter and the highest "
        "quarter, then averages the middle half.",
        lambda scores: np.mean(np.asarray(scores, dtype=float)),
    ),
    Mistake(
        "that is the median, the middle one or two scores; the IQM averages the whole middle half.",
        lambda scores: np.median(np.asarray(scores, dtype=float)),
    ),
    Mistake(
        "you dropped a quarter of the scores in total, an eighth from each end: drop a quarter from each "
        "end (n // 4 lowest and n // 4 highest), which leaves the middle half.",
        _trim_eighth,
    ),
    Mistake(_UPPER_CUT, _slice_mean(lambda n: n // 4, lambda n: 3 * n // 4)),
    Mistake(_UPPER_CUT, _slice_mean(lambda n: n // 4, lambda n: -n // 4)),
    Mistake(
        "with fewer than 4 scores, n // 4 is 0 and sorted_scores[0:-0] is empty (its mean is NaN): end the "
        "slice at n - n // 4, not at -(n // 4).",
        _slice_mean(lambda n: n // 4, lambda n: -(n // 4)),
    ),
    Mistake(_TOO_MANY, _value_mask),
    Mistake(_TOO_MANY, _slice_mean(lambda n: int(np.ceil(n / 4)), lambda n: n - int(np.ceil(n / 4)))),
    Mistake(_TOO_MANY, _slice_mean(lambda n: round(n / 4), lambda n: n - round(n / 4))),
    Mistake(
        "the scores were not sorted first, so the scores you dropped are the first and last ones in the "
        "order the runs came in, not the lowest and the highest: sort them (np.sort or jnp.sort) first.",
        _slice_mean(lambda n: n // 4, lambda n: n - n // 4, sort=False),
    ),
    Mistake(
        "that is the interquartile mean with fractional weights on the scores at the cut points (as on "
        "Wikipedia), a valid definition, but not the one this course and Agarwal et al. use: "
        "scipy.stats.trim_mean(scores, 0.25) drops whole scores, n // 4 from each end, and averages the rest.",
        _weighted,
    ),
    Mistake(
        "divide by the number of scores you kept (n - 2 * (n // 4)), not by n / 2: they differ when n is "
        "not divisible by 4.",
        lambda scores: np.sum(_sorted(scores)[len(scores) // 4 : len(scores) - len(scores) // 4]) / (len(scores) / 2),
    ),
]


def _iqm_cases() -> list[Case]:
    """Unsorted scores of every size from 1 to 40, including n = 4 and sizes not divisible by 4, ties at
    CartPole's cap of 500, negative returns, integer episode lengths and a constant; the first case
    (n = 10, all distinct) tells every known mistake apart."""
    rng = np.random.default_rng(71)
    f32 = lambda values: np.asarray(values, np.float32)  # noqa: E731
    cases = [
        Case(
            "10 unsorted scores (10 is not divisible by 4: drop 2 from each end, keep 6)",
            (f32(np.round(rng.permutation(rng.normal(200.0, 80.0, 10)), 1)),),
            hint="sort the scores, drop the n // 4 lowest and the n // 4 highest, and average the rest.",
        ),
        Case("n = 4: the middle two", (f32([30.0, 10.0, 40.0, 20.0]),)),
        Case("n = 5: drop one from each end, keep 3", (f32([8.0, -2.0, 50.0, 3.0, 4.0]),)),
        Case("n = 6: drop one from each end, keep 4", (f32([6.0, 100.0, 1.0, 3.0, 2.0, 5.0]),)),
        Case("n = 7: drop one from each end, keep 5", (f32([7.0, 1.0, 3.0, 90.0, 4.0, 2.0, 5.0]),)),
        Case(
            "n = 3: nothing to drop",
            (f32([9.0, 1.0, 5.0]),),
            hint="with fewer than 4 scores, n // 4 = 0: nothing is dropped, and the IQM is the mean.",
        ),
        Case("n = 1: one seed", (f32([42.0]),), hint="with one score, the IQM is that score."),
        Case(
            "8 CartPole returns, 5 of them tied at the cap of 500",
            (f32([500.0, 500.0, 131.0, 500.0, 9.0, 500.0, 500.0, 248.0]),),
            hint="ties need no special rule: drop by position in the sorted order.",
        ),
        Case("9 negative returns (Pendulum)", (f32(np.round(rng.uniform(-1500.0, -120.0, 9), 1)),)),
        Case("11 episode lengths as integers", (rng.integers(9, 500, 11).astype(np.int32),)),
        Case("13 scores sorted from highest to lowest", (f32(np.sort(rng.normal(0.0, 1.0, 13))[::-1]),)),
        Case("6 equal scores", (f32([3.5] * 6),)),
    ]
    for size in (16, 21, 30, 33, 40):
        scores = f32(np.round(rng.gamma(2.0, 60.0, size), 2))
        cases.append(Case(f"{size} random scores", (scores,)))
    return cases


def _traceable(fn: Callable) -> bool:
    """Whether ``fn`` runs under ``jax.jit(jax.vmap(...))`` and gives the reference's values there."""
    rows = jnp.asarray(np.random.default_rng(7).normal(0.0, 1.0, (3, 10)), jnp.float32)
    try:
        got = np.asarray(jax.jit(jax.vmap(fn))(rows))
    except Exception:  # noqa: BLE001 -- NumPy code, or a Python if on values: not traceable
        return False
    return got.shape == (3,) and np.allclose(got, np.asarray(jax.vmap(interquartile_mean)(rows)), rtol=1e-5, atol=1e-5)


def _called_back(fn: Callable) -> Callable:
    """``fn`` made callable from compiled code: ``jax.pure_callback`` hands it NumPy arrays, one row at a
    time under ``jax.vmap``, and takes back a float32."""

    def host(scores: np.ndarray) -> np.ndarray:
        return np.asarray(fn(np.array(scores)), np.float32)

    @functools.wraps(fn)
    def compiled(scores: jax.Array) -> jax.Array:
        return jax.pure_callback(host, jax.ShapeDtypeStruct((), jnp.float32), jnp.asarray(scores), vmap_method="sequential")

    return compiled


def check_interquartile_mean(fn: Callable) -> Callable:
    """Exercise 7.1: ``interquartile_mean(scores) -> scalar``, the mean of the middle half of 1-D scores.

    Judged on 17 cases (every size from 1 to 7, ties, negative and integer scores, sorted and unsorted,
    random sizes up to 40) with the input unchanged. NumPy answers are correct too; the returned function
    then runs under ``jax.jit`` and ``jax.vmap`` through ``jax.pure_callback`` (Exercise 7.2 vmaps it).
    """
    title = "Exercise 7.1 (interquartile_mean)"
    traceable: dict[str, bool] = {}

    def compiled_note(learner: Callable) -> Verdict:
        traceable["yes"] = _traceable(learner)
        if traceable["yes"]:
            return Verdict("correct", "It also works under jax.jit and jax.vmap.")
        return Verdict(
            "correct",
            "It does not run under jax.jit (NumPy code, or Python on array values), so the chapter calls it "
            "from compiled code through jax.pure_callback: same numbers, slower.",
        )

    with warnings.catch_warnings():  # a learner's mean of an empty slice: the verdict says it, not a warning
        warnings.simplefilter("ignore", RuntimeWarning)
        used = check(title, fn, interquartile_mean, _iqm_cases(), rtol=1e-5, atol=1e-4, mistakes=IQM_MISTAKES,
                     then=compiled_note)  # fmt: skip
    if used is fn and not traceable.get("yes", True):
        return _called_back(fn)
    return used


# --- Exercise 7.2: a percentile bootstrap interval. --------------------------------------------------------


def _quantiles(values: jax.Array, confidence: float) -> tuple[jax.Array, jax.Array]:
    tail = (1.0 - confidence) / 2
    low, high = jnp.quantile(values, jnp.array([tail, 1.0 - tail]))
    return low, high


def _resampled(key: jax.Array, scores: jax.Array, statistic: Callable, num_resamples: int) -> jax.Array:
    """The statistic of ``num_resamples`` resamples of ``scores``, each ``n`` draws with replacement."""
    scores = jnp.asarray(scores)
    n = scores.shape[0]
    indices = jax.random.randint(key, (num_resamples, n), 0, n)
    return jax.vmap(statistic)(scores[indices])


def bootstrap_interval(
    key: jax.Array, scores: jax.Array, statistic: Callable, num_resamples: int, confidence: float
) -> tuple[jax.Array, jax.Array]:
    """The reference answer of Exercise 7.2: the percentile bootstrap interval of ``statistic(scores)``.

    Draw ``num_resamples`` resamples of the ``n`` scores with replacement (indices ``(num_resamples, n)``
    from one key), take the statistic of each (``jax.vmap``), and return the quantiles at
    ``(1 - confidence) / 2`` and ``(1 + confidence) / 2`` of those values: ``(low, high)``.
    """
    return _quantiles(_resampled(key, scores, statistic, num_resamples), confidence)


def _without_replacement(key, scores, statistic, num_resamples, confidence):
    keys = jax.random.split(key, num_resamples)
    return _quantiles(jax.vmap(lambda k: statistic(jax.random.permutation(k, scores)))(keys), confidence)


def _one_key_for_all(key, scores, statistic, num_resamples, confidence):
    n = scores.shape[0]
    values = jax.vmap(lambda _: statistic(scores[jax.random.randint(key, (n,), 0, n)]))(jnp.arange(num_resamples))
    return _quantiles(values, confidence)


def _tails_at(low_level: Callable[[float], float]) -> Callable:
    def wrong(key, scores, statistic, num_resamples, confidence):
        values = _resampled(key, scores, statistic, num_resamples)
        low, high = jnp.quantile(values, jnp.array([low_level(confidence), 1.0 - low_level(confidence)]))
        return low, high

    return wrong


def _mean_std(z: Callable[[float], float]) -> Callable:
    def wrong(key, scores, statistic, num_resamples, confidence):
        values = _resampled(key, scores, statistic, num_resamples)
        return values.mean() - z(confidence) * values.std(), values.mean() + z(confidence) * values.std()

    return wrong


def _basic(key, scores, statistic, num_resamples, confidence):
    low, high = bootstrap_interval(key, scores, statistic, num_resamples, confidence)
    estimate = statistic(jnp.asarray(scores))
    return 2 * estimate - high, 2 * estimate - low


def _percent_as_fraction(key, scores, statistic, num_resamples, confidence):
    tail = (1.0 - confidence) / 2
    low, high = jnp.percentile(_resampled(key, scores, statistic, num_resamples), jnp.array([tail, 1.0 - tail]))
    return low, high


def _swapped_axes(key, scores, statistic, num_resamples, confidence):
    n = scores.shape[0]
    indices = jax.random.randint(key, (n, num_resamples), 0, n)
    return _quantiles(jax.vmap(statistic)(jnp.asarray(scores)[indices]), confidence)


_NORMAL_Z = lambda confidence: jax.scipy.stats.norm.ppf(0.5 + confidence / 2)  # noqa: E731

BOOTSTRAP_MISTAKES = [
    Mistake(
        "your resamples are drawn without replacement: each is a reordering of the same scores, so every "
        "resample gives the same statistic and the interval has no width. Draw n indices with replacement "
        "(jax.random.randint, or jax.random.choice with replace=True).",
        _without_replacement,
    ),
    Mistake(
        "every resample is the same: drawing each resample with the same key repeats the same indices. "
        "Draw all the indices at once, shaped (num_resamples, n), or split the key into num_resamples keys "
        "and use each once.",
        _one_key_for_all,
    ),
    Mistake(
        "the interval is too narrow: for a 95 % interval, cut 2.5 % from each end, not 5 %. The tails are "
        "(1 - confidence) / 2 each: quantiles at (1 - confidence) / 2 and (1 + confidence) / 2.",
        _tails_at(lambda confidence: 1.0 - confidence),
    ),
    Mistake(
        "you cut confidence / 2 from each end, which leaves a sliver in the middle: confidence is how much "
        "the interval holds, so each tail is (1 - confidence) / 2.",
        _tails_at(lambda confidence: confidence / 2),
    ),
    Mistake(
        "you returned mean ± one standard deviation of the resampled statistics: about a 68 % interval "
        "whatever the confidence. Take the quantiles of the resampled statistics instead.",
        _mean_std(lambda confidence: 1.0),
    ),
    Mistake(
        "that is the normal approximation (mean ± z * standard deviation), symmetric by construction; on "
        "skewed scores the percentile interval is not. Take the quantiles of the resampled statistics.",
        _mean_std(_NORMAL_Z),
    ),
    Mistake(
        "that is the 'basic' bootstrap interval (2 * estimate - quantiles, reflected); this exercise asks "
        "for the percentile interval: the quantiles of the resampled statistics themselves.",
        _basic,
    ),
    Mistake(
        "jnp.percentile takes percents (2.5 and 97.5 for a 95 % interval); with fractions like 0.025 you "
        "got the extremes of the resamples. Use jnp.quantile with fractions, or jnp.percentile with percents.",
        _percent_as_fraction,
    ),
    Mistake(
        "your indices have their axes swapped: n resamples of num_resamples draws each. Each resample has "
        "as many scores as the data (n), and there are num_resamples of them: indices shaped "
        "(num_resamples, n).",
        _swapped_axes,
    ),
    Mistake(
        "use the statistic passed in (the check passes the mean, the median and the IQM), not the mean.",
        lambda key, scores, statistic, num_resamples, confidence: bootstrap_interval(
            key, scores, jnp.mean, num_resamples, confidence
        ),
    ),
    Mistake(
        "use the confidence passed in, not 0.95 (the check asks for 80 %, 90 %, 95 % and 99 % intervals).",
        lambda key, scores, statistic, num_resamples, confidence: bootstrap_interval(
            key, scores, statistic, num_resamples, 0.95
        ),
    ),
    Mistake(
        "use the num_resamples passed in, not a number of your own: with fewer resamples the interval's "
        "ends vary more from key to key, and yours do not.",
        lambda key, scores, statistic, num_resamples, confidence: bootstrap_interval(
            key, scores, statistic, 1000, confidence
        ),
    ),
    Mistake(
        "the ends are the wrong way round: return (low, high), the lower end first.",
        lambda *args: bootstrap_interval(*args)[::-1],
    ),
]

_FIXED_KEY = (
    "your interval comes out the same whatever key is passed in: draw the resamples from the key argument "
    "(not from a key of your own, such as jax.random.key(0)), so that another key gives other resamples."
)


class Setting(NamedTuple):
    """One situation for a bootstrap: the data and the arguments after the key. ``scores`` is ``(n,)``, or
    ``(num_datasets, n)`` for a coverage setting, whose data sets come from a normal with mean
    ``true_mean``. ``spread``: also compare how much the ends vary from key to key."""

    name: str
    scores: np.ndarray
    statistic: Callable
    statistic_name: str
    num_resamples: int
    confidence: float
    spread: bool = True
    true_mean: float | None = None
    hint: str = ""


NUM_KEYS = 256  # intervals per setting, each from its own key
NUM_DATASETS = 1000  # data sets in the coverage setting


def _median(scores: jax.Array) -> jax.Array:
    return jnp.median(scores)


def _mean(scores: jax.Array) -> jax.Array:
    return jnp.mean(scores)


@functools.cache
def _settings() -> tuple[Setting, ...]:
    """Every argument varied: statistics (mean, median, IQM), confidences (80 % to 99 %), resamples (50 to
    2,000), sizes (5 to 20), ties, skew and negative scores; then the coverage of a known mean."""
    rng = np.random.default_rng(72)
    f32 = lambda values: np.asarray(values, np.float32)  # noqa: E731
    skewed = f32(np.sort(np.round(rng.exponential(40.0, 12), 1)))
    skewed[-1] = 400.0  # one run far above the rest: percentile and symmetric intervals part
    return (
        Setting("16 scores, the mean, 95 %, 2,000 resamples", f32(np.round(rng.normal(100.0, 30.0, 16), 1)),
                _mean, "mean", 2000, 0.95,
                hint="draw num_resamples resamples of n scores with replacement, take the statistic of each, "
                "and return the quantiles at (1 - confidence) / 2 and (1 + confidence) / 2 of those values."),
        Setting("12 CartPole returns with ties at 500, the IQM, 90 %, 1,000 resamples",
                f32([500.0, 500.0, 131.0, 500.0, 9.0, 500.0, 500.0, 248.0, 412.0, 500.0, 77.0, 500.0]),
                interquartile_mean, "interquartile_mean", 1000, 0.9, spread=False),
        Setting("9 scores with one far outlier, the median, 80 %, 2,000 resamples",
                f32([12.0, 15.0, 9.0, 30.0, 18.0, 11.0, 250.0, 14.0, 21.0]), _median, "median", 2000, 0.8,
                spread=False),
        Setting("12 skewed scores (one run at 400), the mean, 95 %, 2,000 resamples", skewed, _mean, "mean",
                2000, 0.95, hint="on skewed scores the percentile interval is not symmetric about the mean."),
        Setting("16 scores, the mean, 90 %, only 50 resamples", f32(np.round(rng.normal(100.0, 30.0, 16), 1)),
                _mean, "mean", 50, 0.9,
                hint="with only 50 resamples the interval's ends vary much more from key to key than with "
                "2,000: use num_resamples resamples, the number passed in."),
        Setting("5 negative returns, the mean, 99 %, 1,000 resamples", f32([-310.0, -1210.0, -150.0, -870.0, -420.0]),
                _mean, "mean", 1000, 0.99),
        Setting(f"coverage: {NUM_DATASETS:,} data sets of 20 scores from a normal with mean 100, the mean, 90 %, "
                "400 resamples", f32(rng.normal(100.0, 30.0, (NUM_DATASETS, 20))), _mean, "mean", 400, 0.9,
                spread=False, true_mean=100.0),
    )  # fmt: skip


def _pair(result: Any) -> jax.Array:
    """``(low, high)`` as an array ``(..., 2)``, from a tuple or list of two or from an array ``(2,)``."""
    if isinstance(result, (tuple, list)):
        return jnp.stack([jnp.asarray(end, jnp.float32) for end in result], axis=-1)
    return jnp.asarray(result, jnp.float32)


def _ends(fn: Callable, setting: Setting, keys: jax.Array) -> np.ndarray:
    """``fn``'s intervals ``(num_keys, 2)``, one per key, compiled and batched; for a coverage setting one
    per (key, data set)."""

    def one(key: jax.Array, scores: jax.Array) -> jax.Array:
        return _pair(fn(key, scores, setting.statistic, setting.num_resamples, setting.confidence))

    in_axes = (0, None) if setting.scores.ndim == 1 else (0, 0)
    return np.asarray(jax.jit(jax.vmap(one, in_axes=in_axes))(keys, jnp.asarray(setting.scores)))


def _keys(seed: int, setting: Setting) -> jax.Array:
    """One key per interval. The RBG generator (XLA's own) rather than the default threefry: the same
    uniform draws for the learner's jax.random calls, and programs that compile in half the time."""
    count = NUM_DATASETS if setting.true_mean is not None else NUM_KEYS
    return jax.random.split(jax.random.key(seed, impl="rbg"), count)


class _Reference(NamedTuple):
    ends: np.ndarray  # (num_keys, 2)
    allowance: np.ndarray  # (2,): how far valid quantile conventions may move each end's average


@functools.cache
def _reference(index: int) -> _Reference:
    """The reference's intervals on a setting, and an allowance for quantile conventions: valid answers
    may take the quantile by another rule (interpolated, the nearest resample, ``sorted[int(p * B)]``),
    which moves an end by up to about one gap between neighbouring sorted resampled values; the allowance
    is two such gaps at that end, averaged over keys. One compiled program gives the resampled values,
    and the ends are their quantiles (``np.quantile``'s rule is ``jnp.quantile``'s)."""
    setting = _settings()[index]
    keys = _keys(1, setting)
    in_axes = (0, None) if setting.scores.ndim == 1 else (0, 0)
    resampled = jax.jit(jax.vmap(functools.partial(_resampled, statistic=setting.statistic,
                                                   num_resamples=setting.num_resamples), in_axes=in_axes))
    values = np.sort(np.asarray(resampled(keys, jnp.asarray(setting.scores)), np.float64), axis=1)  # fmt: skip
    levels = ((1 - setting.confidence) / 2, (1 + setting.confidence) / 2)
    ends = np.quantile(values, levels, axis=1).T
    last = setting.num_resamples - 1
    allowance = []
    for level in levels:
        below = int(np.floor(level * last))
        allowance.append(float(np.mean(values[:, min(below + 2, last)] - values[:, max(below - 1, 0)])))
    return _Reference(ends, np.asarray(allowance))


def _difference(setting: Setting, got: np.ndarray, want: np.ndarray, allowance: np.ndarray) -> str | None:
    """How ``got`` intervals differ in distribution from ``want`` ones on ``setting``, or None.

    Each end's average over keys must agree within 5 standard errors of a difference of two averages plus
    the allowance for quantile conventions: a correct answer fails with probability below about 1e-6 per
    end, while the 90 % interval in place of the 95 % one is off by 20 standard errors. Where the setting
    says so, each end's spread over keys must agree within a factor of 1.6 (its estimate from 256 keys is
    good to about 5 %; valid quantile rules differ by up to 1.4 with 50 resamples, and 1,000 resamples in
    place of 50 shrink it by 4.5). A coverage setting compares how often the intervals hold the true mean:
    within 4 standard errors of a difference of two frequencies, plus 1 %.
    """
    count = len(got)
    if setting.true_mean is not None:
        covers = lambda ends: float(np.mean((ends[:, 0] <= setting.true_mean) & (setting.true_mean <= ends[:, 1])))  # noqa: E731
        have, wanted = covers(got), covers(want)
        bound = 4 * np.sqrt(2 * wanted * (1 - wanted) / count) + 0.01
        if abs(have - wanted) > bound:
            return (
                f"your {setting.confidence:.0%} intervals held the true mean {setting.true_mean:g} in {have:.1%} of "
                f"the {count:,} data sets; the reference's in {wanted:.1%}"
            )
        return None
    for end, name in enumerate(("low", "high")):
        g, w = got[:, end], want[:, end]
        error = np.sqrt(g.var() / count + w.var() / count)
        if abs(g.mean() - w.mean()) > 5 * error + allowance[end] + 1e-5 * max(1.0, abs(w.mean())):
            return (
                f"over {count} keys your {name} end averaged {g.mean():.4g}; the reference's averages {w.mean():.4g} "
                f"(± {5 * error + allowance[end]:.2g})"
            )
        if setting.spread and not (w.std() / 1.6 <= g.std() <= 1.6 * w.std()):
            return (
                f"your {name} end varies from key to key by {g.std():.3g} (standard deviation over {count} keys); "
                f"the reference's by {w.std():.3g}"
            )
    return None


def _mistake_ends(setting: Setting, keys: jax.Array) -> list[np.ndarray | None]:
    """Every known mistake's intervals on ``setting``, in one compiled program (several times faster than
    compiling each on its own); one by one if some mistake does not apply to the setting."""

    def all_of_them(key: jax.Array, scores: jax.Array) -> jax.Array:
        args = (key, scores, setting.statistic, setting.num_resamples, setting.confidence)
        return jnp.stack([_pair(mistake.fn(*args)) for mistake in BOOTSTRAP_MISTAKES])

    in_axes = (0, None) if setting.scores.ndim == 1 else (0, 0)
    try:
        together = np.asarray(jax.jit(jax.vmap(all_of_them, in_axes=in_axes))(keys, jnp.asarray(setting.scores)))
        return [together[:, number] for number in range(len(BOOTSTRAP_MISTAKES))]
    except Exception:  # noqa: BLE001 -- one of them does not apply here
        pass
    ends: list[np.ndarray | None] = []
    for mistake in BOOTSTRAP_MISTAKES:
        try:
            ends.append(_ends(mistake.fn, setting, keys))
        except Exception:  # noqa: BLE001 -- a mistake that does not apply to this setting
            ends.append(None)
    return ends


def _diagnose(setting: Setting, index: int, got: np.ndarray) -> str:
    """The hint of the first known mistake whose intervals on ``setting`` are distributed as the learner's."""
    reference = _reference(index)
    for mistake, wrong in zip(BOOTSTRAP_MISTAKES, _mistake_ends(setting, _keys(1, setting))):
        if wrong is not None and _difference(setting, got, wrong, reference.allowance) is None:
            return mistake.hint
    if setting.true_mean is None and np.ptp(got, axis=0).max() == 0 and np.ptp(reference.ends, axis=0).max() > 0:
        return _FIXED_KEY
    return setting.hint


def _first_call(fn: Callable, setting: Setting, case: Case) -> Verdict | None:
    """Run ``fn`` once, op by op: not started, an error on the learner's line, or a result that is not a
    pair of numbers."""
    try:
        result = fn(jax.random.key(0), jnp.asarray(setting.scores), setting.statistic, setting.num_resamples,
                    setting.confidence)  # fmt: skip
    except NotImplementedError:
        return Verdict("not started", "")
    except Exception as error:  # noqa: BLE001 -- any learner error becomes a verdict
        return Verdict("not yet", describe_error(case, error, fn))
    try:
        shape = _pair(result).shape
    except Exception:  # noqa: BLE001 -- not numbers at all
        shape = None
    if shape != (2,):
        return Verdict(
            "not yet",
            f"On the case '{case.name}': expected a pair (low, high) of numbers, got {type(result).__name__}"
            + (f" of shape {np.shape(result)}" if shape is None or shape != () else "")
            + ".\n   Hint: return the two ends as a tuple, low first: return low, high.",
        )
    return None


def _python_loop(fn: Callable, setting: Setting, case: Case) -> Verdict | None:
    """A Python loop over resamples unrolls under jax.jit into thousands of operations: say so before the
    compiled runs, which would take minutes to compile it."""
    try:
        jaxpr = jax.make_jaxpr(
            lambda key: fn(key, jnp.asarray(setting.scores), setting.statistic, setting.num_resamples, setting.confidence)
        )(jax.random.key(0))
    except Exception:  # noqa: BLE001 -- reported by the compiled run, which names the problem
        return None
    if len(jaxpr.eqns) < 500:
        return None
    return Verdict(
        "not yet",
        f"On the case '{case.name}': your function gives values op by op, but it runs a Python loop over the "
        f"{setting.num_resamples:,} resamples, which jax.jit unrolls into {len(jaxpr.eqns):,} operations (minutes "
        "to compile).\n   Hint: draw every resample's indices at once, shaped (num_resamples, n), and apply the "
        "statistic to each row with jax.vmap(statistic).",
    )


def evaluate_bootstrap(fn: Callable) -> Verdict:
    """The verdict of :func:`check_bootstrap_interval`, without printing it."""
    if not callable(fn):
        return Verdict("not yet", f"expected a function, got {type(fn).__name__}.")
    settings = _settings()
    cases = [Case(setting.name) for setting in settings]
    problem = _first_call(fn, settings[0], cases[0]) or _python_loop(fn, settings[0], cases[0])
    if problem is not None:
        return problem
    for setting in settings[:1]:
        reused = describe_key_reuse(
            functools.wraps(fn)(lambda key: fn(key, jnp.asarray(setting.scores), setting.statistic,
                                               setting.num_resamples, setting.confidence)),
            cases[0],
        )  # fmt: skip
        if reused:
            return Verdict("not yet", reused)
    for index, (setting, case) in enumerate(zip(settings, cases)):
        try:
            got = _ends(fn, setting, _keys(0, setting))
        except Exception as error:  # noqa: BLE001
            line = learner_line(error, fn)
            where = f"\n   It happened at: {line}" if line else ""
            return Verdict(
                "not yet",
                f"Your function works op by op but fails under jax.jit(jax.vmap(...)) over keys on the case "
                f"'{case.name}': {type(error).__name__}.{where}\n   Hint: the chapter computes many intervals at "
                "once, compiled. Use jnp (jnp.quantile, not np.percentile), keep num_resamples and the shapes "
                "as Python numbers, and no Python `if` or float(...) on array values.",
            )
        if not np.all(np.isfinite(got)):
            return Verdict("not yet", f"On the case '{case.name}': some of your intervals' ends are NaN or infinite.")
        reference = _reference(index)
        difference = _difference(setting, got, reference.ends, reference.allowance)
        if difference is not None:
            hint = _diagnose(setting, index, got)
            return Verdict("not yet", f"On the case '{case.name}': {difference}." + (f"\n   Hint: {hint}" if hint else ""))
    return Verdict(
        "correct",
        f"Your intervals are distributed as the reference's on all {len(settings)} cases, over "
        f"{NUM_KEYS} keys each, under jax.jit and jax.vmap; they cover a known mean as often as they should, "
        "and your function uses each key once.",
    )


def check_bootstrap_interval(fn: Callable) -> Callable:
    """Exercise 7.2: ``bootstrap_interval(key, scores, statistic, num_resamples, confidence) -> (low,
    high)``, the percentile bootstrap interval of ``statistic(scores)`` for 1-D ``scores``.

    Judged by distribution, never by equal draws: on 6 settings (the mean, the median and the IQM; 80 %
    to 99 %; 50 to 2,000 resamples; 5 to 16 scores, ties, skew, negative scores) each end's average and
    spread over 256 keys must match the reference's, and on 1,000 normal data sets the intervals must hold
    the true mean as often as the reference's do. Run compiled and vmapped over keys, as the chapter runs
    it, and checked for a key used twice.
    """
    verdict = evaluate_bootstrap(fn)
    print(format_verdict("Exercise 7.2 (bootstrap_interval)", verdict))
    return fn if verdict.passed else bootstrap_interval
