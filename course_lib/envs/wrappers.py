"""``auto_reset``: start a new episode inside a jitted loop, without losing the final observation.

Inside ``lax.scan`` there is no Python ``if done: reset()``. The wrapper steps the environment, and where
the episode ended (terminated or truncated) it swaps in a freshly reset state, branch-free, with
``jnp.where``. The observation it returns is then the *first observation of the next episode*; the true
final observation of the episode that just ended is kept in ``info["final_observation"]``.

Why that matters: on a *truncated* step (a time limit), the episode did not really end, so a value
target must bootstrap from ``V(final_observation)``, not from the reset observation and not from zero.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

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

        An environment that has ``reset_batch``/``step_batch`` (CartPole) draws every environment's
        restart from one key; any other is stepped with ``jax.vmap`` and one key per environment. Same
        results as ``jax.vmap(step)`` in distribution, not draw for draw (the keys are used differently).
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
        if hasattr(self.env, "reset_batch"):
            reset_obs, reset_state = self.env.reset_batch(reset_key, num_envs, params)
        else:
            reset_obs, reset_state = jax.vmap(self.env.reset, in_axes=(0, None))(
                jax.random.split(reset_key, num_envs), params
            )
        done = terminated | truncated

        def pick(fresh: jax.Array, old: jax.Array) -> jax.Array:
            return jnp.where(done.reshape(done.shape + (1,) * (old.ndim - 1)), fresh, old)

        next_state = jax.tree.map(pick, reset_state, next_state)
        info = {**info, "final_observation": obs}
        return pick(reset_obs, obs), next_state, reward, terminated, truncated, info


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
