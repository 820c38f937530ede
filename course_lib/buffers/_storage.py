"""Fixed-size storage for transitions, shared by both buffers.

XLA compiles for fixed shapes, so a buffer is pre-allocated: every leaf of the example transition gets
a leading axis of length ``capacity``. A circular write position and a fill count say which slots hold
data. Nothing is ever appended or resized, so ``add`` and ``sample`` compile once.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from course_lib import _validate


def allocate(capacity: int, example_transition: Any) -> Any:
    """Zeros shaped ``(capacity, *leaf.shape)`` for every leaf of ``example_transition``."""
    capacity = _validate.positive_int("capacity", capacity)
    leaves = jax.tree.leaves(example_transition)
    if not leaves:
        raise ValueError("example_transition must contain at least one array")
    for leaf in leaves:
        _validate.numeric("example_transition", leaf)
    return jax.tree.map(lambda leaf: jnp.zeros((capacity, *np.shape(leaf)), jnp.asarray(leaf).dtype), example_transition)


def check_transition(data: Any, transition: Any) -> None:
    """Raise ValueError unless ``transition`` has the structure and leaf shapes of the stored transitions."""
    data_tree, transition_tree = jax.tree.structure(data), jax.tree.structure(transition)
    if data_tree != transition_tree:
        raise ValueError(
            f"transition must have the structure of the example transition {data_tree}, got {transition_tree}"
        )
    paths = jax.tree_util.tree_flatten_with_path(data)[0]
    for (path, stored), leaf in zip(paths, jax.tree.leaves(transition)):
        _validate.numeric(f"transition{jax.tree_util.keystr(path)}", leaf)
        if stored.dtype.kind in "biu" and jnp.result_type(leaf).kind == "f":
            raise TypeError(
                f"transition{jax.tree_util.keystr(path)} must be an integer like the example transition "
                f"({stored.dtype}), got dtype {jnp.result_type(leaf)}: a float would be truncated"
            )
        if np.shape(leaf) != stored.shape[1:]:
            raise ValueError(
                f"transition{jax.tree_util.keystr(path)} must have shape {stored.shape[1:]} like the example "
                f"transition, got shape {np.shape(leaf)}"
            )


def write(data: Any, position: jax.Array, transition: Any) -> Any:
    """Store ``transition`` in slot ``position`` of every leaf."""
    return jax.tree.map(lambda stored, leaf: stored.at[position].set(jnp.asarray(leaf, stored.dtype)), data, transition)


def gather(data: Any, indices: jax.Array) -> Any:
    """The transitions at ``indices``: every leaf ``(batch, ...)``."""
    return jax.tree.map(lambda stored: stored[indices], data)


def capacity_of(data: Any) -> int:
    return jax.tree.leaves(data)[0].shape[0]


def check_batch_size(batch_size: int) -> int:
    return _validate.positive_int("batch_size", batch_size)


def check_not_empty(size: jax.Array) -> None:
    """Raise (also under jit) when the buffer holds nothing: a sample would be zeros, silently."""
    _validate.check(size > 0, "cannot sample from an empty buffer: state must hold at least one transition (add one first), got size {got}", size)


def check_state(state: Any, state_type: type) -> None:
    if not isinstance(state, state_type):
        raise TypeError(f"state must be a {state_type.__name__} (from init), got {type(state).__name__}")
