"""Return estimators against plain NumPy loops that share no code with them."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib.returns import discounted_returns, gae, td_target


def numpy_discounted_returns(rewards, gamma):
    returns = np.zeros_like(rewards)
    future = np.zeros_like(rewards[0])
    for t in reversed(range(len(rewards))):
        future = rewards[t] + gamma * future
        returns[t] = future
    return returns


def numpy_gae(rewards, values, next_values, terminated, done, gamma, lam):
    advantages = np.zeros_like(rewards)
    next_advantage = np.zeros_like(rewards[0])
    for t in reversed(range(len(rewards))):
        delta = rewards[t] + gamma * (1.0 - terminated[t]) * next_values[t] - values[t]
        next_advantage = delta + gamma * lam * (1.0 - done[t]) * next_advantage
        advantages[t] = next_advantage
    return advantages, advantages + values


@settings(max_examples=40, deadline=None)
@given(
    length=st.integers(1, 40),
    batch=st.integers(1, 4),
    gamma=st.floats(0.0, 1.0),
    seed=st.integers(0, 2**31 - 1),
)
def test_discounted_returns_match_a_numpy_loop(length, batch, gamma, seed):
    rewards = np.random.default_rng(seed).normal(size=(length, batch)).astype(np.float32)
    np.testing.assert_allclose(
        discounted_returns(rewards, gamma), numpy_discounted_returns(rewards, gamma), rtol=1e-4, atol=1e-4
    )


def random_rollout(seed, length=64, batch=3, end_probability=0.1):
    """A rollout in which episodes end mid-way, some by termination and some by truncation."""
    rng = np.random.default_rng(seed)
    rewards = rng.normal(size=(length, batch)).astype(np.float32)
    values = rng.normal(size=(length, batch)).astype(np.float32)
    next_values = rng.normal(size=(length, batch)).astype(np.float32)
    ends = rng.random((length, batch)) < end_probability
    terminated = ends & (rng.random((length, batch)) < 0.5)
    truncated = ends & ~terminated
    return rewards, values, next_values, terminated, terminated | truncated


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("gamma, lam", [(0.99, 0.95), (0.9, 0.0), (0.99, 1.0), (1.0, 0.5)])
def test_gae_matches_a_numpy_loop(seed, gamma, lam):
    rollout = random_rollout(seed)
    terminated, done = rollout[3], rollout[4]
    assert terminated.any() and (done & ~terminated).any(), "the rollout must contain both kinds of end"
    advantages, targets = gae(*rollout, gamma, lam)
    expected_advantages, expected_targets = numpy_gae(*[np.asarray(a, np.float32) for a in rollout], gamma, lam)
    np.testing.assert_allclose(advantages, expected_advantages, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(targets, expected_targets, rtol=1e-5, atol=1e-5)


def test_gae_with_lambda_zero_is_the_one_step_td_error():
    rewards, values, next_values, terminated, done = random_rollout(7)
    advantages, _ = gae(rewards, values, next_values, terminated, done, 0.99, 0.0)
    np.testing.assert_allclose(advantages, td_target(rewards, next_values, terminated, 0.99) - values, atol=1e-6)


def test_gae_with_lambda_one_is_the_monte_carlo_advantage():
    """One terminating episode: A_t = G_t - V(s_t)."""
    rng = np.random.default_rng(3)
    rewards, values = rng.normal(size=(20,)).astype(np.float32), rng.normal(size=(20,)).astype(np.float32)
    next_values = np.append(values[1:], 123.0).astype(np.float32)  # the last next value must be ignored
    terminated = np.zeros(20, bool)
    terminated[-1] = True
    advantages, targets = gae(rewards, values, next_values, terminated, terminated, 0.97, 1.0)
    np.testing.assert_allclose(targets, numpy_discounted_returns(rewards, 0.97), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(advantages, numpy_discounted_returns(rewards, 0.97) - values, rtol=1e-5, atol=1e-5)


def test_truncation_bootstraps_and_termination_does_not():
    rewards, values = jnp.ones(1), jnp.zeros(1)
    next_value = jnp.full(1, 10.0)
    truncated_adv, _ = gae(rewards, values, next_value, jnp.array([False]), jnp.array([True]), 0.9, 0.95)
    terminated_adv, _ = gae(rewards, values, next_value, jnp.array([True]), jnp.array([True]), 0.9, 0.95)
    assert float(truncated_adv[0]) == pytest.approx(1.0 + 0.9 * 10.0)
    assert float(terminated_adv[0]) == pytest.approx(1.0)


def test_gae_under_jit_is_reproducible_and_matches_eager():
    rollout = random_rollout(11)
    eager = gae(*rollout, 0.99, 0.95)
    jitted = jax.jit(gae)
    first, second = jitted(*rollout, 0.99, 0.95), jitted(*rollout, 0.99, 0.95)
    np.testing.assert_array_equal(first[0], second[0])  # same inputs, same compiled program: identical bits
    np.testing.assert_allclose(first[0], eager[0], rtol=1e-5, atol=1e-5)  # XLA may fuse differently from eager


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: discounted_returns(jnp.ones(3), 1.5), "gamma must lie in \\[0, 1\\], got 1.5"),
        (lambda: discounted_returns(jnp.float32(1.0), 0.9), "rewards must have at least 1 dimension"),
        (lambda: gae(jnp.ones(3), jnp.ones(4), jnp.ones(3), jnp.zeros(3), jnp.zeros(3), 0.9, 0.9), "values must have the same shape"),
        (lambda: gae(jnp.ones(3), jnp.ones(3), jnp.ones(3), jnp.zeros(3), jnp.zeros(3), 0.9, -0.1), "lam must lie"),
        (lambda: td_target(1.0, 1.0, False, -1.0), "gamma must lie"),
    ],
)
def test_bad_input_is_named(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_td_target_ignores_the_next_value_after_a_termination_even_if_it_is_not_finite():
    # A diverged critic can return inf or NaN; after a termination that value must not be read at all.
    assert float(td_target(1.0, jnp.inf, True, 0.9)) == 1.0
    assert float(td_target(1.0, jnp.nan, True, 0.9)) == 1.0
    assert float(td_target(1.0, 2.0, False, 0.5)) == 2.0
