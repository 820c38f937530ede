"""The DQN loss, one piece per quantity (Mnih et al. 2015): the TD target (plain or Double DQN), the TD
error with the target held constant, and the element-wise Huber or squared loss. Chapter 02's exercises and
the training run of :mod:`course_lib.agents.dqn` (chapter 05) share every piece, so a change to the loss is
made here once. ``course_lib.agents.dqn`` re-exports all of it, so ``dqn.td_error`` and friends keep working.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax

from course_lib import _validate, returns, tabular

QApply = Callable[[object, jax.Array], jax.Array]
LOSSES = ("huber", "squared")


class Transition(NamedTuple):
    """One step of experience. Batched, every field gains a leading ``(batch,)`` axis."""

    obs: jax.Array  # (obs_dim,) float32
    action: jax.Array  # () int32
    reward: jax.Array  # () float32
    next_obs: jax.Array  # (obs_dim,) float32: the true next observation, even if the episode ended
    terminated: jax.Array  # () bool: the task ended, so nothing follows next_obs


def select_action(
    q_apply: QApply, key: jax.Array, params: object, obs: jax.Array, epsilon: float | jax.Array
) -> jax.Array:
    """An epsilon-greedy action from the Q-network's values for one observation ``(obs_dim,)``; int32 scalar."""
    _validate.function("q_apply", q_apply)
    _validate.key("key", key)
    if jnp.ndim(obs) != 1:
        raise ValueError(f"obs must be one observation of shape (obs_dim,), got shape {jnp.shape(obs)}")
    return tabular.epsilon_greedy(key, q_apply(params, obs), epsilon)



def td_target(
    q_apply: QApply,
    target_params: object,
    transition: Transition,
    gamma: float | jax.Array,
    online_params: object | None = None,
) -> jax.Array:
    """The TD target of one transition, float scalar: ``returns.td_target`` with the next state's value
    from the target network. ``online_params=None``: ``max_a' Q_target(s', a')`` (DQN). Given: Double
    DQN's ``Q_target(s', argmax_a' Q_online(s', a'))`` (van Hasselt et al. 2016), where the online
    network picks the action and the target network values it."""
    _check_transition(q_apply, transition)
    next_q = q_apply(target_params, transition.next_obs)
    if online_params is None:
        next_value = next_q.max()
    else:
        next_value = next_q[jnp.argmax(q_apply(online_params, transition.next_obs))]
    return returns.td_target(transition.reward, next_value, transition.terminated, gamma)


def _check_transition(q_apply: QApply, transition: Transition) -> None:
    _validate.function("q_apply", q_apply)
    if not isinstance(transition, Transition):
        raise TypeError(
            f"transition must be a dqn.Transition(obs, action, reward, next_obs, terminated), got {type(transition).__name__}"
        )


def td_error(
    q_apply: QApply,
    online_params: object,
    target_params: object,
    transition: Transition,
    gamma: float | jax.Array,
    double: bool = False,
) -> jax.Array:
    """``target - Q_online(s, a)`` for one transition, the target held constant; float scalar.

    Differentiate with respect to ``online_params`` only: ``stop_gradient`` makes the target a constant
    (the "semi-gradient"), even when both are the same parameters."""
    _validate.boolean("double", double)
    target = td_target(q_apply, target_params, transition, gamma, online_params if double else None)
    q_values = q_apply(online_params, transition.obs)
    # An out-of-range action would be clamped to the last one: the loss of another action, silently.
    _validate.scalar("transition.action", transition.action, "one transition; use jax.vmap for a batch")
    _validate.index("transition.action", transition.action, q_values.shape[-1], "one of the network's actions")
    return jax.lax.stop_gradient(target) - q_values[transition.action]


def elementwise_loss(td_errors: jax.Array, loss: str = "huber") -> jax.Array:
    """Huber (delta 1) or half the squared TD error, element by element, shape as ``td_errors``."""
    _validate.one_of("loss", loss, LOSSES)
    _validate.numeric("td_errors", td_errors)
    return optax.huber_loss(td_errors, delta=1.0) if loss == "huber" else 0.5 * td_errors**2


def transition_loss(
    q_apply: QApply,
    online_params: object,
    target_params: object,
    transition: Transition,
    gamma: float | jax.Array,
    loss: str = "huber",
) -> jax.Array:
    """The DQN loss of one transition (chapter 02's exercise): ``elementwise_loss(td_error(...))``."""
    return elementwise_loss(td_error(q_apply, online_params, target_params, transition, gamma), loss)
