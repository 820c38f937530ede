"""A tabular GridWorld: small enough to print its Q-table, rich enough to need exploration.

The layout is a list of strings: ``#`` a wall, ``S`` the start, ``G`` the goal, ``g`` a lesser goal
(optional, any number), ``.`` free floor. The agent moves up, right, down or left; with probability
``slip_probability`` it moves in a random direction instead. Walking into a wall or the edge leaves it
where it is. Every step costs ``step_penalty``; reaching the goal pays ``goal_reward``, reaching a
lesser goal pays ``lesser_goal_reward``, and either terminates the episode. Episodes are truncated after
``max_steps`` steps. A lesser goal near the start is a trap for an agent that stops exploring too soon.

Observations are state indices ``row * width + col`` (int32 scalars), ready to index a Q-table of shape
``(num_states, num_actions)``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from course_lib import _validate
from course_lib.envs.base import check_action, check_state

DEFAULT_LAYOUT = (
    "S...#...",
    ".##.#.#.",
    ".#..#.#.",
    ".#.##.#.",
    "...#..#G",
    ".#...#..",
)

# up, right, down, left as (row, col) moves
MOVES = np.array([[-1, 0], [0, 1], [1, 0], [0, -1]], dtype=np.int32)
ARROWS = ("↑", "→", "↓", "←")


class GridWorldParams(NamedTuple):
    """Everything that may vary between GridWorlds of one size (and so can be ``vmap``-ed over)."""

    walls: jax.Array  # (height, width) bool
    start: jax.Array  # (2,) int32: row, col
    goal: jax.Array  # (2,) int32: row, col
    lesser_goals: jax.Array  # (height, width) bool
    step_penalty: float = 0.01
    goal_reward: float = 1.0
    lesser_goal_reward: float = 0.3
    slip_probability: float = 0.0
    max_steps: int = 100


class GridWorldState(NamedTuple):
    position: jax.Array  # (2,) int32: row, col
    time: jax.Array  # () int32: steps taken in this episode


class GridWorld:
    """A GridWorld of a fixed size; the layout and rewards live in ``params``."""

    num_actions: int = 4
    observation_shape: tuple[int, ...] = ()

    def __init__(
        self,
        layout: tuple[str, ...] | list[str] = DEFAULT_LAYOUT,
        *,
        step_penalty: float = 0.01,
        goal_reward: float = 1.0,
        lesser_goal_reward: float = 0.3,
        slip_probability: float = 0.0,
        max_steps: int = 100,
    ) -> None:
        if isinstance(layout, str) or not all(isinstance(row, str) for row in layout):
            raise TypeError(
                f"layout must be a list of strings, one per row (e.g. ['S..', '..G']), got {layout!r}"
            )
        rows = list(layout)
        if not rows or any(len(row) != len(rows[0]) for row in rows):
            raise ValueError(f"layout must be a non-empty list of equally long strings, got {layout!r}")
        grid = np.array([list(row) for row in rows])
        unknown = set(grid.flat) - set("#SGg.")
        if unknown:
            raise ValueError(f"layout may only contain '#', 'S', 'G', 'g' and '.', got {sorted(unknown)}")
        for mark in "SG":
            if (grid == mark).sum() != 1:
                raise ValueError(f"layout must contain exactly one '{mark}', got {(grid == mark).sum()}")
        _validate.in_range("slip_probability", slip_probability, 0.0, 1.0)
        _validate.positive_int("max_steps", max_steps)
        for name, value in (("step_penalty", step_penalty), ("goal_reward", goal_reward), ("lesser_goal_reward", lesser_goal_reward)):
            _validate.finite(name, value)
        self.height, self.width = grid.shape
        self.num_states = self.height * self.width
        self.default_params = GridWorldParams(
            walls=jnp.asarray(grid == "#"),
            start=jnp.asarray(np.argwhere(grid == "S")[0], jnp.int32),
            goal=jnp.asarray(np.argwhere(grid == "G")[0], jnp.int32),
            lesser_goals=jnp.asarray(grid == "g"),
            step_penalty=step_penalty,
            goal_reward=goal_reward,
            lesser_goal_reward=lesser_goal_reward,
            slip_probability=slip_probability,
            max_steps=max_steps,
        )

    def reset(self, key: jax.Array, params: GridWorldParams | None = None) -> tuple[jax.Array, GridWorldState]:
        """Start at ``params.start``. ``key`` is unused (the start is fixed). Returns ``(obs, state)``."""
        _validate.key("key", key)
        params = self._checked_params(params)
        state = GridWorldState(position=jnp.asarray(params.start, jnp.int32), time=jnp.zeros((), jnp.int32))
        return self.observation(state), state

    def step(
        self, key: jax.Array, state: GridWorldState, action: jax.Array, params: GridWorldParams | None = None
    ) -> tuple[jax.Array, GridWorldState, jax.Array, jax.Array, jax.Array, dict[str, Any]]:
        """Move (perhaps slipping). Returns ``(obs, state, reward, terminated, truncated, info)``."""
        _validate.key("key", key)
        params = self._checked_params(params)
        check_state(state, GridWorldState)
        check_action(action, self.num_actions)
        slip_key, direction_key = jax.random.split(key)
        slips = jax.random.uniform(slip_key) < params.slip_probability
        actual = jnp.where(slips, jax.random.randint(direction_key, (), 0, self.num_actions), action)

        target = state.position + jnp.asarray(MOVES)[actual]
        inside = (target >= 0).all() & (target[0] < self.height) & (target[1] < self.width)
        clipped = jnp.clip(target, 0, jnp.array([self.height - 1, self.width - 1]))
        blocked = ~inside | params.walls[clipped[0], clipped[1]]
        position = jnp.where(blocked, state.position, target)

        at_goal = (position == params.goal).all()
        at_lesser_goal = params.lesser_goals[position[0], position[1]]
        terminated = at_goal | at_lesser_goal
        reward = jnp.where(
            at_goal, params.goal_reward, jnp.where(at_lesser_goal, params.lesser_goal_reward, -params.step_penalty)
        ).astype(jnp.float32)
        next_state = GridWorldState(position=position, time=state.time + 1)
        truncated = next_state.time >= params.max_steps
        return self.observation(next_state), next_state, reward, terminated, truncated, {}

    def _checked_params(self, params: GridWorldParams | None) -> GridWorldParams:
        if params is None:
            return self.default_params
        if not isinstance(params, GridWorldParams):
            raise TypeError(f"params must be a GridWorldParams (or None for the defaults), got {type(params).__name__}")
        if np.shape(params.walls) != (self.height, self.width):
            raise ValueError(
                f"params.walls must have this GridWorld's shape ({self.height}, {self.width}), got {np.shape(params.walls)}"
            )
        _validate.in_range("params.slip_probability", params.slip_probability, 0.0, 1.0)
        return params

    def observation(self, state: GridWorldState) -> jax.Array:
        """The state index ``row * width + col``, an int32 scalar."""
        return (state.position[0] * self.width + state.position[1]).astype(jnp.int32)

    def render_text(self, params: GridWorldParams | None = None, q_table: jax.Array | None = None) -> str:
        """The grid as text; with a Q-table ``(num_states, 4)``, each free cell shows its greedy arrow."""
        params = self.default_params if params is None else params
        if q_table is not None and np.shape(q_table) != (self.num_states, self.num_actions):
            raise ValueError(
                f"q_table must have shape ({self.num_states}, {self.num_actions}), got {np.shape(q_table)}"
            )
        walls = np.asarray(params.walls)
        lesser_goals = np.asarray(params.lesser_goals)
        start, goal = tuple(np.asarray(params.start)), tuple(np.asarray(params.goal))
        greedy = None if q_table is None else np.asarray(q_table).argmax(axis=1)
        lines = []
        for row in range(self.height):
            cells = []
            for col in range(self.width):
                if walls[row, col]:
                    cells.append("#")
                elif (row, col) == goal:
                    cells.append("G")
                elif lesser_goals[row, col]:
                    cells.append("g")
                elif greedy is not None:
                    cells.append(ARROWS[greedy[row * self.width + col]])
                else:
                    cells.append("S" if (row, col) == start else ".")
            lines.append(" ".join(cells))
        return "\n".join(lines)
