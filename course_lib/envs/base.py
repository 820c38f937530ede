"""What every environment shares: the contract it keeps, and the action check.

The contract is gymnax 1.0's: pure ``reset(key, params)`` and a six-value ``step``, with parameters
``None`` meaning the environment's ``default_params``. A wrapper keeps it too, so code written against
``Environment`` (rollouts, the agents' ``make_parts``) takes CartPole, GridWorld or an ``AutoReset`` alike.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import jax
import jax.numpy as jnp
import numpy as np

from course_lib import _validate


class EnvParams(Protocol):
    """What code outside an environment reads from its parameters: the time limit."""

    @property
    def max_steps(self) -> int: ...


@runtime_checkable
class Environment(Protocol):
    """A pure-JAX environment: no state inside the object, only constants.

    ``step`` returns ``(obs, state, reward, terminated, truncated, info)``: ``terminated`` when the task
    ended (the value after it is 0), ``truncated`` when the time limit cut it (bootstrap from the final
    observation). An auto-resetting environment also puts that final observation in
    ``info["final_observation"]``.
    """

    num_actions: int
    observation_shape: tuple[int, ...]
    default_params: EnvParams  # a pytree with at least ``max_steps``

    def reset(self, key: jax.Array, params: Any = None) -> tuple[jax.Array, Any]: ...

    def step(
        self, key: jax.Array, state: Any, action: jax.Array, params: Any = None
    ) -> tuple[jax.Array, Any, jax.Array, jax.Array, jax.Array, dict[str, Any]]: ...


def check_action(action: jax.Array, num_actions: int) -> None:
    """Raise ValueError for an action that is not an integer scalar in [0, num_actions)."""
    if np.ndim(action) != 0:
        raise ValueError(
            f"action must be a scalar (one action for one environment; use jax.vmap for a batch), "
            f"got shape {np.shape(action)}"
        )
    dtype = jnp.result_type(action)
    if dtype.kind not in "iu":
        raise ValueError(f"action must be an integer, got dtype {dtype}")
    if _validate.is_concrete(action) and not 0 <= int(action) < num_actions:
        raise ValueError(f"action must lie in [0, {num_actions}), got {int(action)}")
