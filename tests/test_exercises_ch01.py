"""Chapter 01's checks: the solution and valid answers written differently pass; each typical mistake is
caught with the hint that names it; the placeholder is "not started".

The wrong answers here are written as a learner would write them, independently of the check's own
``Mistake`` functions, so the tests show that the diagnosis recognises a mistake however it is spelled.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax

from course_lib import tabular
from course_lib.exercises import ch01
from tests.exercise_helpers import assert_verdict, not_started, run


# --- Exercise 1.1: epsilon_greedy -----------------------------------------------------------------------


def three_keys_in_another_order(key, q_values, epsilon):
    """Valid: three keys, each used once, in another order and with other draws than the reference's."""
    greedy_key, coin_key, pick_key = jax.random.split(key, 3)
    explore = jax.random.bernoulli(coin_key, epsilon)
    random_action = jax.random.choice(pick_key, q_values.shape[0])
    return jnp.where(explore, random_action, tabular.greedy(greedy_key, q_values))


def one_categorical_draw(key, q_values, epsilon):
    """Valid: one draw from the epsilon-greedy probabilities (the issue's example of a correct answer that
    draws differently)."""
    is_best = q_values == jnp.max(q_values)
    probs = epsilon / q_values.shape[0] + (1 - epsilon) * is_best / is_best.sum()
    return jax.random.categorical(key, jnp.log(probs))


def with_lax_cond_and_fold_in(key, q_values, epsilon):
    """Valid: lax.cond for the two branches, keys derived with fold_in."""
    explore = jax.random.uniform(jax.random.fold_in(key, 0)) < epsilon
    return lax.cond(
        explore,
        lambda: jax.random.randint(jax.random.fold_in(key, 1), (), 0, q_values.shape[0]),
        lambda: tabular.greedy(jax.random.fold_in(key, 2), q_values),
    )


def coin_key_reused_for_the_action(key, q_values, epsilon):
    """Looks right one call at a time: the coin and the random action come from the same key."""
    key, greedy_key = jax.random.split(key)
    explore = jax.random.uniform(key) < epsilon
    random_action = jax.random.randint(key, (), 0, q_values.shape[0])
    return jnp.where(explore, random_action, tabular.greedy(greedy_key, q_values))


def no_split_at_all(key, q_values, epsilon):
    if_random = jax.random.randint(key, (), 0, len(q_values))
    return jnp.where(jax.random.uniform(key) < epsilon, if_random, tabular.greedy(key, q_values))


def action_key_shared_by_both_branches(key, q_values, epsilon):
    """Each part not used once: the random action and the tie-break share a key."""
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
    others = jnp.where(jnp.arange(q_values.shape[0]) == best, -jnp.inf, 0.0)
    return jnp.where(jax.random.uniform(coin_key) < epsilon, jax.random.categorical(action_key, others), best)


def never_explores(key, q_values, epsilon):
    return tabular.greedy(key, q_values)


def explores_when_above_epsilon(key, q_values, epsilon):
    coin_key, action_key, greedy_key = jax.random.split(key, 3)
    random_action = jax.random.randint(action_key, (), 0, q_values.shape[0])
    return jnp.where(jax.random.uniform(coin_key) > epsilon, random_action, tabular.greedy(greedy_key, q_values))


def randint_maxval_off_by_one(key, q_values, epsilon):
    coin_key, action_key, greedy_key = jax.random.split(key, 3)
    random_action = jax.random.randint(action_key, (), 0, q_values.shape[0] - 1)
    return jnp.where(jax.random.uniform(coin_key) < epsilon, random_action, tabular.greedy(greedy_key, q_values))


def four_actions_hard_coded(key, q_values, epsilon):
    coin_key, action_key, greedy_key = jax.random.split(key, 3)
    random_action = jax.random.randint(action_key, (), 0, 4)
    return jnp.where(jax.random.uniform(coin_key) < epsilon, random_action, tabular.greedy(greedy_key, q_values))


def epsilon_hard_coded(key, q_values, epsilon):
    coin_key, action_key, greedy_key = jax.random.split(key, 3)
    random_action = jax.random.randint(action_key, (), 0, q_values.shape[0])
    return jnp.where(jax.random.uniform(coin_key) < 0.1, random_action, tabular.greedy(greedy_key, q_values))


