"""A uniform replay buffer in pure JAX: pre-allocated arrays, a circular write position, uniform sampling.

    state = uniform.init(capacity, example_transition)
    state = uniform.add(state, transition)
    batch = uniform.sample(state, key, batch_size)

A transition is any pytree of arrays (a NamedTuple of obs, action, reward, ... for example). When the
buffer is full, ``add`` overwrites the oldest transition. ``sample`` draws with replacement, only from
filled slots.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from course_lib import _validate
from course_lib.buffers import _storage


class UniformBufferState(NamedTuple):
    data: Any  # the example transition's pytree, every leaf (capacity, ...)
    position: jax.Array  # () int32: the slot the next transition goes to
    size: jax.Array  # () int32: how many slots hold a transition (at most capacity)


def init(capacity: int, example_transition: Any) -> UniformBufferState:
    """An empty buffer of ``capacity`` slots shaped like ``example_transition``."""
    data = _storage.allocate(capacity, example_transition)
    return UniformBufferState(data, jnp.zeros((), jnp.int32), jnp.zeros((), jnp.int32))


def add(state: UniformBufferState, transition: Any) -> UniformBufferState:
    """Write ``transition`` into the next slot, overwriting the oldest once the buffer is full."""
    _storage.check_state(state, UniformBufferState)
    _storage.check_transition(state.data, transition)
    capacity = _storage.capacity_of(state.data)
    return UniformBufferState(
        data=_storage.write(state.data, state.position, transition),
        position=(state.position + 1) % capacity,
        size=jnp.minimum(state.size + 1, capacity),
    )


def sample(state: UniformBufferState, key: jax.Array, batch_size: int) -> Any:
    """``batch_size`` transitions drawn uniformly, with replacement, from the filled slots.

    Returns the transition pytree with every leaf ``(batch_size, ...)``.
    """
    _storage.check_state(state, UniformBufferState)
    _validate.key("key", key)
    batch_size = _storage.check_batch_size(batch_size)
    _storage.check_not_empty(state.size)
    indices = jax.random.randint(key, (batch_size,), 0, jnp.maximum(state.size, 1))
    return _storage.gather(state.data, indices)
