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
from jax import lax
from jax.custom_batching import custom_vmap

from course_lib import _validate

ACTIVATIONS: dict[str, Callable[[jax.Array], jax.Array]] = {"relu": jax.nn.relu, "tanh": jnp.tanh}


def _activation(name: str) -> Callable[[jax.Array], jax.Array]:
    _validate.one_of("activation", name, ACTIVATIONS)
    return ACTIVATIONS[name]


def _check_sizes(num_actions: int, hidden_sizes: Sequence[int]) -> None:
    _validate.positive_int("num_actions", num_actions)
    if isinstance(hidden_sizes, (str, bytes)) or not isinstance(hidden_sizes, Sequence):
        raise TypeError(f"hidden_sizes must be a tuple of layer widths such as (64, 64), got {hidden_sizes!r}")
    for index, size in enumerate(hidden_sizes):
        _validate.positive_int(f"hidden_sizes[{index}]", size)


def _checked_inputs(transformed: hk.Transformed, first_layer: Callable[[dict], str]) -> hk.Transformed:
    """``transformed`` whose ``apply`` checks ``obs`` against the parameters' input width first: Haiku's own
    message ("retrieved shape (4, 8) does not match shape=[3, 8]") names neither argument."""

    def apply(params: hk.Params, obs: jax.Array):
        _validate.numeric("obs", obs)
        if np.ndim(obs) < 1:
            raise ValueError(f"obs must have shape (..., obs_dim), got shape {np.shape(obs)}")
        module = first_layer(params) if isinstance(params, dict) else None
        if module is None:
            raise TypeError(f"params must be the network's parameters from init(key, obs), got {type(params).__name__}")
        expected = np.shape(params[module]["w"])[0]
        if np.shape(obs)[-1] != expected:
            raise ValueError(
                f"obs must have shape (..., {expected}) like the observation the params were made from "
                f"with init, got shape {np.shape(obs)}"
            )
        return transformed.apply(params, obs)

    return hk.Transformed(init=transformed.init, apply=apply)


def _first_of(*names: str) -> Callable[[dict], str | None]:
    return lambda params: next((name for name in names if name in params and "w" in params[name]), None)


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

    return _checked_inputs(hk.without_apply_rng(hk.transform(forward)), _first_of("q_network/~/linear_0"))


@custom_vmap
def _qr(matrix: jax.Array) -> tuple[jax.Array, jax.Array]:
    """``jnp.linalg.qr`` of one matrix; under ``vmap``, one LAPACK call per matrix (``lax.map``).

    Why: jaxlib 0.10.2's CPU QR kernel splits a batch of matrices (above 200,000 FLOPs, so two
    64x64 ones) into tasks on XLA's intra-op thread pool and blocks until they finish. Keys sharded
    across devices run one program per device on that pool (one thread per core): on 2 cores both
    threads ended up waiting for tasks that no free thread could run, and ``jit(vmap(train))`` over
    sharded keys hung for ever. A batch of one matrix runs in the calling thread. The numbers are
    the same: LAPACK factorises each matrix alone either way."""
    q, r = jnp.linalg.qr(matrix)
    return q, r


@_qr.def_vmap
def _qr_batched(axis_size: int, in_batched: list[bool], matrix: jax.Array):
    del axis_size
    if not in_batched[0]:
        return _qr(matrix), (False, False)
    return lax.map(_qr, matrix), (True, True)  # _qr again, so an outer vmap maps it the same way


class _Orthogonal(hk.initializers.Initializer):
    """Haiku's ``Orthogonal(scale)`` for a ``Linear`` layer's ``(fan_in, fan_out)`` weights, bit for bit,
    with the QR of :func:`_qr` (safe when ``vmap``-ed over keys sharded across devices)."""

    def __init__(self, scale: float) -> None:
        self.scale = scale

    def __call__(self, shape: Sequence[int], dtype) -> jax.Array:
        fan_in, fan_out = shape
        tall = (max(fan_in, fan_out), min(fan_in, fan_out))
        q, r = _qr(jax.random.normal(hk.next_rng_key(), tall, dtype))
        q = q * jnp.sign(jnp.diag(r))  # a uniformly random orthogonal matrix, not one biased by QR's signs
        weights = q if fan_in > fan_out else q.T  # (fan_in, fan_out)
        return lax.convert_element_type(self.scale, dtype) * weights


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
        return hk.Linear(size, w_init=_Orthogonal(scale), b_init=jnp.zeros, name=name)

    def forward(obs: jax.Array) -> tuple[jax.Array, jax.Array]:
        policy, value = obs, obs
        for layer, size in enumerate(hidden_sizes):
            policy = act(dense(size, np.sqrt(2), f"policy_hidden_{layer}")(policy))
            value = act(dense(size, np.sqrt(2), f"value_hidden_{layer}")(value))
        logits = dense(num_actions, 0.01, "policy_head")(policy)
        return logits, dense(1, 1.0, "value_head")(value)[..., 0]

    return _checked_inputs(
        hk.without_apply_rng(hk.transform(forward)), _first_of("policy_hidden_0", "policy_head")
    )
