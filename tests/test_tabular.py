"""Tabular references against plain NumPy and exact probabilities."""

import jax
import jax.extend.core
import jax.numpy as jnp
import numpy as np
import pytest

from course_lib.tabular import epsilon_greedy, greedy, q_learning_update


def frequencies(fn, q_values, *args, draws=40_000, seed=0):
    keys = jax.random.split(jax.random.key(seed), draws)
    actions = jax.jit(jax.vmap(lambda k: fn(k, q_values, *args)))(keys)
    return np.bincount(np.asarray(actions), minlength=len(q_values)) / draws


@pytest.mark.parametrize("epsilon", [0.0, 0.1, 0.5, 1.0])
@pytest.mark.parametrize("q_values", [[0.0, 2.0, 1.0], [1.0, 3.0, 3.0, -1.0], [0.0, 0.0, 0.0]])
def test_epsilon_greedy_probabilities_are_exact_within_sampling_error(q_values, epsilon):
    q_values = jnp.array(q_values)
    n = len(q_values)
    best = np.asarray(q_values == q_values.max(), float)
    expected = epsilon / n + (1 - epsilon) * best / best.sum()
    bound = 5 * np.sqrt(expected * (1 - expected) / 40_000) + 1e-9  # 5 standard errors per action
    assert np.all(np.abs(frequencies(epsilon_greedy, q_values, epsilon) - expected) <= bound)


def test_epsilon_greedy_takes_a_traced_epsilon():
    """In training epsilon comes from a schedule, a traced value inside jit."""
    q_values = jnp.array([1.0, 3.0, 3.0, -1.0])
    keys = jax.random.split(jax.random.key(1), 40_000)
    actions = jax.jit(jax.vmap(epsilon_greedy, in_axes=(0, None, None)))(keys, q_values, jnp.float32(0.3))
    expected = np.array([0.075, 0.425, 0.425, 0.075])
    got = np.bincount(np.asarray(actions), minlength=4) / 40_000
    assert np.all(np.abs(got - expected) <= 5 * np.sqrt(expected * (1 - expected) / 40_000))


def random_number_calls(fn, *args) -> int:
    """Calls of JAX's random-number generator in ``fn``'s program, nested programs included."""
    def count(jaxpr) -> int:
        calls = 0
        for eqn in jaxpr.eqns:
            calls += eqn.primitive.name in ("random_bits", "random_split", "random_fold_in")
            for sub in jax.extend.core.jaxprs_in_params(eqn.params):
                calls += count(sub)
        return calls

    return count(jax.make_jaxpr(fn)(*args).jaxpr)


def test_epsilon_greedy_draws_once():
    """One call of the generator, not the coin, random action and tie-break of chapter 00's version:
    each call compiles to a loop of its own on CPU, and DQN acts inside its training loop."""
    assert random_number_calls(epsilon_greedy, jax.random.key(0), jnp.zeros(3), 0.1) == 1


def test_greedy_breaks_ties_at_random_and_returns_int32():
    action = greedy(jax.random.key(0), jnp.zeros(4))
    assert action.shape == () and action.dtype == jnp.int32
    assert np.all(frequencies(greedy, jnp.array([1.0, 1.0, 0.0])) [:2] > 0.45)


def numpy_q_update(q, s, a, r, s2, terminated, alpha, gamma):
    q = np.array(q, dtype=np.float64)
    target = r + (0.0 if terminated else gamma * q[s2].max())
    q[s, a] += alpha * (target - q[s, a])
    return q


@pytest.mark.parametrize("terminated", [False, True])
def test_q_learning_update_matches_numpy(terminated):
    rng = np.random.default_rng(0)
    q = rng.normal(size=(6, 3)).astype(np.float32)
    for s, a, r, s2 in [(0, 1, 1.0, 3), (3, 2, -0.5, 3), (5, 0, 0.0, 1)]:
        ours = q_learning_update(jnp.asarray(q), s, a, r, s2, terminated, 0.3, 0.9)
        np.testing.assert_allclose(ours, numpy_q_update(q, s, a, r, s2, terminated, 0.3, 0.9), rtol=1e-6, atol=1e-6)


def test_q_learning_update_works_under_jit():
    q = jnp.arange(12.0).reshape(4, 3)
    args = (q, 1, 2, 1.0, 3, False, 0.5, 0.9)
    np.testing.assert_allclose(jax.jit(q_learning_update)(*args), q_learning_update(*args), rtol=1e-6)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: epsilon_greedy(jax.random.key(0), jnp.zeros(3), 1.5), "epsilon must lie in \\[0, 1\\]"),
        (lambda: greedy(jax.random.key(0), jnp.zeros((2, 3))), "q_values must have shape \\(num_actions,\\)"),
        (lambda: q_learning_update(jnp.zeros(3), 0, 0, 1.0, 1, False, 0.1, 0.9), "q_table must have shape"),
        (lambda: q_learning_update(jnp.zeros((3, 2)), 0, 0, 1.0, 1, False, 2.0, 0.9), "alpha must lie"),
        (lambda: q_learning_update(jnp.zeros((3, 2)), 0, 0, 1.0, 1, False, 0.1, -0.1), "gamma must lie"),
    ],
)
def test_bad_input_is_named(call, message):
    with pytest.raises(ValueError, match=message):
        call()
