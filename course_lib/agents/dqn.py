"""Deep Q-networks (Mnih et al. 2015): acting and the loss, the references for chapter 02's exercises.

A Q-network maps an observation ``(obs_dim,)`` to Q-values ``(num_actions,)``; ``q_apply`` below is its
``apply(params, obs)`` (see :mod:`course_lib.nets`). The target network is the same function with other
parameters, ``target_params``. Soft (Polyak) and periodic hard target updates are
``optax.incremental_update`` and ``optax.periodic_update``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax

from course_lib import _validate, tabular

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
    if jnp.ndim(obs) != 1:
        raise ValueError(f"obs must be one observation of shape (obs_dim,), got shape {jnp.shape(obs)}")
    return tabular.epsilon_greedy(key, q_apply(params, obs), epsilon)


def td_target(
    q_apply: QApply, target_params: object, transition: Transition, gamma: float | jax.Array
) -> jax.Array:
    """``r + gamma * (1 - terminated) * max_a' Q_target(s', a')`` for one transition; float scalar."""
    next_value = q_apply(target_params, transition.next_obs).max()
    return transition.reward + gamma * jnp.where(transition.terminated, 0.0, next_value)


def transition_loss(
    q_apply: QApply,
    online_params: object,
    target_params: object,
    transition: Transition,
    gamma: float | jax.Array,
    loss: str = "huber",
) -> jax.Array:
    """The DQN loss of one transition: Huber (delta 1) or half the squared TD error; float scalar.

    Differentiate with respect to ``online_params`` only: the target, computed from ``target_params``,
    then acts as a constant (the "semi-gradient"), even when both are the same parameters.
    """
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
    target = jax.lax.stop_gradient(td_target(q_apply, target_params, transition, gamma))
    td_error = target - q_apply(online_params, transition.obs)[transition.action]
    return optax.huber_loss(td_error, delta=1.0) if loss == "huber" else 0.5 * td_error**2


def batch_loss(
    q_apply: QApply,
    online_params: object,
    target_params: object,
    batch: Transition,
    gamma: float | jax.Array,
    loss: str = "huber",
    weights: jax.Array | None = None,
) -> jax.Array:
    """Mean of :func:`transition_loss` over a batch (every field with a leading ``(batch,)`` axis).

    ``weights`` ``(batch,)``: importance-sampling weights from prioritized replay; ``None`` weighs all 1.
    """
    _validate.ndim_at_least("batch.obs", batch.obs, 2, "(batch, obs_dim)")
    losses = jax.vmap(transition_loss, in_axes=(None, None, None, 0, None, None))(
        q_apply, online_params, target_params, batch, gamma, loss
    )
    return losses.mean() if weights is None else (weights * losses).mean()
