"""A bad input inside jit shows the learner one error, not also JAX's log of it with a traceback from
inside course_lib; other failing debug callbacks are still logged as JAX logs them."""

import logging

import jax
import jax.numpy as jnp
import pytest

from course_lib import returns

DEBUGGING_LOGGER = "jax._src.debugging"


def test_a_traced_bad_input_raises_once_without_a_logged_traceback(caplog):
    caplog.set_level(logging.ERROR, logger=DEBUGGING_LOGGER)
    with pytest.raises(Exception) as raised:
        jax.block_until_ready(jax.jit(returns.discounted_returns)(jnp.ones(3), 1.5))
    assert str(raised.value).strip().splitlines()[-1] == "ValueError: gamma must lie in [0, 1], got 1.5"
    assert not [r for r in caplog.records if r.name == DEBUGGING_LOGGER]


def test_another_failing_callback_is_still_logged(caplog):
    caplog.set_level(logging.ERROR, logger=DEBUGGING_LOGGER)

    def broken(x):
        raise RuntimeError("not an input check")

    with pytest.raises(Exception, match="not an input check"):
        jax.block_until_ready(jax.jit(lambda x: jax.debug.callback(broken, x))(1.0))
    assert [r for r in caplog.records if r.name == DEBUGGING_LOGGER]
