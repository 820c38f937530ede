"""How every benchmark times a compiled function: compile apart, then the median of repeated runs.

``jax.jit(fn).lower(*args).compile()`` is timed on its own, so "compile" is compilation only; then
:func:`course_lib.timing.time_call` times the first call of the compiled function (it includes
one-time allocations) and ``repeats`` more, whose median is the steady state.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

import jax
from jax._src import compilation_cache  # reset_cache: JAX decides once per process whether to use it

from course_lib.timing import time_call


@contextlib.contextmanager
def without_persistent_cache() -> Iterator[None]:
    """JAX's persistent compilation cache off inside, as it was outside. ``make bench`` inherits the
    Makefile's cache folder, which ``make test`` fills: a compile timed there would be a cache read (DQN
    FAST's 1.8 s compile measured 0.7 s on a fresh clone after ``make test``). The chapters' kernels set
    their own cache folders."""
    before = jax.config.jax_enable_compilation_cache
    jax.config.update("jax_enable_compilation_cache", False)
    compilation_cache.reset_cache()
    try:
        yield
    finally:
        jax.config.update("jax_enable_compilation_cache", before)
        compilation_cache.reset_cache()


def persistent_cache_used() -> bool:
    """Whether a compile here would read and write JAX's persistent cache."""
    return compilation_cache.is_cache_used(jax.devices()[0].client)


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


def measure_jitted(
    fn: Callable, *args: Any, repeats: int, compiler_options: dict[str, Any] | None = None
) -> tuple[Measured, Any]:
    """Compile ``jax.jit(fn, compiler_options=...)`` for ``args``, call it once, then ``repeats`` times;
    the timings and the last result. JAX's in-memory caches are cleared first, so every compile is
    timed from cold, as in a fresh process, whatever this process compiled before."""
    jax.clear_caches()
    start = time.perf_counter()
    compiled = jax.jit(fn, compiler_options=compiler_options).lower(*args).compile()
    compile_seconds = time.perf_counter() - start
    last = []

    def call(*args: Any) -> Any:  # keeps its result, so a long run need not be repeated to read it
        last[:] = [compiled(*args)]
        return last[0]

    timing = time_call(call, *args, repeats=repeats)
    return Measured(compile_seconds, compile_seconds + timing.first, timing.median, timing.runs), last[0]
