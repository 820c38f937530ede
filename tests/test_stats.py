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
