"""Chapter 00's checks: the solution and valid answers written differently pass; each typical mistake is
caught with the hint that names it; the placeholder is "not started".

The wrong answers here are written as a learner would write them, independently of the check's own
``Mistake`` functions, so the tests show that the diagnosis recognises a mistake however it is spelled.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax

from course_lib import bandits, returns
from course_lib.exercises import ch00
from tests.exercise_helpers import assert_verdict, not_started, run


# --- Exercise 0.1: sample_average_update ----------------------------------------------------------------


def average_with_where(estimates, counts, action, reward):
    """Valid: one-hot masks instead of .at."""
    pulled = jnp.arange(estimates.shape[0]) == action
    new_counts = counts + pulled.astype(counts.dtype)
    step = jnp.where(pulled, 1.0 / jnp.maximum(new_counts, 1), 0.0)
    return estimates + step * (reward - estimates), new_counts


def average_from_total(estimates, counts, action, reward):
    """Valid: rebuild the arm's total reward, add the new one, divide by the new count."""
    n = counts[action] + 1
    total = estimates[action] * counts[action] + reward
    return estimates.at[action].set(total / n), counts.at[action].set(n)


def divides_by_old_count(estimates, counts, action, reward):
    new_estimates = estimates.at[action].add((reward - estimates[action]) / jnp.maximum(counts[action], 1))
    return new_estimates, counts.at[action].add(1)


def fixed_step_size(estimates, counts, action, reward):
    alpha = 0.1
    return estimates.at[action].set(estimates[action] + alpha * (reward - estimates[action])), counts.at[action].add(1)


def keeps_last_reward(estimates, counts, action, reward):
    counts = counts.at[action].add(1)
    estimates = estimates.at[action].set(reward)
    return estimates, counts


def forgets_new_counts(estimates, counts, action, reward):
    n = counts[action] + 1
    return estimates.at[action].add((reward - estimates[action]) / n), counts


def updates_every_arm(estimates, counts, action, reward):
    counts = counts.at[action].add(1)
    return estimates + (reward - estimates) / jnp.maximum(counts, 1), counts


def counts_as_floats(estimates, counts, action, reward):
    counts = counts + jax.nn.one_hot(action, counts.shape[0])
    return estimates.at[action].add((reward - estimates[action]) / counts[action]), counts


def returns_counts_first(estimates, counts, action, reward):
    counts = counts.at[action].add(1)
    estimates = estimates.at[action].add((reward - estimates[action]) / counts[action])
    return counts, estimates


def python_int_of_action(estimates, counts, action, reward):
    """Right op by op, but int() of a traced action fails under jit and vmap."""
    a = int(action)
    counts = counts.at[a].add(1)
    return estimates.at[a].add((reward - estimates[a]) / counts[a]), counts


def assigns_in_place(estimates, counts, action, reward):
    counts[action] += 1
    estimates[action] += (reward - estimates[action]) / counts[action]
    return estimates, counts


@pytest.mark.parametrize(
    "learner, status, says",
    [
        (bandits.sample_average_update, "✅", "jax.jit and jax.vmap"),
        (average_with_where, "✅", ""),
        (average_from_total, "✅", ""),
        (divides_by_old_count, "❌", "count from before this pull"),
        (fixed_step_size, "❌", "not a constant"),
        (keeps_last_reward, "❌", "set to the last reward"),
        (forgets_new_counts, "❌", "counts come back unchanged"),
        (updates_every_arm, "❌", "Only the pulled arm"),
        (returns_counts_first, "❌", "in the order (new_estimates, new_counts)"),
        (lambda e, c, a, r: (c, e), "❌", "expected dtype float32"),  # the inputs, swapped
        (counts_as_floats, "❌", "keep them integers"),
        (python_int_of_action, "❌", "fails under jax.jit"),
        (assigns_in_place, "❌", "JAX arrays are immutable"),
        (not_started, "⏳", ""),
    ],
)
def test_sample_average_update_check(learner, status, says, capsys):
    assert_verdict(*run(ch00.check_sample_average_update, learner, capsys), learner, status, says)


# --- Exercise 0.2: discounted_returns -------------------------------------------------------------------


def scan_returns(rewards, gamma):
    def backwards(future, reward):
        current = reward + gamma * future
        return current, current

    return lax.scan(backwards, jnp.zeros_like(rewards[0]), rewards, reverse=True)[1]


def flip_scan_flip(rewards, gamma):
    """Valid: reverse time by hand, scan forwards, reverse back."""

    def step(carry, reward):
        carry = reward + gamma * carry
        return carry, carry

    _, out = lax.scan(step, jnp.zeros(rewards.shape[1:], rewards.dtype), jnp.flip(rewards, axis=0))
    return jnp.flip(out, axis=0)


def discount_matrix(rewards, gamma):
    """Valid: G = D @ r with D[t, k] = gamma^(k - t) for k >= t (no scan at all)."""
    t = jnp.arange(rewards.shape[0])
    lag = t[None, :] - t[:, None]
    weights = jnp.where(lag >= 0, jnp.asarray(gamma, rewards.dtype) ** jnp.maximum(lag, 0), 0.0)
    return jnp.tensordot(weights, rewards, axes=1)


