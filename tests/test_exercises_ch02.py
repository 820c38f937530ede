"""Chapter 02's checks: correct answers pass (written in several ways), typical mistakes get ❌ with the hint
that names them, and an unstarted exercise gets ⏳.

The wrong answers are written as a learner would write them, not taken from the checks' own Mistake list."""

import functools

import jax
import jax.numpy as jnp
import optax
import pytest

from course_lib import nets, tabular
from course_lib.agents import dqn
from course_lib.exercises import ch02
from tests.exercise_helpers import assert_verdict, not_started, run

Q_NET = nets.make_q_network(2)
# The chapter's global `params`: q_network.init(jax.random.key(0), obs). A learner's function that closes
# over it instead of using its argument must fail.
CHAPTER_PARAMS = Q_NET.init(jax.random.key(0), jnp.zeros(4))


# --- Exercise 2.1: select_action ------------------------------------------------------------------------


def uses_epsilon_greedy(key, params, obs, epsilon):
    return tabular.epsilon_greedy(key, Q_NET.apply(params, obs), epsilon)


def one_categorical_draw(key, params, obs, epsilon):
    """Valid: one draw from the epsilon-greedy probabilities."""
    q_values = Q_NET.apply(params, obs)
    n = q_values.shape[-1]
    probs = epsilon / n + (1 - epsilon) * jax.nn.one_hot(jnp.argmax(q_values), n)
    return jax.random.choice(key, n, p=probs).astype(jnp.int32)


def with_lax_cond(key, params, obs, epsilon):
    """Valid: a branch with lax.cond, one key per draw."""
    coin_key, action_key = jax.random.split(key)
    q_values = Q_NET.apply(params, obs)
    return jax.lax.cond(
        jax.random.uniform(coin_key) < epsilon,
        lambda: jax.random.randint(action_key, (), 0, 2),
        lambda: jnp.argmax(q_values).astype(jnp.int32),
    )


def greedy_only(key, params, obs, epsilon):
    return jnp.argmax(Q_NET.apply(params, obs))


def worst_action(key, params, obs, epsilon):
    return tabular.epsilon_greedy(key, -Q_NET.apply(params, obs), epsilon)


def global_params_action(key, params, obs, epsilon):
    return tabular.epsilon_greedy(key, Q_NET.apply(CHAPTER_PARAMS, obs), epsilon)


def argmax_batch_axis(key, params, obs, epsilon):
    q_values = Q_NET.apply(params, obs[None])  # (1, 2): a batch of one
    k1, k2 = jax.random.split(key)
    greedy = jnp.argmax(q_values, axis=0)[0]  # over the batch axis: always 0
    return jnp.where(jax.random.uniform(k1) < epsilon, jax.random.randint(k2, (), 0, 2), greedy)


def same_uniform_twice(key, params, obs, epsilon):
    explore = jax.random.uniform(key) < epsilon
    random_action = (jax.random.uniform(key) * 2).astype(jnp.int32)  # the same key: the same draw
    return jnp.where(explore, random_action, jnp.argmax(Q_NET.apply(params, obs)))


def same_key_bernoulli(key, params, obs, epsilon):
    explore = jax.random.bernoulli(key, epsilon)
    random_action = jax.random.bernoulli(key, 0.5).astype(jnp.int32)
    return jnp.where(explore, random_action, jnp.argmax(Q_NET.apply(params, obs)))


def coin_and_action_from_one_key(key, params, obs, epsilon):
    """The coin and the random action from the same key: with two actions their distribution is right."""
    explore = jax.random.uniform(key) < epsilon
    random_action = jax.random.randint(key, (), 0, 2)
    return jnp.where(explore, random_action, jnp.argmax(Q_NET.apply(params, obs)))


def split_then_key_again(key, params, obs, epsilon):
    """Splits the key, then draws the coin from the original key as well (it was used by the split)."""
    coin_key, action_key = jax.random.split(key)
    explore = jax.random.uniform(key) < epsilon
    return jnp.where(explore, jax.random.randint(action_key, (), 0, 2), jnp.argmax(Q_NET.apply(params, obs)))


def explores_when_above(key, params, obs, epsilon):
    k1, k2 = jax.random.split(key)
    explore = jax.random.uniform(k1) > epsilon
    return jnp.where(explore, jax.random.randint(k2, (), 0, 2), jnp.argmax(Q_NET.apply(params, obs)))


def epsilon_fixed(key, params, obs, epsilon):
    return tabular.epsilon_greedy(key, Q_NET.apply(params, obs), 0.1)


def explores_other_action(key, params, obs, epsilon):
    greedy = jnp.argmax(Q_NET.apply(params, obs))
    return jnp.where(jax.random.uniform(key) < epsilon, 1 - greedy, greedy)


def python_if_explore(key, params, obs, epsilon):
    k1, k2 = jax.random.split(key)
    if jax.random.uniform(k1) < epsilon:
        return jax.random.randint(k2, (), 0, 2)
    return jnp.argmax(Q_NET.apply(params, obs))


