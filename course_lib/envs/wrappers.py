"""``auto_reset``: start a new episode inside a jitted loop, without losing the final observation.

Inside ``lax.scan`` there is no Python ``if done: reset()``. The wrapper steps the environment, and where
the episode ended (terminated or truncated) it swaps in a freshly reset state, branch-free, with
``jnp.where``. The observation it returns is then the *first observation of the next episode*; the true
final observation of the episode that just ended is kept in ``info["final_observation"]``.

Why that matters: on a *truncated* step (a time limit), the episode did not really end, so a value
target must bootstrap from ``V(final_observation)``, not from the reset observation and not from zero.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
from jax import lax

from course_lib import _validate
from course_lib.envs.base import Environment


class AutoReset:
    """An environment whose ``step`` resets finished episodes. Same interface as the wrapped one."""

    def __init__(self, env: Environment) -> None:
        _validate.instance("env", env, ("reset", "step", "num_actions", "default_params"), "an environment such as CartPole()")
        self.env = env
        self.num_actions = env.num_actions
        self.observation_shape = env.observation_shape
        self.default_params = env.default_params

    def reset(self, key: jax.Array, params: Any = None):
        return self.env.reset(key, self.default_params if params is None else params)

    def step(self, key: jax.Array, state: Any, action: jax.Array, params: Any = None):
        """Step, then reset where ``terminated | truncated``.

        Returns:
            ``(obs, state, reward, terminated, truncated, info)`` where ``obs``/``state`` begin the next
            episode if this one ended, and ``info["final_observation"]`` is the true next observation.
        """
        params = self.default_params if params is None else params
        step_key, reset_key = jax.random.split(key)
        obs, next_state, reward, terminated, truncated, info = self.env.step(step_key, state, action, params)
        done = terminated | truncated
        reset_obs, reset_state = self.env.reset(reset_key, params)
        next_state = jax.tree.map(lambda fresh, old: jnp.where(done, fresh, old), reset_state, next_state)
        info = {**info, "final_observation": obs}
        return jnp.where(done, reset_obs, obs), next_state, reward, terminated, truncated, info


    def step_batch(self, key: jax.Array, state: Any, action: jax.Array, params: Any = None):
        """:meth:`step` for ``num_envs`` environments at once, every leaf of ``state`` and ``action``
        batched on axis 0, with one ``key`` for the whole batch.

        An environment that has ``reset_batch``/``step_batch`` (CartPole) draws the restarts from one key,
        and only as many as needed (:func:`restart_finished`); any other is stepped with ``jax.vmap`` and
        one key per environment. Same results as ``jax.vmap(step)`` in distribution, not draw for draw
        (the keys are used differently).
        """
        params = self.default_params if params is None else params
        _validate.key("key", key)
        if jnp.ndim(action) != 1:
            raise ValueError(f"action must be one action per environment, shape (num_envs,), got shape {jnp.shape(action)}")
        num_envs = jnp.shape(action)[0]
        step_key, reset_key = jax.random.split(key)
        if hasattr(self.env, "step_batch"):
            obs, next_state, reward, terminated, truncated, info = self.env.step_batch(step_key, state, action, params)
        else:
            keys = jax.random.split(step_key, num_envs)
            obs, next_state, reward, terminated, truncated, info = jax.vmap(self.env.step, in_axes=(0, 0, 0, None))(
                keys, state, action, params
            )
        done = terminated | truncated
        info = {**info, "final_observation": obs}
        if hasattr(self.env, "reset_batch"):
            next_obs, next_state = restart_finished(self.env, reset_key, done, obs, next_state, params)
            return next_obs, next_state, reward, terminated, truncated, info
        reset_obs, reset_state = jax.vmap(self.env.reset, in_axes=(0, None))(jax.random.split(reset_key, num_envs), params)
        next_obs, next_state = jax.tree.map(partial(_where_done, done), (reset_obs, reset_state), (obs, next_state))
        return next_obs, next_state, reward, terminated, truncated, info


# One step of many environments with a policy near random ends about 1 episode in 20 (CartPole's random
# episodes last 22 steps on average), so fresh starts for a sixteenth of the batch nearly always suffice.
FEW_RESTARTS_DIVISOR = 16


def restart_finished(
    env: Any, key: jax.Array, done: jax.Array, obs: jax.Array, state: Any, params: Any
) -> tuple[jax.Array, Any]:
    """``(obs, state)`` with a fresh start from ``env.reset_batch`` wherever ``done``, drawing only as many
    starts as needed.

    The uniform draws of a reset cost more than CartPole's physics (measured at 1,024 environments: the
    step runs 1.8x faster without them), and most steps end few episodes. So: no draw when nothing ended;
    a draw for ``ceil(num_envs / FEW_RESTARTS_DIVISOR)`` environments, handed out in order to the finished ones,
    when that is enough; a draw for all of them otherwise. Every finished environment gets its own,
    independent start, so the distribution is the one :meth:`reset` gives; only which draw goes where
    depends on how many finished.
    """
    num_envs = done.shape[0]
    few = -(-num_envs // FEW_RESTARTS_DIVISOR)  # ceil
    ended = jnp.sum(done, dtype=jnp.int32)

    def none() -> tuple[jax.Array, Any]:
        return obs, state

    def some() -> tuple[jax.Array, Any]:
        fresh = env.reset_batch(key, few, params)
        row = jnp.clip(jnp.cumsum(done, dtype=jnp.int32) - 1, 0, few - 1)  # the i-th finished env takes draw i
        fresh = jax.tree.map(lambda leaf: leaf[row], fresh)
        return jax.tree.map(partial(_where_done, done), fresh, (obs, state))

    def every() -> tuple[jax.Array, Any]:
        return jax.tree.map(partial(_where_done, done), env.reset_batch(key, num_envs, params), (obs, state))

    if few == num_envs:
        return lax.cond(ended > 0, every, none)
    return lax.switch((ended > 0).astype(jnp.int32) + (ended > few), [none, some, every])


def _where_done(done: jax.Array, fresh: jax.Array, old: jax.Array) -> jax.Array:
    return jnp.where(done.reshape(done.shape + (1,) * (old.ndim - 1)), fresh, old)


def auto_reset(env: Environment) -> AutoReset:
    """Wrap ``env`` so that finished episodes restart inside a jitted loop (see the module docstring).

    Idempotent: an environment that already resets itself is returned as it is, so wrapping twice never
    resets twice (which would split the key once more and hide the final observation behind a second
    ``info``)."""
    return env if isinstance(env, AutoReset) else AutoReset(env)


def episodic(env: Environment) -> Environment:
    """The environment under ``auto_reset``, whose episodes end (for evaluation and ``run_episode``);
    ``env`` itself if it does not reset by itself."""
    return env.env if isinstance(env, AutoReset) else env
