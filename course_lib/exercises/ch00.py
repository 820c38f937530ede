"""Checks for chapter 00, JAX for reinforcement learning."""

from __future__ import annotations

from collections.abc import Callable

import jax.numpy as jnp

from course_lib import bandits, returns
from course_lib.checking import Case, check


def check_sample_average_update(fn: Callable) -> Callable:
    """Exercise 0.1: the incremental sample-average update of one arm's estimate."""
    estimates = jnp.array([0.0, 0.5, -1.0, 2.0])
    counts = jnp.array([0, 2, 1, 4])
    cases = [
        Case("arm 1, pulled twice before, reward 2.0", (estimates, counts, 1, 2.0)),
        Case(
            "arm 0, never pulled before",
            (estimates, counts, 0, 3.0),
            hint="after its first pull an arm's estimate equals that reward (step size 1/1).",
        ),
        Case("the last arm, a negative reward", (estimates, counts, 3, -1.5)),
        Case(
            "the same arm twice in a row",
            (*bandits.sample_average_update(estimates, counts, 2, 1.0), 2, 4.0),
            hint="increment the count before you divide by it.",
        ),
    ]
    return check("Exercise 0.1 (sample_average_update)", fn, bandits.sample_average_update, cases, jit=True)


def check_discounted_returns(fn: Callable) -> Callable:
    """Exercise 0.2: discounted returns of an episode with a reverse lax.scan."""
    rewards = jnp.array([1.0, 0.0, -1.0, 2.0, 0.5])
    cases = [
        Case("five rewards, gamma = 0.9", (rewards, 0.9)),
        Case("a single reward", (jnp.array([3.0]), 0.9), hint="an episode of one step returns its only reward."),
        Case("gamma = 0", (rewards, 0.0), hint="with gamma = 0 every return is just the immediate reward."),
        Case("gamma = 1", (rewards, 1.0), hint="with gamma = 1 the return is the plain sum of the rewards to come."),
        Case(
            "a batch of 3 episodes, rewards shaped (T=4, 3)",
            (jnp.arange(12.0).reshape(4, 3), 0.5),
            hint="scan over the first (time) axis only; the other axes ride along.",
        ),
    ]
    return check("Exercise 0.2 (discounted_returns)", fn, returns.discounted_returns, cases, jit=True)