def returns_q_value(key, params, obs, epsilon):
    return Q_NET.apply(params, obs).max()


@pytest.mark.parametrize(
    "learner, status, says",
    [
        (functools.partial(dqn.select_action, Q_NET.apply), "✅", ""),
        (uses_epsilon_greedy, "✅", ""),
        (one_categorical_draw, "✅", ""),
        (with_lax_cond, "✅", ""),
        (greedy_only, "❌", "never explores"),
        (worst_action, "❌", "lowest Q-value"),
        (global_params_action, "❌", "global `params`"),
        (argmax_batch_axis, "❌", "always action 0"),
        (same_uniform_twice, "❌", "uses one key for two random draws"),
        (same_key_bernoulli, "❌", "uses one key for two random draws"),
        (coin_and_action_from_one_key, "❌", "uses one key for two random draws"),
        (split_then_key_again, "❌", "uses one key for two random draws"),
        (explores_when_above, "❌", "probability 1 - epsilon"),
        (epsilon_fixed, "❌", "read it from the argument"),
        (explores_other_action, "❌", "the greedy one included"),
        (python_if_explore, "❌", "jax.vmap"),
        (returns_q_value, "❌", "expected one integer"),
        (not_started, "⏳", ""),
    ],
)
def test_select_action_check(learner, status, says, capsys):
    assert_verdict(*run(ch02.check_select_action, learner, capsys, Q_NET), learner, status, says)


def test_key_reuse_is_reported_at_the_learners_line(capsys):
    """The distribution of coin_and_action_from_one_key is right: the verdict comes from the key-reuse
    checker, which points at the learner's second draw from the key."""
    used, out = run(ch02.check_select_action, coin_and_action_from_one_key, capsys, Q_NET)
    assert used is not coin_and_action_from_one_key, out
    assert "It happened at: line 4 of coin_and_action_from_one_key" in out, out


# --- Exercise 2.2: dqn_loss -----------------------------------------------------------------------------


def chapter_solution(online, target, t, gamma):
    """Valid: the chapter's solution, without stop_gradient (jax.grad takes online_params only)."""
    next_value = Q_NET.apply(target, t.next_obs).max()
    y = t.reward + gamma * jnp.where(t.terminated, 0.0, next_value)
    return optax.huber_loss(y - Q_NET.apply(online, t.obs)[t.action], delta=1.0)


def flipped_error_manual_huber(online, target, t, gamma):
    """Valid: delta = Q - y (Huber is even), a mask by multiplication, a hand-written Huber loss."""
    y = jax.lax.stop_gradient(t.reward + gamma * (1 - t.terminated) * jnp.max(Q_NET.apply(target, t.next_obs)))
    delta = Q_NET.apply(online, t.obs)[t.action] - y
    return jnp.where(jnp.abs(delta) <= 1.0, 0.5 * delta**2, jnp.abs(delta) - 0.5)


def take_along_axis(online, target, t, gamma):
    """Valid: the action's value by a one-hot dot product, the mask with lax.select."""
    q_taken = jnp.sum(Q_NET.apply(online, t.obs) * jax.nn.one_hot(t.action, 2))
    bootstrap = jax.lax.select(t.terminated, 0.0, gamma * Q_NET.apply(target, t.next_obs).max())
    return optax.huber_loss(t.reward + bootstrap - q_taken)


def squared(online, target, t, gamma):
    error = t.reward + gamma * (1 - t.terminated) * Q_NET.apply(target, t.next_obs).max() - Q_NET.apply(online, t.obs)[t.action]
    return 0.5 * error**2


def online_target(online, target, t, gamma):
    return dqn.transition_loss(Q_NET.apply, online, online, t, gamma)


def no_termination(online, target, t, gamma):
    y = t.reward + gamma * Q_NET.apply(target, t.next_obs).max()
    return optax.huber_loss(y - Q_NET.apply(online, t.obs)[t.action])


def double_dqn(online, target, t, gamma):
    next_action = jnp.argmax(Q_NET.apply(online, t.next_obs))
    y = t.reward + gamma * (1 - t.terminated) * Q_NET.apply(target, t.next_obs)[next_action]
    return optax.huber_loss(y - Q_NET.apply(online, t.obs)[t.action])


def global_params_loss(online, target, t, gamma):
    y = t.reward + gamma * jnp.where(t.terminated, 0.0, Q_NET.apply(target, t.next_obs).max())
    return optax.huber_loss(y - Q_NET.apply(CHAPTER_PARAMS, t.obs)[t.action])


def python_if_terminated(online, target, t, gamma):
    if t.terminated:
        y = t.reward
    else:
        y = t.reward + gamma * Q_NET.apply(target, t.next_obs).max()
    return optax.huber_loss(y - Q_NET.apply(online, t.obs)[t.action])


