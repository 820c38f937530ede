"""course_lib.stats against independent references: the t table, a plain NumPy loop, and coverage."""

import numpy as np
import pytest

from course_lib import stats

# Two-sided 95 % Student t quantiles from a printed table (df = 1, 7, 15).
T_TABLE_95 = {1: 12.706, 7: 2.365, 15: 2.131}


@pytest.mark.parametrize("num_runs", [2, 8, 16])
def test_mean_interval_matches_the_t_table(num_runs):
    values = np.random.default_rng(num_runs).normal(100.0, 20.0, num_runs)
    interval = stats.mean_interval(values)
    standard_error = values.std(ddof=1) / np.sqrt(num_runs)
    expected_half = T_TABLE_95[num_runs - 1] * standard_error
    assert interval.mean == pytest.approx(values.mean())
    assert interval.high - interval.mean == pytest.approx(expected_half, rel=1e-3)
    assert interval.mean - interval.low == pytest.approx(expected_half, rel=1e-3)
    assert interval.num_runs == num_runs


def test_a_wider_confidence_gives_a_wider_interval():
    values = np.arange(8.0)
    narrow, wide = stats.mean_interval(values, 0.8), stats.mean_interval(values, 0.99)
    assert wide.low < narrow.low < narrow.high < wide.high


def test_the_95_percent_interval_covers_the_true_mean_about_95_percent_of_the_time():
    rng = np.random.default_rng(0)
    trials = 4_000
    covered = sum(
        interval.low <= 5.0 <= interval.high
        for interval in (stats.mean_interval(rng.normal(5.0, 3.0, 8)) for _ in range(trials))
    )
    # Binomial(4,000, 0.95) has a standard deviation of 0.0034: 0.93-0.97 is about 6 of them. The
    # normal 1.96 would cover only about 91 % with 8 runs and fail this.
    assert 0.93 < covered / trials < 0.97


def test_half_widths_match_mean_interval_point_by_point():
    curves = np.random.default_rng(1).normal(size=(8, 5))
    widths = stats.half_widths(curves)
    for point in range(5):
        interval = stats.mean_interval(curves[:, point])
        assert widths[point] == pytest.approx(interval.high - interval.mean)
    assert np.array_equal(stats.half_widths(curves[:1]), np.zeros(5))


def test_separated_needs_the_whole_interval_above():
    low = stats.Interval(mean=10.0, low=8.0, high=12.0, num_runs=8)
    assert stats.separated(stats.Interval(15.0, 12.5, 17.5, 8), low)
    assert not stats.separated(stats.Interval(15.0, 11.5, 18.5, 8), low)  # overlap
    assert not stats.separated(low, stats.Interval(15.0, 12.5, 17.5, 8))  # the wrong way round
    assert str(low) == "10.0 [8.0, 12.0]"


def test_compare_names_where_an_interval_lies():
    reference = stats.Interval(mean=10.0, low=8.0, high=12.0, num_runs=8)
    assert stats.compare(stats.Interval(15.0, 12.5, 17.5, 8), reference) == "above"
    assert stats.compare(stats.Interval(5.0, 2.5, 7.5, 8), reference) == "below"
    assert stats.compare(stats.Interval(13.0, 11.0, 15.0, 8), reference) == "overlap"
    assert stats.compare(reference, reference) == "overlap"


@pytest.mark.parametrize(
    "values, confidence, message",
    [
        ([1.0], 0.95, "at least 2 runs"),
        ([[1.0, 2.0]], 0.95, "one number per run"),
        ([1.0, np.nan], 0.95, "finite"),
        ([1.0, 2.0], 1.5, "confidence"),
        ([1.0, 2.0], 0.0, "confidence"),
    ],
)
def test_mean_interval_rejects_bad_input(values, confidence, message):
    with pytest.raises(ValueError, match=message):
        stats.mean_interval(values, confidence)


