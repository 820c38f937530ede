"""Checks for chapter 03, replay buffers."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp

from course_lib.buffers import prioritized, uniform
from course_lib.checking import Case, check, check_sampler


class Numbered(NamedTuple):
    """A tiny transition whose fields say which step it came from, so a sample shows where it was drawn."""

    step: jax.Array  # () int32
    obs: jax.Array  # (2,) float32


def numbered(step: int) -> Numbered:
    return Numbered(jnp.int32(step), jnp.array([step, -step], jnp.float32))


def filled(capacity: int, count: int) -> uniform.UniformBufferState:
    """A uniform buffer of ``capacity`` slots after ``count`` additions (numbered 0, 1, ...)."""
    state = uniform.init(capacity, numbered(0))
    for step in range(count):
        state = uniform.add(state, numbered(step))
    return state


def check_buffer_add(fn: Callable) -> Callable:
    """Exercise 3.1: ``buffer_add(state, transition)``: write, advance the position, count the size."""
    cases = [
        Case("the first transition into an empty buffer", (filled(4, 0), numbered(0))),
        Case("a third transition", (filled(4, 2), numbered(2))),
        Case(
            "the last free slot",
            (filled(4, 3), numbered(3)),
            hint="the position wraps around: (position + 1) % capacity, where capacity is the leading "
            "size of the data arrays.",
        ),
        Case(
            "a full buffer: overwrite the oldest",
            (filled(4, 6), numbered(6)),
            hint="once full, size stays at capacity (jnp.minimum) and the write goes to the oldest slot.",
        ),
    ]
    return check("Exercise 3.1 (buffer_add)", fn, uniform.add, cases, jit=True)


def check_buffer_sample(fn: Callable) -> Callable:
    """Exercise 3.2: ``buffer_sample(state, key, batch_size)``, checked by which slots it draws from."""

    def learner_draw(key, state):
        return fn(state, key, 1).step[0]

    def reference_draw(key, state):
        return uniform.sample(state, key, 1).step[0]

    learner_draw.__wrapped__ = fn  # errors are reported at the learner's own line

    cases = [
        Case(
            "a buffer with 3 of 8 slots filled",
            (filled(8, 3),),
            hint="draw only from the filled slots: indices in [0, state.size), not [0, capacity).",
        ),
        Case("a full buffer of 8", (filled(8, 8),)),
        Case("a full buffer that has wrapped around", (filled(8, 13),)),
    ]
    used = check_sampler("Exercise 3.2 (buffer_sample)", learner_draw, reference_draw, cases, num_outcomes=13)
    return fn if used is learner_draw else uniform.sample


def check_td_error_probabilities(fn: Callable) -> Callable:
    """Exercise 3.3: prioritized replay's sampling probabilities from TD errors."""
    errors = jnp.array([0.5, -2.0, 0.0, 1.0, -0.1])
    cases = [
        Case("alpha = 0.6", (errors, 0.6, 1e-6), hint="p_i = |delta_i| + epsilon; P(i) = p_i^alpha / sum_k p_k^alpha."),
        Case("alpha = 0: uniform", (errors, 0.0, 1e-6), hint="with alpha = 0 every transition is equally likely."),
        Case("alpha = 1: proportional", (errors, 1.0, 1e-6), hint="use the absolute TD error: a negative error is as informative."),
        Case(
            "a zero TD error with epsilon = 0.01",
            (jnp.array([0.0, 1.0]), 1.0, 0.01),
            hint="add epsilon before the power, so a zero error still has a chance.",
        ),
    ]
    return check("Exercise 3.3 (td_error_probabilities)", fn, prioritized.td_error_probabilities, cases, jit=True)
