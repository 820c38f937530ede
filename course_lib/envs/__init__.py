"""Pure-JAX environments: ``reset(key, params) -> (obs, state)`` and
``step(key, state, action, params) -> (obs, state, reward, terminated, truncated, info)``."""

from course_lib.envs.cartpole import CartPole, CartPoleParams, CartPoleState
from course_lib.envs.gridworld import DEFAULT_LAYOUT, GridWorld, GridWorldParams, GridWorldState
from course_lib.envs.wrappers import AutoReset, auto_reset

__all__ = [
    "AutoReset",
    "CartPole",
    "CartPoleParams",
    "CartPoleState",
    "DEFAULT_LAYOUT",
    "GridWorld",
    "GridWorldParams",
    "GridWorldState",
    "auto_reset",
]