def test_half_widths_rejects_a_single_curve():
    with pytest.raises(ValueError, match="num_runs, num_points"):
        stats.half_widths(np.zeros(5))


# --- Agarwal et al. (2021): IQM, stratified bootstrap, profiles, probability of improvement. -----------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from scipy import stats as scipy_stats  # noqa: E402


@settings(max_examples=200, deadline=None)
@given(
    shape=st.lists(st.integers(1, 13), min_size=1, max_size=3),
    seed=st.integers(0, 2**32 - 1),
    ties=st.booleans(),
    axis_choice=st.integers(-1, 2),
)
def test_iqm_is_scipy_trim_mean_for_any_shape_and_axis(shape, seed, ties, axis_choice):
    rng = np.random.default_rng(seed)
    scores = rng.integers(-3, 4, shape).astype(float) if ties else rng.normal(0.0, 100.0, shape)
    axis = None if axis_choice == -1 else axis_choice % len(shape)
    expected = scipy_stats.trim_mean(scores, 0.25, axis=axis)
    np.testing.assert_allclose(stats.iqm(scores, axis=axis), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "scores, expected",
    [
        ([7.0], 7.0),  # n < 4: nothing dropped, the mean
        ([1.0, 9.0], 5.0),
        ([3.0, 1.0, 2.0], 2.0),
        ([4.0, 1.0, 3.0, 2.0], 2.5),  # n = 4: the middle two
        ([5.0, 1.0, 100.0, 3.0, 2.0], 10 / 3),  # n = 5 drops 1 per side: keeps 2, 3, 5
        ([1.0, 2.0, 3.0, 4.0, 5.0, 100.0], 3.5),  # n = 6 drops 1 per side: keeps 2..5
        ([-9.0, -1.0, -2.0, -3.0, -4.0, -5.0, -6.0, -7.0, -8.0], -5.0),  # n = 9 drops 2 per side
        ([500.0, 500.0, 500.0, 9.0, 500.0, 120.0, 500.0, 500.0], 500.0),  # ties at a cap
    ],
)
def test_iqm_worked_examples(scores, expected):
    assert stats.iqm(scores) == pytest.approx(expected)


def test_iqm_does_not_reorder_its_input():
    scores = np.array([3.0, 1.0, 2.0, 5.0, 4.0])
    stats.iqm(scores)
    assert np.array_equal(scores, [3.0, 1.0, 2.0, 5.0, 4.0])


def loop_bootstrap(scores, statistic, confidence, num_resamples, seed):
    """A plain NumPy stratified percentile bootstrap: resample each task's runs with replacement, pool,
    take the statistic; the interval's ends are the quantiles of the resampled statistic."""
    scores = np.asarray(scores, float).reshape(len(scores), -1)
    rng = np.random.default_rng(seed)
    num_runs, num_tasks = scores.shape
    values = np.empty(num_resamples)
    for b in range(num_resamples):
        pooled = [scores[rng.integers(0, num_runs, num_runs), task] for task in range(num_tasks)]
        values[b] = statistic(np.concatenate(pooled), axis=-1)
    tail = (1 - confidence) / 2
    return values, np.quantile(values, [tail, 1 - tail])


def monte_carlo_bound(values, level, num_resamples):
    """5 standard errors of the difference of two independent estimates of the ``level`` quantile, each
    from ``num_resamples`` draws: a sample quantile's standard error is sqrt(p (1 - p) / B) / f(q), with
    the density f at the quantile estimated from the resampled values (the spread of the quantiles at
    p +- 0.02). Two correct implementations differ by more with probability below about 1e-6."""
    spread = np.quantile(values, min(level + 0.02, 1)) - np.quantile(values, max(level - 0.02, 0))
    density = 0.04 / max(spread, 1e-12)
    standard_error = np.sqrt(level * (1 - level) / num_resamples) / density
    return 5 * np.sqrt(2) * standard_error


