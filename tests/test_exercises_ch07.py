"""Chapter 07's checks: valid answers written differently pass; each typical mistake fails with its own hint."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.stats

from course_lib import stats
from course_lib.checking import whose_code
from course_lib.exercises import ch07
from tests.exercise_helpers import assert_verdict, not_started, run


# --- 7.1 the interquartile mean ----------------------------------------------------------------------------


def numpy_iqm(scores):
    """Valid, in NumPy: sort a copy, slice the middle."""
    ordered = np.sort(np.asarray(scores, dtype=float))
    cut = len(ordered) // 4
    return ordered[cut : len(ordered) - cut].mean()


def rank_mask_iqm(scores):
    """Valid, in JAX without slicing: keep the scores whose rank lies in the middle half."""
    scores = jnp.asarray(scores, jnp.float32)
    n = scores.shape[0]
    ranks = jnp.argsort(jnp.argsort(scores))
    keep = (ranks >= n // 4) & (ranks < n - n // 4)
    return jnp.sum(jnp.where(keep, scores, 0.0)) / jnp.sum(keep)


def scipy_iqm(scores):
    return scipy.stats.trim_mean(scores, 0.25)


def three_quarters_iqm(scores):
    ordered = np.sort(scores)
    return ordered[len(ordered) // 4 : 3 * len(ordered) // 4].mean()


def unsorted_iqm(scores):
    cut = len(scores) // 4
    return jnp.mean(jnp.asarray(scores)[cut : len(scores) - cut])


def negative_slice_iqm(scores):
    ordered = np.sort(scores)
    return ordered[len(ordered) // 4 : -(len(ordered) // 4)].mean()


def quartile_mask_iqm(scores):
    q1, q3 = np.percentile(scores, [25, 75])
    return scores[(scores >= q1) & (scores <= q3)].mean()


def in_place_iqm(scores):
    scores.sort()
    cut = len(scores) // 4
    return scores[cut : len(scores) - cut].mean()


@pytest.mark.parametrize("answer", [ch07.interquartile_mean, rank_mask_iqm])
def test_iqm_valid_jax_answers_pass_and_are_used_as_written(answer, capsys):
    assert_verdict(*run(ch07.check_interquartile_mean, answer, capsys), answer, "✅", "jax.jit and jax.vmap")


@pytest.mark.parametrize("answer", [numpy_iqm, scipy_iqm])
def test_iqm_valid_numpy_answers_pass_and_run_compiled_through_a_callback(answer, capsys):
    used, out = run(ch07.check_interquartile_mean, answer, capsys)
    assert "✅" in out and "pure_callback" in out
    rows = jnp.asarray(np.random.default_rng(0).normal(size=(4, 9)), jnp.float32)
    np.testing.assert_allclose(jax.jit(jax.vmap(used))(rows), [stats.iqm(row) for row in np.asarray(rows)], rtol=1e-6)
    assert whose_code(iqm=(used, ch07.interquartile_mean)) == "This experiment runs your iqm."


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (lambda scores: np.mean(scores), "that is the plain mean"),
        (lambda scores: jnp.median(jnp.asarray(scores)), "that is the median"),
        (lambda scores: scipy.stats.trim_mean(scores, 0.125), "an eighth from each end"),
        (three_quarters_iqm, "the top cut rounds the wrong way"),
        (unsorted_iqm, "the scores were not sorted first"),
        (negative_slice_iqm, "sorted_scores[0:-0] is empty"),
        (quartile_mask_iqm, "not by comparing with the quartile values"),
        (in_place_iqm, "changed its argument `scores` in place"),
    ],
)
def test_iqm_mistakes_fail_with_the_hint_that_names_them(answer, says, capsys):
    used, out = run(ch07.check_interquartile_mean, answer, capsys)
    assert_verdict(used, out, answer, "❌", says)
    assert used is ch07.interquartile_mean


def test_iqm_placeholder_is_not_started(capsys):
    used, out = run(ch07.check_interquartile_mean, not_started, capsys)
    assert_verdict(used, out, not_started, "⏳")
    assert used is ch07.interquartile_mean


@pytest.mark.filterwarnings("ignore:Mean of empty slice")
@pytest.mark.filterwarnings("ignore:invalid value encountered")
def test_every_iqm_mistake_is_caught_and_the_first_case_tells_them_apart():
    """A hint is found by the value a mistake gives on the failing case. Every mistake must differ from
    the reference on some case; on the first case, mistakes with different hints that differ from the
    reference there must give different values."""
    cases = ch07._iqm_cases()
    for mistake in ch07.IQM_MISTAKES:
        assert any(
            not np.isclose(mistake.fn(case.args[0]), float(ch07.interquartile_mean(case.args[0])), rtol=1e-5)
            for case in cases
        ), mistake.hint[:60]
    scores = cases[0].args[0]
    expected = float(ch07.interquartile_mean(scores))
    by_hint = {}
    for mistake in ch07.IQM_MISTAKES:
        value = round(float(mistake.fn(scores)), 3)
        if abs(value - expected) > 1e-2:  # round(n / 4) and [k:-k] are right for n = 10
            by_hint.setdefault(mistake.hint, set()).add(value)
    assert len(by_hint) == 8
    for (hint_a, a), (hint_b, b) in itertools.combinations(by_hint.items(), 2):
        assert not a & b, (hint_a[:40], hint_b[:40])


@pytest.mark.parametrize("size", range(1, 41))
def test_the_reference_iqm_is_scipy_trim_mean(size):
    scores = np.random.default_rng(size).integers(-5, 6, size).astype(np.float32)  # many ties
    assert float(ch07.interquartile_mean(scores)) == pytest.approx(scipy.stats.trim_mean(scores, 0.25), abs=1e-5)


# --- 7.2 the bootstrap interval ----------------------------------------------------------------------------


def choice_and_percent(key, scores, statistic, num_resamples, confidence):
    """Valid: draw the values themselves (choice with replacement), percentiles in percent."""
    resamples = jax.random.choice(key, scores, (num_resamples, scores.shape[0]), replace=True)
    values = jax.vmap(statistic)(resamples)
    tail = 100 * (1 - confidence) / 2
    low, high = jnp.percentile(values, jnp.array([tail, 100 - tail]))
    return low, high


def split_keys_and_sorted_index(key, scores, statistic, num_resamples, confidence):
    """Valid: one key per resample, and the quantile as the sorted value at int(p * B) (another rule)."""
    n = scores.shape[0]

    def one(k):
        return statistic(scores[jax.random.randint(k, (n,), 0, n)])

    values = jnp.sort(jax.vmap(one)(jax.random.split(key, num_resamples)))
    tail = (1 - confidence) / 2
    return jnp.array([values[int(tail * num_resamples)], values[int((1 - tail) * num_resamples) - 1]])


def without_replacement(key, scores, statistic, num_resamples, confidence):
    keys = jax.random.split(key, num_resamples)
    values = jax.vmap(lambda k: statistic(jax.random.choice(k, scores, scores.shape, replace=False)))(keys)
    tail = (1 - confidence) / 2
    return jnp.quantile(values, tail), jnp.quantile(values, 1 - tail)


def same_key_every_resample(key, scores, statistic, num_resamples, confidence):
    n = scores.shape[0]
    draw = lambda _: statistic(scores[jax.random.randint(key, (n,), 0, n)])  # noqa: E731
    values = jax.vmap(draw)(jnp.arange(num_resamples))
    tail = (1 - confidence) / 2
    return jnp.quantile(values, tail), jnp.quantile(values, 1 - tail)


def five_and_ninety_five(key, scores, statistic, num_resamples, confidence):
    values = ch07._resampled(key, scores, statistic, num_resamples)
    return jnp.quantile(values, 1 - confidence), jnp.quantile(values, confidence)


def mean_plus_minus_std(key, scores, statistic, num_resamples, confidence):
    values = ch07._resampled(key, scores, statistic, num_resamples)
    return values.mean() - values.std(), values.mean() + values.std()


def own_key(key, scores, statistic, num_resamples, confidence):
    return ch07.bootstrap_interval(jax.random.key(42), scores, statistic, num_resamples, confidence)


def key_used_twice(key, scores, statistic, num_resamples, confidence):
    n = scores.shape[0]
    values = jax.vmap(statistic)(scores[jax.random.randint(key, (num_resamples, n), 0, n)])
    jitter = 1e-6 * jax.random.normal(key, values.shape)  # the same key again
    return ch07._quantiles(values + jitter, confidence)


def numpy_quantiles(key, scores, statistic, num_resamples, confidence):
    values = ch07._resampled(key, scores, statistic, num_resamples)
    tail = 100 * (1 - confidence) / 2
    return tuple(np.percentile(np.asarray(values), [tail, 100 - tail]))


def python_loop(key, scores, statistic, num_resamples, confidence):
    n = scores.shape[0]
    values = []
    for k in jax.random.split(key, num_resamples):
        values.append(statistic(scores[jax.random.randint(k, (n,), 0, n)]))
    return ch07._quantiles(jnp.stack(values), confidence)


@pytest.mark.parametrize("answer", [ch07.bootstrap_interval, choice_and_percent, split_keys_and_sorted_index])
def test_bootstrap_valid_answers_pass(answer, capsys):
    assert_verdict(*run(ch07.check_bootstrap_interval, answer, capsys), answer, "✅", "uses each key once")


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (without_replacement, "drawn without replacement"),
        (same_key_every_resample, "every resample is the same"),
        (five_and_ninety_five, "cut 2.5 % from each end, not 5 %"),
        (mean_plus_minus_std, "mean ± one standard deviation"),
        (own_key, "the same whatever key is passed in"),
        (key_used_twice, "uses one key for two random draws"),
        (numpy_quantiles, "fails under jax.jit(jax.vmap(...))"),
        (python_loop, "runs a Python loop over the 2,000 resamples"),
    ],
)
def test_bootstrap_mistakes_fail_with_the_hint_that_names_them(answer, says, capsys):
    used, out = run(ch07.check_bootstrap_interval, answer, capsys)
    assert_verdict(used, out, answer, "❌", says)
    assert used is ch07.bootstrap_interval


def test_bootstrap_placeholder_is_not_started(capsys):
    used, out = run(ch07.check_bootstrap_interval, not_started, capsys)
    assert_verdict(used, out, not_started, "⏳")
    assert used is ch07.bootstrap_interval


def test_the_reference_bootstrap_agrees_with_the_course_library():
    """The exercise's JAX reference and course_lib.stats (scipy) give the same interval for one task, within
    the Monte-Carlo error of 4,000 resamples each (a few percent of the width)."""
    scores = np.random.default_rng(2).normal(50.0, 10.0, 12).astype(np.float32)
    low, high = ch07.bootstrap_interval(jax.random.key(0), jnp.asarray(scores), ch07.interquartile_mean, 4000, 0.9)
    library = stats.stratified_bootstrap(scores, confidence=0.9, num_resamples=4000)
    width = library.high - library.low
    assert abs(float(low) - library.low) < 0.1 * width and abs(float(high) - library.high) < 0.1 * width
