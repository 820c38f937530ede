"""Running a policy in an environment: one episode, many episodes' returns, or random play.

Every chapter evaluates policies the same way, so the loop lives here once. A policy is any function
``policy(key, obs) -> action``; a greedy one ignores its key. Episodes run for the environment's
``max_steps`` inside one ``lax.scan`` (fixed shapes, so they ``jit`` and ``vmap``); after an episode
ends, the state stays frozen and rewards count as 0.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from course_lib import _validate
from course_lib.envs import Environment, auto_reset, episodic

ENV_ATTRIBUTES = ("reset", "step", "num_actions", "default_params")


def check_env(env: Any) -> None:
    """``TypeError`` for the class instead of an instance (``CartPole``, not ``CartPole()``), or anything
    that does not keep the environment contract."""
    _validate.instance("env", env, ENV_ATTRIBUTES, "an environment such as CartPole()")


def _checked_policy(policy: Policy, num_actions: int) -> Policy:
    """``policy`` with its actions checked: a policy that returns action 2 in CartPole, or a float, is a
    learner's bug that the environment would otherwise push through silently."""

    def checked(key: jax.Array, obs: jax.Array) -> jax.Array:
        action = policy(key, obs)
        name = "the action policy(key, obs) returned"
        _validate.scalar(name, action, "one action per observation")
        _validate.index(name, action, num_actions, f"the environment has {num_actions} actions")
        return action

    return checked

Policy = Callable[[jax.Array, jax.Array], jax.Array]


class Episode(NamedTuple):
    states: Any  # the state after each step, every leaf (max_steps, ...); frozen once the episode ended
    rewards: jax.Array  # (max_steps,) float32; 0 after the end
    length: jax.Array  # () int32: steps until terminated or truncated


def run_episode(env: Environment, policy: Policy, key: jax.Array, params: Any = None) -> Episode:
    """One episode of ``policy`` from ``env.reset``, stopped at termination or truncation.

    An auto-resetting ``env`` is unwrapped first (``envs.episodic``): its step would start the next
    episode and record that start as this episode's end. ``params.max_steps`` sets the scan's length."""
    check_env(env)
    _validate.function("policy", policy)
    _validate.key("key", key)
    env = episodic(env)
    policy = _checked_policy(policy, env.num_actions)
    params = env.default_params if params is None else params
    if not hasattr(params, "max_steps"):
        raise TypeError(
            f"params must have max_steps (the time limit, which sets the episode's length), got {type(params).__name__}"
        )
    reset_key, loop_key = jax.random.split(key)
    obs, state = env.reset(reset_key, params)

    def step(carry, step_key):
        obs, state, done = carry
        action_key, env_key = jax.random.split(step_key)
        next_obs, next_state, reward, terminated, truncated, _ = env.step(
            env_key, state, policy(action_key, obs), params
        )
        state = jax.tree.map(lambda new, old: jnp.where(done, old, new), next_state, state)
        obs = jnp.where(done, obs, next_obs)
        return (obs, state, done | terminated | truncated), (state, jnp.where(done, 0.0, reward), ~done)

    max_steps = _validate.positive_int("params.max_steps", params.max_steps)
    start = (obs, state, jnp.array(False))
    _, (states, rewards, running) = jax.lax.scan(step, start, jax.random.split(loop_key, max_steps))
    return Episode(states, rewards.astype(jnp.float32), running.sum().astype(jnp.int32))


def episode_returns(env: Environment, policy: Policy, key: jax.Array, num_episodes: int, params: Any = None) -> jax.Array:
    """Undiscounted returns of ``num_episodes`` episodes run side by side with ``vmap``, ``(num_episodes,)``."""
    check_env(env)
    _validate.function("policy", policy)
    _validate.key("key", key)
    num_episodes = _validate.positive_int("num_episodes", num_episodes)
    keys = jax.random.split(key, num_episodes)
    return jax.vmap(lambda k: run_episode(env, policy, k, params).rewards.sum())(keys)


def random_observations(env: Environment, key: jax.Array, num_steps: int) -> jax.Array:
    """``num_steps`` consecutive observations of uniformly random play, episodes restarting as they end.

    Returns ``(num_steps, *obs_shape)``: the observation each action was chosen from.
    """
    check_env(env)
    _validate.key("key", key)
    num_steps = _validate.positive_int("num_steps", num_steps)
    looping = auto_reset(env)

    def step(carry, step_key):
        obs, state = carry
        action_key, env_key = jax.random.split(step_key)
        action = jax.random.randint(action_key, (), 0, env.num_actions)
        next_obs, state, *_ = looping.step(env_key, state, action)
        return (next_obs, state), obs

    reset_key, loop_key = jax.random.split(key)
    _, observations = jax.lax.scan(step, looping.reset(reset_key), jax.random.split(loop_key, num_steps))
    return observations
