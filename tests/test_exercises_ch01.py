"""Chapter 01's checks: a correct answer written differently passes; each typical mistake is caught."""

import jax
import jax.numpy as jnp
import pytest

from course_lib import tabular
from course_lib.exercises import ch01


def split_differently(key, q_values, epsilon):
    """Correct, but uses its key differently from the reference."""
    coin_key, action_key = jax.random.split(key)
    uniform = jax.random.randint(action_key, (), 0, q_values.shape[0])
    return jnp.where(jax.random.uniform(coin_key) < epsilon, uniform, tabular.greedy(action_key, q_values))


def argmax_ties(key, q_values, epsilon):
    coin_key, action_key = jax.random.split(key)
    uniform = jax.random.randint(action_key, (), 0, q_values.shape[0])
    return jnp.where(jax.random.uniform(coin_key) < epsilon, uniform, jnp.argmax(q_values))


def explores_to_others_only(key, q_values, epsilon):
    """A common slip: the random action excludes the greedy one."""
    coin_key, action_key, greedy_key = jax.random.split(key, 3)
    best = tabular.greedy(greedy_key, q_values)
    other = (best + jax.random.randint(action_key, (), 1, q_values.shape[0])) % q_values.shape[0]
    return jnp.where(jax.random.uniform(coin_key) < epsilon, other, best)


def python_if(key, q_values, epsilon):
    coin_key, action_key, greedy_key = jax.random.split(key, 3)
    if jax.random.uniform(coin_key) < epsilon:
        return jax.random.randint(action_key, (), 0, q_values.shape[0])
    return tabular.greedy(greedy_key, q_values)


def not_started(*args):
    raise NotImplementedError


@pytest.mark.parametrize(
    "learner, status, says",
    [
        (tabular.epsilon_greedy, "✅", ""),
        (split_differently, "✅", ""),
        (argmax_ties, "❌", "break ties at random"),
        (explores_to_others_only, "❌", "the greedy one included"),
        (python_if, "❌", "jnp.where"),
        (not_started, "⏳", ""),
    ],
)
def test_epsilon_greedy_check(learner, status, says, capsys):
    used = ch01.check_epsilon_greedy(learner)
    out = " ".join(capsys.readouterr().out.split())
    assert status in out and says in out
    assert (used is learner) == (status == "✅")


def update_first(q, s, a, r, s2, terminated, alpha, gamma):
    q = q.at[s, a].set(0.0) + 0.0 * q  # overwrites before reading the next state's values
    return tabular.q_learning_update(q, s, a, r, s2, terminated, alpha, gamma)


def python_if_terminated(q, s, a, r, s2, terminated, alpha, gamma):
    """Right on concrete values, but a Python `if` on a traced value fails under jit."""
    target = r if terminated else r + gamma * q[s2].max()
    return q.at[s, a].add(alpha * (target - q[s, a]))


@pytest.mark.parametrize(
    "learner, status, says",
    [
        (tabular.q_learning_update, "✅", ""),
        (lambda q, s, a, r, s2, t, alpha, gamma: q.at[s, a].set(
            (1 - alpha) * q[s, a] + alpha * (r + gamma * (1 - t) * q[s2].max())), "✅", ""),
        (lambda q, s, a, r, s2, t, alpha, gamma: q.at[s, a].add(
            alpha * (r + gamma * q[s2].max() - q[s, a])), "❌", "terminated"),  # bootstraps past the end
        (lambda q, s, a, r, s2, t, alpha, gamma: q.at[s, a].add(
            alpha * (r + gamma * (1 - t) * q[s2].mean() - q[s, a])), "❌", "ordinary step"),  # expected SARSA-ish
        (python_if_terminated, "❌", "jnp.where"),
        (update_first, "❌", ""),
        (not_started, "⏳", ""),
    ],
)
def test_q_learning_update_check(learner, status, says, capsys):
    used = ch01.check_q_learning_update(learner)
    out = " ".join(capsys.readouterr().out.split())
    assert status in out and says in out, out
    assert (used is learner) == (status == "✅")
