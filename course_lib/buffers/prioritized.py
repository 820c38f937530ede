"""Proportional prioritized experience replay (Schaul et al. 2015), in pure JAX.

Transition ``i`` is sampled with probability ``P(i) = p_i^alpha / sum_k p_k^alpha``, where ``p_i`` is its
priority (usually ``|TD error| + epsilon``). Sampling non-uniformly biases the expected update, so each
sample carries an importance-sampling weight ``w_i = (N * P(i))^(-beta) / max_j w_j`` that corrects the
bias fully at ``beta = 1``; ``beta`` is annealed from about 0.4 towards 1 during training.

New transitions get the largest priority seen so far, so each is sampled at least once soon.

Sampling cost: a vectorised inverse-CDF method. Every ``sample`` call takes one cumulative sum over all
``capacity`` priorities (O(capacity), vectorised) and a binary search per draw
(O(batch_size * log capacity)). A sum tree would make the first part O(log capacity) per draw. Measured
here (2 CPU cores, a jitted ``sample`` of 32 called on its own, median of 50; uniform sampling for
comparison): capacity 10,000: 0.22 ms (uniform 0.07 ms); 100,000: 0.64 ms (0.17 ms); 1,000,000: 3.5 ms
(0.17 ms). The cumulative sum costs about 3.3 ns per slot, so at the capacities this course uses
(up to 100,000) it is small next to a network update, and the simple method wins on clarity.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from course_lib import _validate
from course_lib.buffers import _storage


class PrioritizedBufferState(NamedTuple):
    data: Any  # every leaf (capacity, ...)
    priorities: jax.Array  # (capacity,) float32: p_i^alpha; 0 in empty slots
    position: jax.Array  # () int32
    size: jax.Array  # () int32
    max_priority: jax.Array  # () float32: the largest p_i seen, given to new transitions
    alpha: jax.Array  # () float32: how strongly priorities shape sampling (0: uniform)


def init(capacity: int, example_transition: Any, alpha: float = 0.6) -> PrioritizedBufferState:
    """An empty buffer. ``alpha`` in [0, 1]: 0 samples uniformly, 1 fully in proportion to priority."""
    _validate.in_range("alpha", alpha, 0.0, 1.0)
    data = _storage.allocate(capacity, example_transition)
    capacity = _storage.capacity_of(data)
    return PrioritizedBufferState(
        data=data,
        priorities=jnp.zeros((capacity,), jnp.float32),
        position=jnp.zeros((), jnp.int32),
        size=jnp.zeros((), jnp.int32),
        max_priority=jnp.ones((), jnp.float32),
        alpha=jnp.asarray(alpha, jnp.float32),
    )


def add(state: PrioritizedBufferState, transition: Any) -> PrioritizedBufferState:
    """Write ``transition`` with the maximum priority so far; overwrite the oldest when full."""
    _storage.check_state(state, PrioritizedBufferState)
    _storage.check_transition(state.data, transition)
    capacity = _storage.capacity_of(state.data)
    return state._replace(
        data=_storage.write(state.data, state.position, transition),
        priorities=state.priorities.at[state.position].set(state.max_priority**state.alpha),
        position=(state.position + 1) % capacity,
        size=jnp.minimum(state.size + 1, capacity),
    )


def td_error_probabilities(td_errors: jax.Array, alpha: float | jax.Array, epsilon: float = 1e-6) -> jax.Array:
    """``P(i) = p_i^alpha / sum_k p_k^alpha`` with ``p_i = |td_error_i| + epsilon``; shape as ``td_errors``.

    ``epsilon`` keeps a transition with a zero TD error from never being sampled again.
    """
    _validate.in_range("alpha", alpha, 0.0, 1.0)
    _validate.finite("td_errors", td_errors)
    _validate.positive("epsilon", epsilon)
    scaled = (jnp.abs(td_errors) + epsilon) ** alpha
    return scaled / scaled.sum()


def probabilities(state: PrioritizedBufferState) -> jax.Array:
    """``P(i)`` for every slot, shape ``(capacity,)``; 0 for empty slots."""
    return state.priorities / jnp.maximum(state.priorities.sum(), jnp.finfo(jnp.float32).tiny)


def sample(
    state: PrioritizedBufferState, key: jax.Array, batch_size: int, beta: float | jax.Array = 0.4
) -> tuple[Any, jax.Array, jax.Array]:
    """Draw ``batch_size`` transitions with probability ``P(i)``, with replacement.

    Returns:
        ``(batch, indices, weights)``: the transitions (every leaf ``(batch_size, ...)``), their slots
        ``(batch_size,)`` int32 (pass them to :func:`update_priorities`), and importance-sampling weights
        ``(batch_size,)`` float32 in (0, 1], normalised by the largest possible weight.
    """
    _storage.check_state(state, PrioritizedBufferState)
    _validate.key("key", key)
    batch_size = _storage.check_batch_size(batch_size)
    _storage.check_not_empty(state.size)
    _validate.in_range("beta", beta, 0.0, 1.0)
    cumulative = jnp.cumsum(state.priorities)
    total = cumulative[-1]
    targets = jax.random.uniform(key, (batch_size,), maxval=total)
    indices = jnp.searchsorted(cumulative, targets, side="right").astype(jnp.int32)
    # Float rounding can land a draw one past the last filled slot; keep it inside.
    indices = jnp.minimum(indices, jnp.maximum(state.size, 1) - 1)

    probs = probabilities(state)
    size = jnp.maximum(state.size, 1).astype(jnp.float32)
    filled = jnp.arange(probs.shape[0]) < state.size
    smallest = jnp.min(jnp.where(filled, probs, jnp.inf))
    weights = (size * probs[indices]) ** (-beta) / (size * smallest) ** (-beta)
    return _storage.gather(state.data, indices), indices, weights.astype(jnp.float32)


def update_priorities(state: PrioritizedBufferState, indices: jax.Array, priorities: jax.Array) -> PrioritizedBufferState:
    """Set the priorities ``p_i`` of the sampled slots, e.g. to ``|TD error| + 1e-6``.

    Args:
        indices: ``(batch,)`` int, as returned by :func:`sample`.
        priorities: ``(batch,)`` positive floats (before the ``alpha`` exponent).
    """
    _storage.check_state(state, PrioritizedBufferState)
    _validate.same_shape("priorities", priorities, "indices", indices)
    _validate.index("indices", indices, _storage.capacity_of(state.data), "slots of the buffer, as sample returns them")
    _validate.positive("priorities", priorities)  # > 0 and finite: a NaN passes "<= 0" and poisons every weight
    priorities = jnp.asarray(priorities, jnp.float32)
    return state._replace(
        priorities=state.priorities.at[indices].set(priorities**state.alpha),
        max_priority=jnp.maximum(state.max_priority, priorities.max()),
    )
