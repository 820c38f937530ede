"""The bandit testbed and the sample-average update."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from course_lib import bandits


def test_sample_average_update_equals_the_mean_of_the_rewards():
    rng = np.random.default_rng(0)
    actions, rewards = rng.integers(0, 5, size=200), rng.normal(size=200)
    estimates, counts = jnp.zeros(5), jnp.zeros(5, jnp.int32)
    for action, reward in zip(actions, rewards):
        estimates, counts = bandits.sample_average_update(estimates, counts, int(action), float(reward))
    for arm in range(5):
        np.testing.assert_allclose(estimates[arm], rewards[actions == arm].mean(), rtol=1e-4, atol=1e-5)
        assert int(counts[arm]) == int((actions == arm).sum())


def test_testbed_is_reproducible_and_standard_normal():
    key = jax.random.key(5)
    assert jnp.array_equal(bandits.make_testbed(key), bandits.make_testbed(key))
    means = jax.vmap(bandits.make_testbed)(jax.random.split(key, 2000))
    assert means.shape == (2000, 10)
    assert abs(float(means.mean())) < 0.03 and abs(float(means.std()) - 1.0) < 0.03


def test_pull_is_centered_on_the_arm_mean_with_unit_noise():
    arm_means = jnp.array([-1.0, 3.0])
    rewards = jax.vmap(lambda k: bandits.pull(k, arm_means, 1))(jax.random.split(jax.random.key(1), 20_000))
    assert abs(float(rewards.mean()) - 3.0) < 0.05 and abs(float(rewards.std()) - 1.0) < 0.05


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="num_arms must be a whole number >= 1"):
        bandits.make_testbed(jax.random.key(0), 0)
    with pytest.raises(ValueError, match="counts must have the same shape as estimates"):
        bandits.sample_average_update(jnp.zeros(3), jnp.zeros(4, jnp.int32), 0, 1.0)
