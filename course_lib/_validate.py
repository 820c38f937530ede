"""Input checks for learner-facing functions: a clear message naming the argument and what was expected.

Checks run only on concrete values. Under ``jax.jit`` the arguments are abstract tracers whose values
are unknown at trace time, so value checks are skipped there (shape checks still run: shapes are static).
"""

from __future__ import annotations

from typing import Any

import jax
import numpy as np


def is_concrete(value: Any) -> bool:
    """True unless ``value`` is a JAX tracer (inside jit, vmap or grad)."""
    return not isinstance(value, jax.core.Tracer)


def in_range(name: str, value: Any, low: float, high: float) -> None:
    """Raise ValueError unless every element of ``value`` lies in [low, high]."""
    if not is_concrete(value):
        return
    array = np.asarray(value)
    if array.size and (np.any(np.isnan(array)) or array.min() < low or array.max() > high):
        shown = float(array) if array.ndim == 0 else f"values from {array.min():g} to {array.max():g}"
        raise ValueError(f"{name} must lie in [{low:g}, {high:g}], got {shown}")


def positive_int(name: str, value: Any) -> int:
    """Return ``value`` as an int, or raise ValueError unless it is a whole number >= 1."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a whole number >= 1, got {value!r}")
    return int(value)


def one_of(name: str, value: Any, choices: Any) -> None:
    """Raise ValueError unless ``value`` is one of ``choices`` (a name such as a loss or an activation)."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {sorted(choices)}, got {value!r}")


def ndim_at_least(name: str, value: Any, ndim: int, meaning: str) -> None:
    """Raise ValueError unless ``value`` has at least ``ndim`` dimensions."""
    if np.ndim(value) < ndim:
        raise ValueError(f"{name} must have at least {ndim} dimension(s) ({meaning}), got shape {np.shape(value)}")


def same_shape(name: str, value: Any, other_name: str, other: Any) -> None:
    """Raise ValueError unless two arrays have the same shape."""
    if np.shape(value) != np.shape(other):
        raise ValueError(
            f"{name} must have the same shape as {other_name} {np.shape(other)}, got shape {np.shape(value)}"
        )
