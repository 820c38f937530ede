"""Small shared helpers: timing and learning curves."""

import matplotlib

matplotlib.use("Agg")

import jax.numpy as jnp
import numpy as np
import pytest

from course_lib import plotting
from course_lib.timing import time_call


def test_time_call_separates_the_first_call_and_counts_repeats():
    calls = []

    def work(x):
        calls.append(1)
        return jnp.sum(x)

    timing = time_call(work, jnp.arange(10.0), repeats=4)
    assert len(calls) == 5 and timing.repeats == 4
    assert timing.first >= 0 and timing.median >= 0
    assert len(timing.runs) == 4 and timing.median == np.median(timing.runs)
    with pytest.raises(ValueError, match="repeats"):
        time_call(work, jnp.arange(3.0), repeats=0)


def test_learning_curve_draws_mean_and_a_band_that_contains_it():
    fig, ax = plotting.new_axes()
    curves = np.array([[0.0, 1.0, 2.0], [2.0, 3.0, 4.0]])
    plotting.learning_curve(ax, curves, label="agent")
    np.testing.assert_allclose(ax.lines[0].get_ydata(), [1.0, 2.0, 3.0])
    band = ax.collections[0].get_paths()[0].vertices[:, 1]
    assert band.min() < 1.0 and band.max() > 3.0


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"curves": np.zeros(3)}, "curves must have shape"),
        ({"curves": np.zeros((2, 3)), "x": np.arange(4)}, "x must have shape \\(3,\\)"),
        ({"curves": np.zeros((2, 3)), "band": "iqr"}, "band must be"),
    ],
)
def test_learning_curve_rejects_bad_input(kwargs, message):
    fig, ax = plotting.new_axes()
    with pytest.raises(ValueError, match=message):
        plotting.learning_curve(ax, **kwargs)