@pytest.mark.parametrize(
    "statistic, shape, confidence",
    [(stats.iqm, (10, 3), 0.95), (np.mean, (8, 2), 0.9), (stats.iqm, (13,), 0.8), (np.mean, (6, 4), 0.99)],
)
def test_stratified_bootstrap_agrees_with_a_plain_numpy_loop(statistic, shape, confidence):
    rng = np.random.default_rng(sum(shape))
    scores = rng.normal(0.0, 1.0, shape) * rng.uniform(1, 20, shape[1:]) + rng.uniform(-50, 50, shape[1:])
    num_resamples = 4000
    values, (loop_low, loop_high) = loop_bootstrap(scores, statistic, confidence, num_resamples, seed=1)
    ours = stats.stratified_bootstrap(scores, statistic, confidence=confidence, num_resamples=num_resamples)
    tail = (1 - confidence) / 2
    assert ours.estimate == pytest.approx(statistic(np.asarray(scores).T.reshape(-1), axis=-1))
    assert abs(ours.low - loop_low) < monte_carlo_bound(values, tail, num_resamples)
    assert abs(ours.high - loop_high) < monte_carlo_bound(values, 1 - tail, num_resamples)
    assert (ours.num_runs, ours.num_tasks) == (shape[0], shape[1] if len(shape) > 1 else 1)


def test_the_bootstrap_is_stratified_by_task():
    """Two tasks on scales 0 and 100: resampling within each task keeps both in every resample, so the
    interval of the mean reflects the spread within tasks (about 1). Resampling the pooled runs would
    mix the tasks in random proportions and give an interval about 60 wide."""
    rng = np.random.default_rng(3)
    scores = np.stack([rng.normal(0.0, 1.0, 6), rng.normal(100.0, 1.0, 6)], axis=1)
    interval = stats.stratified_bootstrap(scores, np.mean)
    assert interval.low < interval.estimate < interval.high
    assert interval.high - interval.low < 3.0


def test_a_fixed_seed_gives_identical_numbers_and_another_seed_others():
    scores = np.random.default_rng(4).normal(size=(9, 2))
    first, again = stats.stratified_bootstrap(scores, seed=7), stats.stratified_bootstrap(scores, seed=7)
    assert first == again
    assert stats.stratified_bootstrap(scores, seed=8) != first
    x, y = scores[:, :1], scores[:, 1:] + 0.3
    assert stats.probability_of_improvement(x, y, seed=2) == stats.probability_of_improvement(x, y, seed=2)
    profile, again = stats.performance_profile(scores, seed=5), stats.performance_profile(scores, seed=5)
    assert all(np.array_equal(a, b) for a, b in zip(profile, again))


def test_two_thousand_resamples_keep_the_ends_stable_to_a_few_percent_of_the_width():
    """What the docstring of stratified_bootstrap promises for its default num_resamples."""
    scores = np.random.default_rng(5).normal(size=16)
    intervals = [stats.stratified_bootstrap(scores, seed=seed) for seed in range(30)]
    width = np.mean([i.high - i.low for i in intervals])
    assert np.std([i.low for i in intervals]) < 0.04 * width
    assert np.std([i.high for i in intervals]) < 0.04 * width


