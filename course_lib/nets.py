"""Haiku networks, ``hk.transform``-ed: parameters live outside the model, in a pytree you pass in.

    q_net = make_q_network(num_actions=2)
    params = q_net.init(key, example_obs)         # a pytree of arrays
    q_values = q_net.apply(params, obs)           # (batch, num_actions)

``apply`` is a pure function of ``(params, inputs)``, so it can be jitted, vmapped and differentiated
with respect to ``params``. These networks use no randomness, so ``hk.without_apply_rng`` drops the
``rng`` argument that ``hk.transform`` would otherwise add.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import haiku as hk
import jax
import jax.numpy as jnp
import numpy as np

from course_lib import _validate

ACTIVATIONS: dict[str, Callable[[jax.Array], jax.Array]] = {"relu": jax.nn.relu, "tanh": jnp.tanh}


def _activation(name: str) -> Callable[[jax.Array], jax.Array]:
    _validate.one_of("activation", name, ACTIVATIONS)
    return ACTIVATIONS[name]


def _check_sizes(num_actions: int, hidden_sizes: Sequence[int]) -> None:
    _validate.positive_int("num_actions", num_actions)
    for index, size in enumerate(hidden_sizes):
        _validate.positive_int(f"hidden_sizes[{index}]", size)


def make_q_network(
    num_actions: int, hidden_sizes: Sequence[int] = (64, 64), activation: str = "relu"
) -> hk.Transformed:
    """An MLP from observations ``(..., obs_dim)`` to Q-values ``(..., num_actions)``.

    Haiku's default initialisation (truncated normal, fan-in scaled; zero biases).
    """
    _check_sizes(num_actions, hidden_sizes)
    act = _activation(activation)

    def forward(obs: jax.Array) -> jax.Array:
        return hk.nets.MLP([*hidden_sizes, num_actions], activation=act, name="q_network")(obs)

    return hk.without_apply_rng(hk.transform(forward))


def make_actor_critic(
    num_actions: int, hidden_sizes: Sequence[int] = (64, 64), activation: str = "tanh"
) -> hk.Transformed:
    """Separate policy and value MLPs: observations ``(..., obs_dim)`` to ``(logits (..., num_actions), value (...))``.

    Orthogonal initialisation with the scales PPO implementations use (and that chapter 06 explains):
    ``sqrt(2)`` on hidden layers (the ReLU gain, which PureJaxRL, CleanRL and OpenAI Baselines use on
    tanh layers too), ``0.01`` on the policy head (the first policy is almost uniform, so early
    exploration is not biased), ``1.0`` on the value head. Biases start at zero.
    """
    _check_sizes(num_actions, hidden_sizes)
    act = _activation(activation)

    def dense(size: int, scale: float, name: str) -> hk.Linear:
        return hk.Linear(size, w_init=hk.initializers.Orthogonal(scale), b_init=jnp.zeros, name=name)

    def forward(obs: jax.Array) -> tuple[jax.Array, jax.Array]:
        policy, value = obs, obs
        for layer, size in enumerate(hidden_sizes):
            policy = act(dense(size, np.sqrt(2), f"policy_hidden_{layer}")(policy))
            value = act(dense(size, np.sqrt(2), f"value_hidden_{layer}")(value))
        logits = dense(num_actions, 0.01, "policy_head")(policy)
        return logits, dense(1, 1.0, "value_head")(value)[..., 0]

    return hk.without_apply_rng(hk.transform(forward))
