"""How every benchmark times a compiled function: compile apart, then the median of repeated runs.

``jax.jit(fn).lower(*args).compile()`` is timed on its own, so "compile" is compilation only; the first
call of the compiled function is timed next (it includes one-time allocations), then ``repeats`` more
calls, whose median is the steady state. JAX dispatches asynchronously, so every call waits for its
result.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import jax


@dataclass(frozen=True)
class Measured:
    """Seconds: ``compile`` (lower + compile), ``first_call`` (compile + first run, what a learner waits
    for the first time), ``steady`` (median of ``runs``, each a call of the compiled function)."""

    compile: float
    first_call: float
    steady: float
    runs: tuple[float, ...]

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "runs": list(self.runs)}


def median_seconds(fn: Callable[[], Any], repeats: int) -> tuple[float, tuple[float, ...]]:
    """Run ``fn()`` ``repeats`` times, waiting for each result; the median and every time."""
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn())
        runs.append(time.perf_counter() - start)
    return statistics.median(runs), tuple(runs)


def measure_jitted(fn: Callable, *args: Any, repeats: int) -> tuple[Measured, Any]:
    """Compile ``jax.jit(fn)`` for ``args``, call it once, then ``repeats`` times; the timings and the
    last result."""
    start = time.perf_counter()
    compiled = jax.jit(fn).lower(*args).compile()
    compile_seconds = time.perf_counter() - start
    start = time.perf_counter()
    result = jax.block_until_ready(compiled(*args))
    first_run = time.perf_counter() - start
    steady, runs = median_seconds(lambda: compiled(*args), repeats)
    return Measured(compile_seconds, compile_seconds + first_run, steady, runs), result