def test_the_bootstrap_interval_covers_the_true_mean_about_as_often_as_it_should():
    """400 experiments of 20 runs from N(5, 3^2). The percentile interval of a mean is about 1.91
    standard errors each side at n = 20 (the normal 1.96 times the plug-in sqrt(19/20)), so it covers
    P(|t_19| < 1.91) = 93 % of the time, not 95 %. Binomial(400, 0.93) has a standard deviation of 1.3
    %: 0.89-0.97 is 3 of them. Quantiles cut at 5 % and 95 % (a 90 % interval) would cover about 88 %,
    and resampling without replacement 0 %."""
    rng = np.random.default_rng(6)
    trials = 400
    covered = 0
    for trial in range(trials):
        interval = stats.stratified_bootstrap(rng.normal(5.0, 3.0, 20), np.mean, num_resamples=500, seed=trial)
        covered += interval.low <= 5.0 <= interval.high
    assert 0.89 < covered / trials < 0.97


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(2, 12), m=st.integers(2, 12), num_tasks=st.integers(1, 3), seed=st.integers(0, 2**32 - 1)
)
def test_probability_of_improvement_is_mann_whitney_u_over_pairs(n, m, num_tasks, seed):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 6, (n, num_tasks)).astype(float)  # small integers: many ties
    y = rng.integers(0, 6, (m, num_tasks)).astype(float)
    u = [scipy_stats.mannwhitneyu(x[:, t], y[:, t]).statistic for t in range(num_tasks)]
    result = stats.probability_of_improvement(x, y, num_resamples=200)
    assert result.probability == pytest.approx(np.mean(u) / (n * m))
    assert result.low <= result.probability <= result.high or result.low == result.high
    reverse = stats.probability_of_improvement(y, x, num_resamples=200)
    assert result.probability + reverse.probability == pytest.approx(1.0)  # ties split evenly
    assert (result.num_runs_x, result.num_runs_y, result.num_tasks) == (n, m, num_tasks)


def test_probability_of_improvement_interval_agrees_with_a_plain_numpy_loop():
    rng = np.random.default_rng(7)
    x, y = rng.normal(0.3, 1.0, (10, 2)), rng.normal(0.0, 1.0, (7, 2))
    num_resamples, confidence = 3000, 0.95
    draw = np.random.default_rng(8)
    values = np.empty(num_resamples)
    for b in range(num_resamples):
        per_task = []
        for task in range(2):
            xs = x[draw.integers(0, 10, 10), task]
            ys = y[draw.integers(0, 7, 7), task]
            per_task.append(np.mean([(a > c) + 0.5 * (a == c) for a in xs for c in ys]))
        values[b] = np.mean(per_task)
    loop_low, loop_high = np.quantile(values, [0.025, 0.975])
    ours = stats.probability_of_improvement(x, y, confidence=confidence, num_resamples=num_resamples)
    assert abs(ours.low - loop_low) < monte_carlo_bound(values, 0.025, num_resamples)
    assert abs(ours.high - loop_high) < monte_carlo_bound(values, 0.975, num_resamples)


def test_performance_profile_counts_runs_above_each_threshold_and_bands_agree_with_a_loop():
    rng = np.random.default_rng(9)
    scores = rng.normal(0.0, 1.0, (12, 2)) + np.array([0.0, 1.0])
    taus = np.array([-2.0, -0.5, 0.0, 0.5, 1.0, 3.0, 10.0])
    profile = stats.performance_profile(scores, taus, num_resamples=4000)
    expected = [(scores[:, 0] > tau).mean() / 2 + (scores[:, 1] > tau).mean() / 2 for tau in taus]
    np.testing.assert_allclose(profile.fraction, expected)
    assert np.all(np.diff(profile.fraction) <= 0)
    assert np.all(profile.low <= profile.fraction + 1e-12) and np.all(profile.fraction <= profile.high + 1e-12)
    assert profile.low[-1] == profile.high[-1] == 0.0  # nobody above 10: every resample agrees
    draw = np.random.default_rng(10)
    fractions = np.empty((4000, taus.size))
    for b in range(4000):
        pooled = np.concatenate([scores[draw.integers(0, 12, 12), task] for task in range(2)])
        fractions[b] = [(pooled > tau).mean() for tau in taus]
    loop_low, loop_high = np.quantile(fractions, [0.025, 0.975], axis=0)
    # Fractions move in steps of 1/24; a quantile of such a distribution from 4,000 draws lands on the
    # same step or a neighbour.
    np.testing.assert_allclose(profile.low, loop_low, atol=1 / 24 + 1e-9)
    np.testing.assert_allclose(profile.high, loop_high, atol=1 / 24 + 1e-9)
    default = stats.performance_profile(scores[:, 0])
    assert default.thresholds.shape == (101,) and default.fraction[0] == pytest.approx(11 / 12)


