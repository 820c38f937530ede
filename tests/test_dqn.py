"""course_lib.agents.dqn: the loss against a hand computation, and the semi-gradient."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from course_lib import nets, tabular
from course_lib.agents import dqn

Q_NET = nets.make_q_network(2, (8,))
OBS = jnp.array([[0.1, -0.2, 0.03, 0.5], [1.0, 0.0, -0.5, 0.2], [0.0, 0.3, 0.1, -0.1]])


def params(seed):
    return Q_NET.init(jax.random.key(seed), OBS[0])


def transition(reward=1.0, terminated=False, action=1):
    return dqn.Transition(OBS[0], jnp.int32(action), jnp.float32(reward), OBS[1], jnp.array(terminated))


@pytest.mark.parametrize("terminated", [False, True])
@pytest.mark.parametrize("reward", [0.3, 5.0])
@pytest.mark.parametrize("loss", ["huber", "squared"])
def test_transition_loss_matches_a_hand_computation(terminated, reward, loss):
    online, target = params(0), params(1)
    q_now = np.asarray(Q_NET.apply(online, OBS[0]))[1]
    q_next = np.asarray(Q_NET.apply(target, OBS[1])).max()
    error = reward + (0.0 if terminated else 0.9 * q_next) - q_now
    if loss == "squared" or abs(error) <= 1.0:
        expected = 0.5 * error**2
    else:
        expected = abs(error) - 0.5
    got = dqn.transition_loss(Q_NET.apply, online, target, transition(reward, terminated), 0.9, loss)
    assert float(got) == pytest.approx(expected, rel=1e-5)


def test_the_target_is_a_constant_even_when_parameters_are_shared():
    online = params(0)
    loss = functools.partial(dqn.transition_loss, Q_NET.apply)
    grad_target = jax.grad(loss, argnums=1)(online, online, transition(), 0.99)
    assert all(float(jnp.abs(leaf).max()) == 0.0 for leaf in jax.tree.leaves(grad_target))
    # Differentiating a loss that takes one set of parameters for both roles must equal the semi-gradient.
    shared = jax.grad(lambda p: loss(p, p, transition(), 0.99))(online)
    semi = jax.grad(loss)(online, online, transition(), 0.99)
    assert jax.tree.all(jax.tree.map(lambda a, b: bool(jnp.allclose(a, b)), shared, semi))


@pytest.mark.parametrize("double", [False, True])
@pytest.mark.parametrize("loss", ["huber", "squared"])
def test_the_training_loss_is_the_weighted_mean_of_chapter_02s_per_transition_loss(double, loss):
    """One path: update_loss (chapter 05's training) is transition_loss's pieces (chapter 02's) over a batch."""
    parts = dqn.make_parts(dqn.DQNConfig(hidden_sizes=(8,), gamma=0.9, loss=loss, double_dqn=double))
    online, target = (parts.q_network.init(jax.random.key(seed), OBS[0]) for seed in (0, 1))
    batch = dqn.Transition(
        OBS, jnp.array([0, 1, 1]), jnp.array([1.0, -2.0, 0.5]), OBS[::-1], jnp.array([False, True, False])
    )
    singles = np.array([
        float(dqn.elementwise_loss(
            dqn.td_error(parts.q_network.apply, online, target, jax.tree.map(lambda x: x[i], batch), 0.9, double),
            loss,
        ))
        for i in range(3)
    ])
    if not double:
        plain = [
            float(dqn.transition_loss(parts.q_network.apply, online, target, jax.tree.map(lambda x: x[i], batch), 0.9, loss))
            for i in range(3)
        ]
        np.testing.assert_allclose(singles, plain, rtol=1e-6)
    weights = jnp.array([0.5, 1.0, 0.25])
    got, errors = dqn.update_loss(online, parts, target, batch, weights)
    assert float(got) == pytest.approx(np.mean(np.asarray(weights) * singles), rel=1e-5)
    assert errors.shape == (3,)


def test_select_action_is_epsilon_greedy_on_the_network_values():
    online = params(0)
    keys = jax.random.split(jax.random.key(0), 8)
    acts = jax.vmap(lambda k: dqn.select_action(Q_NET.apply, k, online, OBS[2], 0.3))(keys)
    expected = jax.vmap(lambda k: tabular.epsilon_greedy(k, Q_NET.apply(online, OBS[2]), 0.3))(keys)
    assert acts.tolist() == expected.tolist()


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="obs must be one observation of shape \\(obs_dim,\\)"):
        dqn.select_action(Q_NET.apply, jax.random.key(0), params(0), OBS, 0.1)
    with pytest.raises(ValueError, match="loss must be one of"):
        dqn.transition_loss(Q_NET.apply, params(0), params(1), transition(), 0.9, loss="l1")
    with pytest.raises(ValueError, match="loss must be one of"):
        dqn.elementwise_loss(jnp.zeros(3), "l1")
    with pytest.raises(ValueError, match="gamma must lie in"):
        dqn.td_target(Q_NET.apply, params(1), transition(), 1.5)
