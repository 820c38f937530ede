"""Pure-JAX environments: ``reset(key, params) -> (obs, state)`` and
``step(key, state, action, params) -> (obs, state, reward, terminated, truncated, info)``, the contract
written down as ``Environment`` (gymnax 1.0's, ``params=None`` meaning the defaults)."""

from course_lib.envs.cartpole import CartPole, CartPoleParams, CartPoleState
from course_lib.envs.gridworld import DEFAULT_LAYOUT, GridWorld, GridWorldParams, GridWorldState
from course_lib.envs.base import Environment, EnvParams
from course_lib.envs.wrappers import AutoReset, auto_reset, episodic

__all__ = [
    "AutoReset",
    "CartPole",
    "CartPoleParams",
    "CartPoleState",
    "DEFAULT_LAYOUT",
    "EnvParams",
    "Environment",
    "GridWorld",
    "GridWorldParams",
    "GridWorldState",
    "auto_reset",
    "episodic",
]
