"""What every environment shares: the action check."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from course_lib import _validate


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
