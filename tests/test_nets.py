"""Haiku networks: shapes, the orthogonal initialisation scales, purity."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from course_lib import nets


def test_q_network_maps_observations_to_one_value_per_action():
    q_net = nets.make_q_network(3, hidden_sizes=(32, 32))
    params = q_net.init(jax.random.key(0), jnp.zeros(4))
    assert q_net.apply(params, jnp.ones((5, 4))).shape == (5, 3)
    assert q_net.apply(params, jnp.ones(4)).shape == (3,)
    grads = jax.grad(lambda p: q_net.apply(p, jnp.ones((5, 4))).sum())(params)
    assert jax.tree.structure(grads) == jax.tree.structure(params)


def test_actor_critic_heads_have_their_orthogonal_scales():
    actor_critic = nets.make_actor_critic(2, hidden_sizes=(64, 64))
    params = actor_critic.init(jax.random.key(1), jnp.zeros(4))

    def gram(w):  # W^T W for tall matrices, W W^T for wide ones: scale^2 * identity if orthogonal
        w = np.asarray(w, np.float64)
        return w.T @ w if w.shape[0] >= w.shape[1] else w @ w.T

    for layer, scale in [
        ("policy_hidden_0", np.sqrt(2)),
        ("policy_hidden_1", np.sqrt(2)),
        ("value_hidden_1", np.sqrt(2)),
        ("policy_head", 0.01),
        ("value_head", 1.0),
    ]:
        matrix = gram(params[layer]["w"])
        np.testing.assert_allclose(matrix, scale**2 * np.eye(len(matrix)), atol=1e-4 * max(1, scale**2), err_msg=layer)
        assert not np.asarray(params[layer]["b"]).any(), f"{layer} biases start at zero"

    logits, value = actor_critic.apply(params, jnp.ones((7, 4)))
    assert logits.shape == (7, 2) and value.shape == (7,)
    probabilities = jax.nn.softmax(logits)
    assert float(jnp.abs(probabilities - 0.5).max()) < 0.05, "a 0.01-scaled head starts near uniform"


def test_same_key_same_parameters_and_outputs():
    q_net = nets.make_q_network(2)
    first, second = q_net.init(jax.random.key(5), jnp.zeros(4)), q_net.init(jax.random.key(5), jnp.zeros(4))
    jax.tree.map(np.testing.assert_array_equal, first, second)
    other = q_net.init(jax.random.key(6), jnp.zeros(4))
    assert not np.array_equal(first["q_network/~/linear_0"]["w"], other["q_network/~/linear_0"]["w"])


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: nets.make_q_network(0), "num_actions must be a whole number >= 1"),
        (lambda: nets.make_q_network(2, hidden_sizes=(64, 0)), "hidden_sizes\\[1\\] must be a whole number >= 1"),
        (lambda: nets.make_actor_critic(2, activation="sigmoid"), "activation must be one of"),
    ],
)
def test_bad_settings_are_named(call, message):
    with pytest.raises(ValueError, match=message):
        call()
