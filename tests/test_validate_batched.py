"""_validate.check under nested vmap: one guard per program whatever the batch, and bad input still raises."""

import jax
import jax.numpy as jnp
import pytest

from course_lib import _validate


def in_unit_interval(x):
    _validate.in_range("x", x, 0.0, 1.0)
    return x * 2


def nested(fn):
    return jax.vmap(jax.vmap(fn))  # e.g. seeds around a batch of transitions


@pytest.mark.parametrize("outer", [2, 50])
def test_the_number_of_callbacks_does_not_grow_with_the_batch(outer):
    jaxpr = str(jax.make_jaxpr(nested(in_unit_interval))(jnp.zeros((outer, 8))))
    assert jaxpr.count("debug_callback[") == 1, "a check must not be unrolled over a batch"


def test_bad_input_still_raises_from_a_nested_vmap_under_jit():
    good = jax.jit(nested(in_unit_interval))(jnp.full((3, 4), 0.5))
    assert float(good.sum()) == 12.0
    with pytest.raises(Exception, match="x must lie in"):
        jax.block_until_ready(jax.jit(nested(in_unit_interval))(jnp.full((3, 4), 0.5).at[2, 1].set(1.5)))