def python_loop_returns(rewards, gamma):
    """Valid: a Python loop over the (static) number of steps, with .at updates."""
    out = jnp.zeros_like(rewards)
    future = jnp.zeros_like(rewards[0])
    for t in reversed(range(rewards.shape[0])):
        future = rewards[t] + gamma * future
        out = out.at[t].set(future)
    return out


def float_carry(rewards, gamma):
    def backwards(g, r):
        g = r + gamma * g
        return g, g

    _, gs = lax.scan(backwards, 0.0, rewards, reverse=True)
    return gs


def forwards_scan(rewards, gamma):
    def step(g, r):
        g = r + gamma * g
        return g, g

    return lax.scan(step, jnp.zeros_like(rewards[0]), rewards)[1]


def undiscounted(rewards, gamma):
    return lax.scan(lambda g, r: (g + r, g + r), jnp.zeros_like(rewards[0]), rewards, reverse=True)[1]


def discounts_the_reward_too(rewards, gamma):
    def backwards(g, r):
        g = gamma * r + gamma * g
        return g, g

    return lax.scan(backwards, jnp.zeros_like(rewards[0]), rewards, reverse=True)[1]


def emits_the_old_carry(rewards, gamma):
    def backwards(future, r):
        return r + gamma * future, future

    return lax.scan(backwards, jnp.zeros_like(rewards[0]), rewards, reverse=True)[1]


def returns_final_carry(rewards, gamma):
    g, _ = lax.scan(lambda g, r: (r + gamma * g, r + gamma * g), jnp.zeros_like(rewards[0]), rewards, reverse=True)
    return g


def flips_the_rewards_only(rewards, gamma):
    """Reverses time to scan forwards, but returns the outputs in that reversed order."""

    def step(carry, reward):
        carry = reward + gamma * carry
        return carry, carry

    _, out = lax.scan(step, jnp.zeros_like(rewards[0]), jnp.flip(rewards, axis=0))
    return out


def hard_coded_gamma(rewards, gamma):
    gamma = 0.9
    return lax.scan(lambda g, r: (r + gamma * g,) * 2, jnp.zeros_like(rewards[0]), rewards, reverse=True)[1]


def python_if_on_gamma(rewards, gamma):
    """Right op by op, but a Python `if` on gamma fails under jit."""
    if gamma == 0:
        return rewards
    return lax.scan(lambda g, r: (r + gamma * g,) * 2, jnp.zeros_like(rewards[0]), rewards, reverse=True)[1]


@pytest.mark.parametrize(
    "learner, status, says",
    [
        (returns.discounted_returns, "✅", "jax.jit"),
        (scan_returns, "✅", ""),
        (flip_scan_flip, "✅", ""),
        (discount_matrix, "✅", ""),
        (python_loop_returns, "✅", ""),
        (float_carry, "❌", "jnp.zeros_like(rewards[0])"),
        (forwards_scan, "❌", "reverse=True"),
        (lambda rewards, gamma: jnp.cumsum(rewards[::-1], axis=0)[::-1], "❌", "without discounting"),
        (undiscounted, "❌", "without discounting"),
        (discounts_the_reward_too, "❌", "only the future return"),
        (emits_the_old_carry, "❌", "emit the new carry"),
        (returns_final_carry, "❌", "return the stacked outputs"),
        (flips_the_rewards_only, "❌", "reverse the scan's outputs back"),
        (hard_coded_gamma, "❌", "the gamma argument"),
        (python_if_on_gamma, "❌", "fails under jax.jit"),
        (not_started, "⏳", ""),
    ],
)
def test_discounted_returns_check(learner, status, says, capsys):
    assert_verdict(*run(ch00.check_discounted_returns, learner, capsys), learner, status, says)


def test_float_carry_is_not_told_to_scan_over_time_only(capsys):
    """The issue's example: a Python-float carry fails on the batch case with a scan TypeError; the hint
    names the carry's shape, not the time axis."""
    _, out = run(ch00.check_discounted_returns, float_carry, capsys)
    assert "TypeError" in out and "the carry starts as a number" in out
    assert "rides along" not in out


def test_cases_vary_every_parameter_and_are_not_degenerate():
    sample = ch00._sample_average_cases()
    assert len({case.args[2] for case in sample}) >= 3  # pulled arms
    assert len({np.shape(case.args[0]) for case in sample}) >= 2  # numbers of arms
    assert len({case.args[3] for case in sample}) >= 5  # rewards
    pulled_before = {int(case.args[1][case.args[2]]) for case in sample}
    assert 0 in pulled_before and len(pulled_before) >= 4  # step sizes 1, 1/2, 1/3, ...
    discounted = ch00._discounted_returns_cases()
    assert len({case.args[1] for case in discounted}) >= 6  # gammas
    assert {0.0, 1.0} <= {case.args[1] for case in discounted}
    assert any(np.ndim(case.args[0]) == 2 for case in discounted)  # a batch riding along
    assert any(np.shape(case.args[0])[0] == 1 for case in discounted)  # one step
