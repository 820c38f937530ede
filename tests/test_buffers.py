"""Replay buffers: property-based tests of what they store and what they sample."""

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib.buffers import prioritized, uniform


class Transition(NamedTuple):
    obs: jax.Array  # (2,)
    reward: jax.Array  # ()
    step: jax.Array  # () int32: the order in which it was added


def transition(i: int) -> Transition:
    return Transition(obs=jnp.full((2,), float(i)), reward=jnp.float32(-i), step=jnp.int32(i))


EXAMPLE = transition(0)
BUFFERS = {"uniform": uniform, "prioritized": prioritized}


def fill(module, capacity, count):
    add = jax.jit(module.add)
    state = module.init(capacity, EXAMPLE)
    for i in range(count):
        state = add(state, transition(i))
    return state


def sampled_steps(module, state, key, batch_size):
    result = module.sample(state, key, batch_size)
    batch = result[0] if module is prioritized else result
    return np.asarray(batch.step), batch


@pytest.mark.parametrize("name", BUFFERS)
@settings(max_examples=25, deadline=None)
@given(capacity=st.integers(1, 16), count=st.integers(1, 40), seed=st.integers(0, 2**31 - 1))
def test_never_samples_an_unfilled_slot_and_overwrites_oldest_first(name, capacity, count, seed):
    module = BUFFERS[name]
    state = fill(module, capacity, count)
    stored = set(range(max(0, count - capacity), count))  # the newest `capacity` transitions
    assert set(np.asarray(state.data.step)[: min(count, capacity)].tolist()) == stored
    assert int(state.size) == min(count, capacity) and int(state.position) == count % capacity
    steps, batch = sampled_steps(module, state, jax.random.key(seed), 64)
    assert set(steps.tolist()) <= stored
    np.testing.assert_array_equal(np.asarray(batch.obs)[:, 0], steps)  # fields stay together
    np.testing.assert_array_equal(np.asarray(batch.reward), -steps)


@settings(max_examples=10, deadline=None)
@given(count=st.integers(2, 12), seed=st.integers(0, 2**31 - 1))
def test_uniform_sampling_covers_the_filled_slots_evenly(count, seed):
    state = fill(uniform, 16, count)
    steps, _ = sampled_steps(uniform, state, jax.random.key(seed), 20_000)
    frequencies = np.bincount(steps, minlength=count) / 20_000
    bound = 5 * np.sqrt((1 / count) * (1 - 1 / count) / 20_000)
    assert np.all(np.abs(frequencies - 1 / count) < bound)


@settings(max_examples=15, deadline=None)
@given(
    priorities=st.lists(st.floats(0.01, 10.0), min_size=2, max_size=24),
    alpha=st.sampled_from([0.0, 0.6, 1.0]),
    seed=st.integers(0, 2**31 - 1),
)
def test_prioritized_sampling_frequencies_match_priority_to_the_alpha(priorities, alpha, seed):
    """Each slot's frequency over N = 100,000 draws lies within 5 standard errors
    (5 * sqrt(P (1 - P) / N)) of P(i) = p_i^alpha / sum p^alpha: a false alarm has probability
    below 1e-6 per slot under the normal approximation."""
    n = len(priorities)
    state = fill(prioritized, 32, n)._replace(alpha=jnp.float32(alpha))
    state = prioritized.update_priorities(state, jnp.arange(n), jnp.asarray(priorities))
    draws = 100_000
    _, indices, weights = prioritized.sample(state, jax.random.key(seed), draws, beta=0.5)
    expected = np.asarray(priorities, np.float64) ** alpha
    expected /= expected.sum()
    frequencies = np.bincount(np.asarray(indices), minlength=32)[:n] / draws
    assert np.bincount(np.asarray(indices), minlength=32)[n:].sum() == 0
    bound = 5 * np.sqrt(expected * (1 - expected) / draws) + 1e-6
    assert np.all(np.abs(frequencies - expected) <= bound)
    # importance weights: (N P(i))^-beta normalised by the largest possible weight
    expected_weights = (n * expected[np.asarray(indices)]) ** -0.5 / (n * expected.min()) ** -0.5
    np.testing.assert_allclose(weights, expected_weights, rtol=1e-3)
    assert float(weights.max()) <= 1.0 + 1e-6


def test_new_transitions_get_the_largest_priority_so_far():
    state = fill(prioritized, 8, 3)
    state = prioritized.update_priorities(state, jnp.array([0, 1]), jnp.array([5.0, 0.5]))
    state = prioritized.add(state, transition(3))
    np.testing.assert_allclose(state.priorities[3], 5.0**0.6, rtol=1e-6)


def test_beta_one_weights_undo_the_sampling_bias():
    """With beta = 1, the weighted mean of a sampled quantity is the uniform mean over the buffer."""
    state = fill(prioritized, 8, 8)
    state = prioritized.update_priorities(state, jnp.arange(8), jnp.arange(1.0, 9.0) ** 2)
    batch, _, weights = prioritized.sample(state, jax.random.key(0), 200_000, beta=1.0)
    weighted_mean = float((weights * batch.obs[:, 0]).sum() / weights.sum())
    assert weighted_mean == pytest.approx(3.5, abs=0.05)  # the mean of steps 0..7


@pytest.mark.parametrize("name", BUFFERS)
def test_add_and_sample_work_under_jit_and_are_reproducible(name):
    module = BUFFERS[name]
    state = fill(module, 8, 5)
    sample = jax.jit(module.sample, static_argnums=2)
    first, second = sample(state, jax.random.key(3), 4), sample(state, jax.random.key(3), 4)
    jax.tree.map(np.testing.assert_array_equal, first, second)


@pytest.mark.parametrize("name", BUFFERS)
def test_bad_input_is_named(name):
    module = BUFFERS[name]
    with pytest.raises(ValueError, match="capacity must be a whole number >= 1"):
        module.init(0, EXAMPLE)
    state = module.init(4, EXAMPLE)
    with pytest.raises(ValueError, match="cannot sample from an empty buffer"):
        module.sample(state, jax.random.key(0), 2)
    state = module.add(state, transition(1))
    with pytest.raises(ValueError, match="batch_size must be a whole number >= 1"):
        module.sample(state, jax.random.key(0), 0)
    with pytest.raises(ValueError, match="must have the structure of the example transition"):
        module.add(state, {"obs": jnp.zeros(2)})
    with pytest.raises(ValueError, match=r"transition\.obs must have shape \(2,\)"):
        module.add(state, EXAMPLE._replace(obs=jnp.zeros(3)))
    with pytest.raises(ValueError, match="example_transition must contain at least one array"):
        module.init(4, {})


def test_prioritized_bad_input_is_named():
    with pytest.raises(ValueError, match="alpha must lie in \\[0, 1\\]"):
        prioritized.init(4, EXAMPLE, alpha=1.5)
    state = fill(prioritized, 4, 2)
    with pytest.raises(ValueError, match="beta must lie"):
        prioritized.sample(state, jax.random.key(0), 2, beta=2.0)
    with pytest.raises(ValueError, match="priorities must be a finite number > 0"):
        prioritized.update_priorities(state, jnp.array([0]), jnp.array([0.0]))
    with pytest.raises(ValueError, match="priorities must have the same shape as indices"):
        prioritized.update_priorities(state, jnp.array([0, 1]), jnp.array([1.0]))
