"""A replay buffer chosen once: the uniform or the prioritized buffer behind the same four pure functions.

The training code calls ``replay.init``, ``replay.add``, ``replay.sample`` and ``replay.update`` and never
asks which buffer it has: the choice between uniform and prioritized replay is made once, when
:func:`uniform_replay` or :func:`prioritized_replay` builds the bundle, instead of at every step that
touches the buffer. (flashbax builds its buffers the same way: pure functions over explicit state.)

    replay = uniform_replay(capacity=512, batch_size=32)
    state = replay.init(example_transition)
    state = replay.add(state, transition)
    batch, indices, weights = replay.sample(state, key, step)
    state = replay.update(state, indices, td_errors)

Both buffer states keep their transitions in a field called ``data``; :func:`bookkeeping` and
:func:`with_data` split it off and put it back (see ``course_lib.agents.dqn.Learned`` for why).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp

from course_lib import _validate
from course_lib.buffers import prioritized, uniform

BufferState = Any  # uniform.UniformBufferState or prioritized.PrioritizedBufferState


@dataclass(frozen=True)
class Replay:
    """A replay buffer as four pure functions over its state.

    Attributes:
        init: ``example_transition -> state``, an empty buffer shaped like the example.
        add: ``(state, transition) -> state``.
        sample: ``(state, key, step) -> (batch, indices, weights)``: a batch (every leaf
            ``(batch_size, ...)``), the slots it came from (``None`` for uniform replay, which never
            needs them) and importance-sampling weights ``(batch_size,)`` (ones for uniform replay).
            ``step``, the environment steps taken, anneals prioritized replay's ``beta``.
        update: ``(state, indices, td_errors) -> state``: new priorities for the sampled slots
            (unchanged state for uniform replay).
    """

    init: Callable[[Any], BufferState]
    add: Callable[[BufferState, Any], BufferState]
    sample: Callable[[BufferState, jax.Array, jax.Array], tuple[Any, jax.Array | None, jax.Array]]
    update: Callable[[BufferState, jax.Array | None, jax.Array], BufferState]


def uniform_replay(
    capacity: int,
    batch_size: int,
    *,
    add: Callable[[BufferState, Any], BufferState] = uniform.add,
    sample: Callable[[BufferState, jax.Array, int], Any] = uniform.sample,
) -> Replay:
    """Uniform replay of ``capacity`` transitions, sampled ``batch_size`` at a time.

    ``add`` and ``sample`` default to :mod:`course_lib.buffers.uniform`'s; chapter 03 passes the learner's
    own ``buffer_add`` and ``buffer_sample``, which have the same signatures.
    """
    capacity = _validate.positive_int("capacity", capacity)
    batch_size = _validate.positive_int("batch_size", batch_size)
    _validate.function("add", add)
    _validate.function("sample", sample)
    ones = jnp.ones(batch_size, jnp.float32)

    def draw(state: BufferState, key: jax.Array, step: jax.Array) -> tuple[Any, None, jax.Array]:
        del step  # uniform sampling does not change over training
        return sample(state, key, batch_size), None, ones

    def keep(state: BufferState, indices: None, td_errors: jax.Array) -> BufferState:
        del indices, td_errors  # every transition stays equally likely
        return state

    return Replay(init=lambda example: uniform.init(capacity, example), add=add, sample=draw, update=keep)


def prioritized_replay(
    capacity: int,
    batch_size: int,
    *,
    alpha: float = 0.6,
    beta_start: float = 0.4,
    beta_steps: int = 1,
    priority_epsilon: float = 1e-6,
) -> Replay:
    """Proportional prioritized replay (Schaul et al. 2016).

    Args:
        alpha: how strongly priorities shape sampling, in [0, 1].
        beta_start: the importance-sampling exponent at step 0, annealed linearly to 1 at ``beta_steps``
            (the training run's length, so it never steps past it).
        priority_epsilon: added to ``|TD error|``, so a transition with a zero error is still sampled.
    """
    capacity = _validate.positive_int("capacity", capacity)
    batch_size = _validate.positive_int("batch_size", batch_size)
    _validate.in_range("alpha", alpha, 0.0, 1.0)
    _validate.in_range("beta_start", beta_start, 0.0, 1.0)
    beta_steps = _validate.positive_int("beta_steps", beta_steps)
    _validate.positive("priority_epsilon", priority_epsilon)

    def beta(step: jax.Array) -> jax.Array:
        return beta_start + (1.0 - beta_start) * (step.astype(jnp.float32) / beta_steps)

    def draw(state: BufferState, key: jax.Array, step: jax.Array) -> tuple[Any, jax.Array, jax.Array]:
        return prioritized.sample(state, key, batch_size, beta(step))

    def reprioritize(state: BufferState, indices: jax.Array, td_errors: jax.Array) -> BufferState:
        return prioritized.update_priorities(state, indices, jnp.abs(td_errors) + priority_epsilon)

    return Replay(
        init=lambda example: prioritized.init(capacity, example, alpha),
        add=prioritized.add,
        sample=draw,
        update=reprioritize,
    )


def bookkeeping(state: BufferState) -> BufferState:
    """The buffer's state without its stored transitions (``data=None``): positions, sizes, priorities."""
    return state._replace(data=None)


def with_data(bookkeeping_state: BufferState, data: Any) -> BufferState:
    """Put the stored transitions back into a state from :func:`bookkeeping`."""
    return bookkeeping_state._replace(data=data)
