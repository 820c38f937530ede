"""The environment contract (``envs.Environment``), kept by every environment and wrapper alike."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from course_lib import rollouts
from course_lib.agents import dqn, ppo
from course_lib.envs import AutoReset, CartPole, Environment, GridWorld, auto_reset, episodic


@pytest.mark.parametrize("env", [CartPole(), GridWorld(), auto_reset(CartPole()), auto_reset(GridWorld())])
def test_every_environment_and_wrapper_keeps_the_contract(env):
    assert isinstance(env, Environment)
    assert isinstance(env.default_params.max_steps, int)
    obs, state = env.reset(jax.random.key(0))
    assert np.shape(obs) == env.observation_shape
    out = env.step(jax.random.key(1), state, jnp.int32(0))
    assert len(out) == 6
    assert isinstance(out[5], dict)


def test_params_none_means_the_default_params():
    env = CartPole()
    _, state = env.reset(jax.random.key(0))
    by_default = env.step(jax.random.key(1), state, jnp.int32(1))
    explicit = env.step(jax.random.key(1), state, jnp.int32(1), env.default_params)
    for a, b in zip(jax.tree.leaves(by_default[:5]), jax.tree.leaves(explicit[:5])):
        assert np.array_equal(a, b)
    longer = env.default_params._replace(max_steps=1)
    assert bool(env.step(jax.random.key(1), state, jnp.int32(1), longer)[4])  # truncated: params are read


def test_auto_reset_is_idempotent_and_episodic_unwraps():
    base = CartPole()
    once = auto_reset(base)
    assert auto_reset(once) is once
    assert episodic(once) is base and episodic(base) is base
    for make_parts, config in ((dqn.make_parts, dqn.ARTICLE_CONFIG), (ppo.make_parts, ppo.PUREJAXRL_CONFIG)):
        parts = make_parts(config, env=once)
        assert isinstance(parts.env, AutoReset) and not isinstance(parts.env.env, AutoReset)


def test_run_episode_unwraps_an_auto_resetting_environment():
    def always_left(key, obs):
        return jnp.int32(0)

    plain = rollouts.run_episode(CartPole(), always_left, jax.random.key(3))
    wrapped = rollouts.run_episode(auto_reset(CartPole()), always_left, jax.random.key(3))
    assert int(plain.length) == int(wrapped.length) < 500
    assert np.array_equal(plain.states.theta, wrapped.states.theta)  # the end is the true end, not a reset


def test_run_episode_names_a_missing_time_limit():
    class NoLimit:
        pass

    with pytest.raises(TypeError, match="params must have max_steps"):
        rollouts.run_episode(CartPole(), lambda key, obs: jnp.int32(0), jax.random.key(0), params=NoLimit())