def python_if(key, q_values, epsilon):
    coin_key, action_key, greedy_key = jax.random.split(key, 3)
    if jax.random.uniform(coin_key) < epsilon:
        return jax.random.randint(action_key, (), 0, q_values.shape[0])
    return tabular.greedy(greedy_key, q_values)


@pytest.mark.parametrize(
    "learner, status, says",
    [
        (tabular.epsilon_greedy, "✅", ""),
        (three_keys_in_another_order, "✅", ""),
        (one_categorical_draw, "✅", ""),
        (with_lax_cond_and_fold_in, "✅", ""),
        (coin_key_reused_for_the_action, "❌", "uses one key for two random draws"),
        (no_split_at_all, "❌", "uses one key for two random draws"),
        (action_key_shared_by_both_branches, "❌", "uses one key for two random draws"),
        (argmax_ties, "❌", "jnp.argmax picks the first of tied actions"),
        (explores_to_others_only, "❌", "never the greedy one"),
        (never_explores, "❌", "never explores"),
        (explores_when_above_epsilon, "❌", "probability 1 - epsilon"),
        (randint_maxval_off_by_one, "❌", "maxval is exclusive"),
        (four_actions_hard_coded, "❌", "from q_values.shape"),
        (epsilon_hard_coded, "❌", "use the epsilon argument"),
        (python_if, "❌", "fails under jax.vmap"),
        (not_started, "⏳", ""),
    ],
)
def test_epsilon_greedy_check(learner, status, says, capsys):
    assert_verdict(*run(ch01.check_epsilon_greedy, learner, capsys), learner, status, says)


def test_key_reuse_is_not_given_a_tie_breaking_hint(capsys):
    """The issue's example: one key for the coin and the tie-break gets the hint about keys, with the line."""
    _, out = run(ch01.check_epsilon_greedy, no_split_at_all, capsys)
    assert "break ties" not in out and "It happened at: line" in out


def test_epsilon_greedy_cases_are_not_degenerate():
    cases = ch01._epsilon_greedy_cases()
    epsilons = {float(case.args[1]) for case in cases}
    assert {0.0, 1.0} <= epsilons and len(epsilons) >= 6 and 0.5 not in epsilons
    assert {case.args[0].shape[0] for case in cases} == {6}  # not 4, the maze's number of actions
    best_columns = {int(jnp.argmax(case.args[0])) for case in cases}
    assert len(best_columns) >= 3
    assert sum(int(jnp.sum(case.args[0] == case.args[0].max())) > 1 for case in cases) >= 3  # ties


# --- Exercise 1.2: q_learning_update --------------------------------------------------------------------


def blend_with_mask_arithmetic(q, s, a, r, s2, t, alpha, gamma):
    """Valid: (1 - alpha) Q + alpha target, with the mask as arithmetic."""
    return q.at[s, a].set((1 - alpha) * q[s, a] + alpha * (r + gamma * (1 - t) * q[s2].max()))


def with_lax_cond_and_one_hot(q, s, a, r, s2, t, alpha, gamma):
    """Valid: lax.cond on terminated, and a one-hot mask instead of .at."""
    target = lax.cond(t, lambda: jnp.asarray(r, q.dtype), lambda: r + gamma * jnp.max(q[s2]))
    mask = jax.nn.one_hot(s, q.shape[0])[:, None] * jax.nn.one_hot(a, q.shape[1])[None, :]
    return q + mask * alpha * (target - q[s, a])


def bootstraps_past_the_end(q, s, a, r, s2, t, alpha, gamma):
    return q.at[s, a].add(alpha * (r + gamma * q[s2].max() - q[s, a]))


def mask_inverted(q, s, a, r, s2, t, alpha, gamma):
    target = jnp.where(t, r + gamma * q[s2].max(), r)
    return q.at[s, a].add(alpha * (target - q[s, a]))


def sarsa_like(q, s, a, r, s2, t, alpha, gamma):
    target = r + gamma * (1 - t) * q[s2, a]
    return q.at[s, a].add(alpha * (target - q[s, a]))


def mean_of_next(q, s, a, r, s2, t, alpha, gamma):
    return q.at[s, a].add(alpha * (r + gamma * (1 - t) * q[s2].mean() - q[s, a]))


def max_of_current_state(q, s, a, r, s2, t, alpha, gamma):
    return q.at[s, a].add(alpha * (r + gamma * (1 - t) * jnp.max(q[s]) - q[s, a]))


