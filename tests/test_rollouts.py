"""course_lib.rollouts against plain Python loops over the same environments."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from course_lib import rollouts
from course_lib.envs import CartPole, GridWorld

UP, RIGHT, DOWN, LEFT = range(4)


def leaning_policy(key, obs):
    """Push towards the lean: balances for a while, then the cart drifts off (a mid-length episode)."""
    return (obs[2] > 0).astype(jnp.int32)


def test_run_episode_matches_a_python_loop_and_freezes_after_the_end():
    env, key = CartPole(), jax.random.key(3)
    episode = jax.jit(lambda k: rollouts.run_episode(env, leaning_policy, k))(key)

    reset_key, _ = jax.random.split(key)
    obs, state = env.reset(reset_key)
    length = 0
    while True:
        obs, state, _, terminated, truncated, _ = env.step(key, state, leaning_policy(key, obs))
        length += 1
        if terminated or truncated:
            break
    assert 1 < length < 500
    assert int(episode.length) == length
    assert float(episode.rewards.sum()) == length and np.all(np.asarray(episode.rewards)[length:] == 0)
    np.testing.assert_allclose(float(episode.states.x[length - 1]), float(state.x), atol=1e-6)
    assert np.all(np.asarray(episode.states.x)[length - 1 :] == np.asarray(episode.states.x)[length - 1])


def test_gridworld_return_counts_step_penalties_and_the_goal():
    env = GridWorld(("S.#", "..G"))
    plan = jnp.array([DOWN, UP, LEFT, RIGHT, RIGHT, UP])  # by state index: 0 -> 3 -> 4 -> 5 (goal)
    episode = rollouts.run_episode(env, lambda key, obs: plan[obs], jax.random.key(0))
    assert int(episode.length) == 3
    assert float(episode.rewards.sum()) == pytest.approx(1.0 - 2 * 0.01)


def test_episode_returns_runs_episodes_side_by_side():
    returns = rollouts.episode_returns(CartPole(), lambda key, obs: jax.random.randint(key, (), 0, 2), jax.random.key(0), 16)
    assert returns.shape == (16,) and np.all(np.asarray(returns) >= 1)
    assert len(np.unique(np.asarray(returns))) > 1, "random episodes should differ"


def test_random_observations_restart_episodes():
    observations = jax.jit(rollouts.random_observations, static_argnums=(0, 2))(CartPole(), jax.random.key(0), 300)
    assert observations.shape == (300, 4)
    # Random play ends an episode every 20 steps or so; each new one starts inside (-0.05, 0.05).
    starts = np.all(np.abs(np.asarray(observations)) < 0.05, axis=1).sum()
    assert starts >= 5