def test_bca_and_basic_methods_run_and_bracket_the_estimate():
    scores = np.random.default_rng(11).exponential(10.0, (12, 2))
    for method in ("BCa", "basic"):
        interval = stats.stratified_bootstrap(scores, np.mean, method=method)
        assert interval.low < interval.estimate < interval.high


def test_separated_and_compare_accept_bootstrap_intervals():
    high = stats.BootstrapInterval(estimate=20.0, low=15.0, high=25.0, num_runs=8, num_tasks=1)
    low = stats.Interval(mean=10.0, low=8.0, high=12.0, num_runs=8)
    assert stats.separated(high, low) and stats.compare(low, high) == "below"
    assert str(high) == "20.0 [15.0, 25.0]"
    with pytest.raises(TypeError, match="interval"):
        stats.separated((20.0, 15.0, 25.0), low)


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: stats.iqm([]), ValueError, "at least one score"),
        (lambda: stats.iqm([1.0, np.nan]), ValueError, "finite"),
        (lambda: stats.iqm("scores"), TypeError, "scores must be a number"),
        (lambda: stats.iqm(np.zeros((3, 0)), axis=1), ValueError, "at least one score"),
        (lambda: stats.iqm(np.zeros((3, 2)), axis=2), ValueError, "axis must name one of the 2 axes"),
        (lambda: stats.iqm(np.zeros(3), axis=0.5), TypeError, "axis must be an int"),
        (lambda: stats.stratified_bootstrap([1.0]), ValueError, "scores must have shape .* at least 2 runs"),
        (lambda: stats.stratified_bootstrap(np.zeros((3, 2, 2))), ValueError, "scores must have shape"),
        (lambda: stats.stratified_bootstrap([1.0, np.inf]), ValueError, "scores must all be finite"),
        (lambda: stats.stratified_bootstrap([1.0, 2.0], "iqm"), TypeError, "statistic must be a function"),
        (lambda: stats.stratified_bootstrap([1.0, 2.0], lambda s: s.mean()), TypeError, "statistic must be called as"),
        (lambda: stats.stratified_bootstrap([1.0, 2.0], lambda s, axis: s), ValueError, "statistic must reduce"),
        (lambda: stats.stratified_bootstrap([1.0, 2.0], confidence=95), ValueError, "confidence must lie in"),
        (lambda: stats.stratified_bootstrap([1.0, 2.0], confidence=[0.9]), ValueError, "confidence must be a scalar"),
        (lambda: stats.stratified_bootstrap([1.0, 2.0], num_resamples=10), ValueError, "num_resamples must be at least 100"),
        (lambda: stats.stratified_bootstrap([1.0, 2.0], num_resamples=2000.0), ValueError, "num_resamples must be a whole"),
        (lambda: stats.stratified_bootstrap([1.0, 2.0], method="bca"), ValueError, "method must be one of"),
        (lambda: stats.stratified_bootstrap([1.0, 2.0], seed=-1), ValueError, "seed must be a whole number"),
        (lambda: stats.performance_profile([1.0, 2.0], [[0.0]]), ValueError, "thresholds must be a 1-D"),
        (lambda: stats.performance_profile([1.0, 2.0], [np.nan]), ValueError, "thresholds must all be finite"),
        (lambda: stats.probability_of_improvement(np.zeros((3, 2)), np.zeros((3, 1))), ValueError, "same tasks"),
        (lambda: stats.probability_of_improvement([1.0, 2.0], [1.0]), ValueError, "y must have shape"),
        (lambda: stats.probability_of_improvement([1.0, np.nan], [1.0, 2.0]), ValueError, "x must all be finite"),
    ],
)
def test_the_new_statistics_name_the_bad_argument(call, error, message):
    with pytest.raises(error, match=message):
        call()
