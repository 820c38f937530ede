"""Honest wall-clock timing of JAX code: compile time apart from run time, medians of repeats.

JAX dispatches work asynchronously, so a timer must wait for the result (``block_until_ready``) or it
measures only how long it took to *queue* the work.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jax

from course_lib import _validate


@dataclass(frozen=True)
class Timing:
    """``first``: seconds of the first call (compile + run); ``median``: of the later calls, all in ``runs``."""

    first: float
    median: float
    repeats: int
    runs: tuple[float, ...] = ()


def time_call(fn: Callable[..., Any], *args: Any, repeats: int = 3, **kwargs: Any) -> Timing:
    """Call ``fn(*args, **kwargs)`` once (compiling, if jitted), then ``repeats`` more times; wait for results."""
    repeats = _validate.positive_int("repeats", repeats)
    start = time.perf_counter()
    jax.block_until_ready(fn(*args, **kwargs))
    first = time.perf_counter() - start
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn(*args, **kwargs))
        runs.append(time.perf_counter() - start)
    return Timing(first=first, median=statistics.median(runs), repeats=repeats, runs=tuple(runs))
