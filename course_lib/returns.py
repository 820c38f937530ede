"""Return estimators: discounted returns, one-step TD targets, and generalized advantage estimation.

All arrays are time-major: the first axis is time ``(T, ...)``; any further axes (environments, seeds)
are carried along unchanged, so the same function works for one rollout or a batch of them.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax

from course_lib import _validate


def discounted_returns(rewards: jax.Array, gamma: float | jax.Array) -> jax.Array:
    """``G_t = r_t + gamma * G_{t+1}``, with ``G_T = 0``: the discounted return from every step of one episode.

    Computed backwards with a reverse ``lax.scan``, in O(T).

    Args:
        rewards: ``(T, ...)`` float rewards of one episode (time first).
        gamma: discount in [0, 1].

    Returns:
        ``(T, ...)`` returns, same shape and dtype as ``rewards``.
    """
    _validate.ndim_at_least("rewards", rewards, 1, "time first: (T, ...)")
    _validate.finite("rewards", rewards)
    _validate.in_range("gamma", gamma, 0.0, 1.0)
    rewards = jnp.asarray(rewards)
    rewards = rewards.astype(jnp.result_type(rewards.dtype, float))  # integer rewards: a float carry

    def backwards(future_return, reward):
        g = reward + gamma * future_return
        return g, g

    _, returns = lax.scan(backwards, jnp.zeros_like(rewards[0]), rewards, reverse=True)
    return returns


def td_target(
    reward: jax.Array, next_value: jax.Array, terminated: jax.Array, gamma: float | jax.Array
) -> jax.Array:
    """One-step TD target ``r + gamma * (1 - terminated) * V(s')``.

    ``terminated`` means the episode really ended (the pole fell): there is no future, so no bootstrap.
    A time-limit truncation is *not* termination: pass ``terminated=False`` there and ``next_value`` of
    the true final observation, so the target still counts the future the time limit cut off.
    """
    _validate.in_range("gamma", gamma, 0.0, 1.0)
    _validate.broadcast_free(reward=reward, next_value=next_value, terminated=terminated)
    _validate.finite("reward", reward)
    _validate.flag("terminated", terminated)
    _validate.numeric("next_value", next_value)
    # A NaN or inf next value is only harmless where the episode terminated (it is not used there).
    _validate.check(
        jnp.logical_or(jnp.asarray(terminated, bool), jnp.isfinite(next_value)),
        "next_value must be finite where terminated is False, got {got}",
        next_value,
    )
    # where, not (1 - terminated) * next_value: after a termination the next value is not used at all,
    # so an inf or NaN there (a diverged network) cannot leak into the target.
    return reward + gamma * jnp.where(terminated, 0.0, next_value)


def gae(
    rewards: jax.Array,
    values: jax.Array,
    next_values: jax.Array,
    terminated: jax.Array,
    done: jax.Array,
    gamma: float | jax.Array,
    lam: float | jax.Array,
) -> tuple[jax.Array, jax.Array]:
    """Generalized advantage estimation (Schulman et al. 2015), as a reverse ``lax.scan``.

    ``delta_t = r_t + gamma * (1 - terminated_t) * next_values_t - values_t``
    ``A_t = delta_t + gamma * lam * (1 - done_t) * A_{t+1}``

    Args:
        rewards: ``(T, ...)`` rewards.
        values: ``(T, ...)`` ``V(s_t)``.
        next_values: ``(T, ...)`` ``V`` of the *true* next observation ``s_{t+1}`` (for a truncated step,
            the final observation before any reset).
        terminated: ``(T, ...)`` bool, the episode ended for real at step t (no bootstrap).
        done: ``(T, ...)`` bool, ``terminated or truncated``: the next step belongs to another episode,
            so advantages must not flow back across it.
        gamma: discount in [0, 1].
        lam: GAE lambda in [0, 1]; 0 gives one-step TD errors, 1 gives Monte Carlo advantages.

    Returns:
        ``(advantages, targets)``, both ``(T, ...)``; ``targets = advantages + values`` (value-function targets).
    """
    _validate.ndim_at_least("rewards", rewards, 1, "time first: (T, ...)")
    for name, array in (("values", values), ("next_values", next_values), ("terminated", terminated), ("done", done)):
        _validate.same_shape(name, array, "rewards", rewards)
    _validate.in_range("gamma", gamma, 0.0, 1.0)
    _validate.in_range("lam", lam, 0.0, 1.0)
    for name, array in (("rewards", rewards), ("values", values), ("next_values", next_values)):
        _validate.finite(name, array)
    _validate.flag("terminated", terminated)
    _validate.flag("done", done)

    rewards = jnp.asarray(rewards)
    float_dtype = jnp.result_type(rewards.dtype, float)
    not_terminated = 1.0 - jnp.asarray(terminated, float_dtype)
    not_done = 1.0 - jnp.asarray(done, float_dtype)
    deltas = rewards + gamma * not_terminated * next_values - values

    def backwards(next_advantage, step):
        delta, continues = step
        advantage = delta + gamma * lam * continues * next_advantage
        return advantage, advantage

    _, advantages = lax.scan(backwards, jnp.zeros_like(deltas[0]), (deltas, not_done), reverse=True)
    return advantages, advantages + values