def int_action(online, target, t, gamma):
    y = t.reward + gamma * jnp.where(t.terminated, 0.0, Q_NET.apply(target, t.next_obs).max())
    return optax.huber_loss(y - Q_NET.apply(online, t.obs)[int(t.action)])


def stop_gradient_on_delta(online, target, t, gamma):
    y = t.reward + gamma * jnp.where(t.terminated, 0.0, Q_NET.apply(target, t.next_obs).max())
    return optax.huber_loss(jax.lax.stop_gradient(y - Q_NET.apply(online, t.obs)[t.action]))


def gamma_fixed(online, target, t, gamma):
    return chapter_solution(online, target, t, 0.99)


def argmax_target(online, target, t, gamma):
    y = t.reward + gamma * jnp.where(t.terminated, 0.0, jnp.argmax(Q_NET.apply(target, t.next_obs)))
    return optax.huber_loss(y - Q_NET.apply(online, t.obs)[t.action])


def best_not_taken(online, target, t, gamma):
    y = t.reward + gamma * jnp.where(t.terminated, 0.0, Q_NET.apply(target, t.next_obs).max())
    return optax.huber_loss(y - Q_NET.apply(online, t.obs).max())


@pytest.mark.parametrize(
    "learner, status, says",
    [
        (functools.partial(dqn.transition_loss, Q_NET.apply), "✅", ""),
        (chapter_solution, "✅", ""),
        (flipped_error_manual_huber, "✅", ""),
        (take_along_axis, "✅", ""),
        (squared, "❌", "that is half the squared TD error; use the Huber loss"),
        (online_target, "❌", "your target uses the online network"),
        (no_termination, "❌", "bootstraps after a termination"),
        (double_dqn, "❌", "Double DQN target"),
        (global_params_loss, "❌", "global `params`"),
        (python_if_terminated, "❌", "jax.jit"),
        (int_action, "❌", "jax.jit"),
        (stop_gradient_on_delta, "❌", "stop_gradient belongs around the target only"),
        (gamma_fixed, "❌", "ignores the `gamma` passed in"),
        (argmax_target, "❌", "index of the best next action"),
        (best_not_taken, "❌", "the online network's largest Q-value"),
        (not_started, "⏳", ""),
    ],
)
def test_dqn_loss_check(learner, status, says, capsys):
    assert_verdict(*run(ch02.check_dqn_loss, learner, capsys, Q_NET), learner, status, says)


def test_double_dqn_target_is_not_told_about_huber(capsys):
    _, out = run(ch02.check_dqn_loss, double_dqn, capsys, Q_NET)
    assert "Huber" not in out, out


def test_jit_failure_names_the_jit_fix(capsys):
    _, out = run(ch02.check_dqn_loss, python_if_terminated, capsys, Q_NET)
    assert "jnp.where" in out, out


# --- Exercise 2.3: polyak_update ------------------------------------------------------------------------


def nested_comprehension(online_params, target_params, tau):
    """Valid: Haiku's parameters are dicts of dicts; a new dict is built, nothing changed in place."""
    return {
        module: {name: tau * online_params[module][name] + (1 - tau) * leaf for name, leaf in layer.items()}
        for module, layer in target_params.items()
    }


def mutates_target(online_params, target_params, tau):
    for module in target_params:
        for name in target_params[module]:
            target_params[module][name] = tau * online_params[module][name] + (1 - tau) * target_params[module][name]
    return target_params


def python_if_tau(online_params, target_params, tau):
    if tau == 1.0:
        return online_params
    return jax.tree.map(lambda o, t: tau * o + (1 - tau) * t, online_params, target_params)


@pytest.mark.parametrize(
    "learner, status, says",
    [
        (optax.incremental_update, "✅", ""),
        (lambda o, t, tau: jax.tree.map(lambda a, b: b + tau * (a - b), o, t), "✅", ""),
        (nested_comprehension, "✅", ""),
        (lambda o, t, tau: jax.tree_util.tree_map(lambda a, b: (1 - tau) * b + tau * a, o, t), "✅", ""),
        (lambda o, t, tau: jax.tree.map(lambda a, b: tau * b + (1 - tau) * a, o, t), "❌", "target are swapped"),
        (lambda o, t, tau: o, "❌", "returns the online parameters: a hard copy"),
        (lambda o, t, tau: jax.tree.map(lambda a, b: 0.005 * a + 0.995 * b, o, t), "❌", "hard-coded"),
        (lambda o, t, tau: jax.tree.map(lambda a, b: tau * (a - b), o, t), "❌", "returns the step"),
        (mutates_target, "❌", "changed its argument `target_params` in place"),
        (python_if_tau, "❌", "jax.jit"),
        (not_started, "⏳", ""),
    ],
)
def test_polyak_update_check(learner, status, says, capsys):
    assert_verdict(*run(ch02.check_polyak_update, learner, capsys, Q_NET), learner, status, says)
