"""What every environment shares: the contract it keeps, and the action check.

The contract is gymnax 1.0's: pure ``reset(key, params)`` and a six-value ``step``, with parameters
``None`` meaning the environment's ``default_params``. A wrapper keeps it too, so code written against
``Environment`` (rollouts, the agents' ``make_parts``) takes CartPole, GridWorld or an ``AutoReset`` alike.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import jax

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
    """Raise for an action that is not an integer scalar in [0, num_actions), also under jit."""
    _validate.scalar("action", action, "one action for one environment; use jax.vmap for a batch")
    _validate.index("action", action, num_actions)


def check_state(state: Any, state_type: type) -> None:
    """``TypeError`` unless ``state`` is the environment's own state (what ``reset`` and ``step`` return
    second), not an observation."""
    if not isinstance(state, state_type):
        raise TypeError(
            f"state must be a {state_type.__name__} (the second value reset and step return, not the "
            f"observation), got {type(state).__name__}"
        )