def max_of_whole_table(q, s, a, r, s2, t, alpha, gamma):
    return q.at[s, a].add(alpha * (r + gamma * (1 - t) * jnp.max(q) - q[s, a]))


def column_of_next_state(q, s, a, r, s2, t, alpha, gamma):
    return q.at[s, a].add(alpha * (r + gamma * (1 - t) * q[:, s2].max() - q[s, a]))


def no_step_size(q, s, a, r, s2, t, alpha, gamma):
    return q.at[s, a].set(r + gamma * jnp.where(t, 0.0, q[s2].max()))


def gamma_hard_coded(q, s, a, r, s2, t, alpha, gamma):
    target = r + 0.99 * jnp.where(t, 0.0, q[s2].max())
    return q.at[s, a].add(alpha * (target - q[s, a]))


def alpha_and_gamma_swapped(q, s, a, r, s2, t, alpha, gamma):
    return q.at[s, a].add(gamma * (r + alpha * jnp.where(t, 0.0, q[s2].max()) - q[s, a]))


def update_first(q, s, a, r, s2, t, alpha, gamma):
    """Two steps: shrink Q(s, a), then add alpha * target read from the changed table."""
    q = q.at[s, a].set((1 - alpha) * q[s, a])
    return q.at[s, a].add(alpha * (r + gamma * jnp.where(t, 0.0, q[s2].max())))


def whole_row_moves(q, s, a, r, s2, t, alpha, gamma):
    return q.at[s].add(alpha * (r + gamma * jnp.where(t, 0.0, q[s2].max()) - q[s]))


def python_if_terminated(q, s, a, r, s2, t, alpha, gamma):
    """Right on concrete values, but a Python `if` on a traced value fails under jit."""
    target = r if t else r + gamma * q[s2].max()
    return q.at[s, a].add(alpha * (target - q[s, a]))


def python_float_of_max(q, s, a, r, s2, t, alpha, gamma):
    """Right op by op; float() of a traced value fails under jit."""
    best_next = float(q[s2].max())
    return q.at[s, a].add(alpha * (r + gamma * (1 - t) * best_next - q[s, a]))


def writes_in_place(q, s, a, r, s2, t, alpha, gamma):
    q[s, a] += alpha * (r + gamma * (1 - t) * q[s2].max() - q[s, a])
    return q


@pytest.mark.parametrize(
    "learner, status, says",
    [
        (tabular.q_learning_update, "✅", "jax.jit and jax.vmap"),
        (blend_with_mask_arithmetic, "✅", ""),
        (with_lax_cond_and_one_hot, "✅", ""),
        (bootstraps_past_the_end, "❌", "after a terminated step your target still adds"),
        (mask_inverted, "❌", "the wrong way round"),
        (sarsa_like, "❌", "the best action in s'"),
        (mean_of_next, "❌", "Q-learning takes their max"),
        (max_of_current_state, "❌", "should read the row of `next_state`"),
        (max_of_whole_table, "❌", "the whole table"),
        (column_of_next_state, "❌", "reads a column"),
        (no_step_size, "❌", "whatever alpha is"),
        (gamma_hard_coded, "❌", "use the gamma argument"),
        (alpha_and_gamma_swapped, "❌", "alpha and gamma are swapped"),
        (update_first, "❌", "half-updated table"),
        (whole_row_moves, "❌", "the whole row of `state` moved"),
        (python_if_terminated, "❌", "fails under jax.jit"),
        (python_float_of_max, "❌", "fails under jax.jit"),
        (writes_in_place, "❌", "JAX arrays are immutable"),
        (not_started, "⏳", ""),
    ],
)
def test_q_learning_update_check(learner, status, says, capsys):
    assert_verdict(*run(ch01.check_q_learning_update, learner, capsys), learner, status, says)


def test_q_learning_cases_are_not_degenerate():
    cases = ch01._q_learning_cases()
    next_best = {int(np.argmax(np.asarray(case.args[0])[case.args[4]])) for case in cases}
    assert len(next_best) >= 3  # the best next action is not always in the same column
    assert any(case.args[1] == case.args[4] for case in cases)  # s == s'
    assert {bool(case.args[5]) for case in cases} == {False, True}
    assert len({case.args[6] for case in cases}) >= 5 and 1.0 in {case.args[6] for case in cases}
    assert len({case.args[7] for case in cases}) >= 5 and 0.0 in {case.args[7] for case in cases}
    assert len({case.args[0].shape for case in cases}) >= 2
