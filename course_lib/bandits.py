"""The k-armed bandit testbed (Sutton & Barto 2018, section 2.3), as pure JAX functions.

A bandit is the smallest reinforcement-learning problem: one state, ``k`` actions (arms), and a noisy
reward for each pull. Chapter 00 uses it to introduce JAX, because every part of RL is already there:
acting, a reward, an estimate that improves, and exploration.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from course_lib import _validate


def make_testbed(key: jax.Array, num_arms: int = 10) -> jax.Array:
    """True arm values ``q*(a) ~ Normal(0, 1)``, shape ``(num_arms,)``."""
    _validate.key("key", key)
    num_arms = _validate.positive_int("num_arms", num_arms)
    return jax.random.normal(key, (num_arms,))


def pull(key: jax.Array, arm_means: jax.Array, action: jax.Array) -> jax.Array:
    """One reward from arm ``action``: ``Normal(arm_means[action], 1)``, a float scalar."""
    _validate.key("key", key)
    _validate.ndim("arm_means", arm_means, 1, "(num_arms,)")
    _validate.finite("arm_means", arm_means)
    arm_means = jnp.asarray(arm_means)
    _validate.scalar("action", action, "one arm; use jax.vmap for a batch")
    _validate.index("action", action, arm_means.shape[0], "one of the arms")
    return arm_means[action] + jax.random.normal(key)


def sample_average_update(
    estimates: jax.Array, counts: jax.Array, action: jax.Array, reward: jax.Array
) -> tuple[jax.Array, jax.Array]:
    """Incremental sample average: ``Q[a] += (r - Q[a]) / N[a]`` after ``N[a] += 1``.

    Args:
        estimates: ``(k,)`` float, current value estimate of each arm.
        counts: ``(k,)`` int, how often each arm was pulled.
        action: int scalar, the arm just pulled.
        reward: float scalar, the reward it gave.

    Returns:
        New ``(estimates, counts)``; the inputs are not modified (JAX arrays are immutable).
    """
    _validate.ndim("estimates", estimates, 1, "(k,)")
    _validate.floating("estimates", estimates)
    _validate.same_shape("counts", counts, "estimates", estimates)
    _validate.integer("counts", counts)
    _validate.check(jnp.asarray(counts) >= 0, "counts must be >= 0, got {got}", counts)
    _validate.scalar("action", action, "the arm just pulled")
    _validate.index("action", action, jnp.shape(estimates)[0], "one of the arms")
    _validate.scalar("reward", reward)
    _validate.finite("reward", reward)
    estimates, counts = jnp.asarray(estimates), jnp.asarray(counts)
    new_counts = counts.at[action].add(1)
    step_size = 1.0 / new_counts[action]
    new_estimates = estimates.at[action].add(step_size * (reward - estimates[action]))
    return new_estimates, new_counts
