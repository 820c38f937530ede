"""A progress bar for jitted training loops.

Under ``jax.jit`` a ``lax.scan`` of 20,000 steps is one call that returns when all of it is done, so a
Python ``for`` loop with a progress bar has nothing to count. ``jax.debug.callback`` is the way out: it
asks XLA to call a Python function, with the current values of some arrays, while the compiled loop runs.
:func:`report` does that every ``every`` steps; :class:`ProgressBar` is the Python side, one line of text
that redraws in place in a notebook (``IPython.display`` with a ``display_id``) and prints plain lines
elsewhere.

A callback costs a round trip from XLA to Python, so report every few thousand steps, not every step.
Under ``vmap`` the callback runs once per batch element; report from a single run, or accept repeats.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import jax
import jax.numpy as jnp

from course_lib import _validate

__all__ = ["ProgressBar", "report"]


class ProgressBar:
    """One line, ``[#####.....] 10,000/20,000 steps · 0.9 s · 11.1k steps/s``, redrawn at each update.

    Call the bar with the number of steps done (a Python or NumPy integer); it is what
    :func:`report` sends from inside a jitted loop. The time counts from the bar's creation (compilation
    included); the rate counts from the first update, so it is the compiled loop's own speed.
    """

    def __init__(self, total: int, label: str = "steps", width: int = 30) -> None:
        _validate.positive_int("total", total)
        self.total, self.label, self.width = total, label, width
        self.started = time.perf_counter()
        self._first: tuple[int, float] | None = None  # (steps, time) at the first update
        self._handle = None
        try:
            from IPython import get_ipython
            from IPython.display import display

            if get_ipython() is not None:
                self._handle = display(self.line(0), display_id=True)
        except ImportError:  # pragma: no cover -- IPython ships with the course's environment
            pass

    def line(self, done: int) -> str:
        """The text of the bar after ``done`` steps."""
        done = min(max(int(done), 0), self.total)
        filled = round(self.width * done / self.total)
        now = time.perf_counter()
        seconds = now - self.started
        rate = ""
        if self._first is not None and done > self._first[0] and now > self._first[1]:
            per_second = (done - self._first[0]) / (now - self._first[1])
            rate = f" · {per_second / 1000:.1f}k {self.label}/s"
        bar = "#" * filled + "." * (self.width - filled)
        return f"[{bar}] {done:,}/{self.total:,} {self.label} · {seconds:.1f} s{rate}"

    def __call__(self, done: object) -> None:
        if self._first is None:
            self._first = (int(done), time.perf_counter())
        text = self.line(int(done))
        if self._handle is not None:
            self._handle.update(text)
        else:
            print(text, flush=True)


def report(
    callback: Callable[[object], None] | None,
    step: jax.Array,
    every: int,
    last: int | None = None,
    stride: int = 1,
) -> None:
    """Inside a jitted function: call ``callback(step)`` on the host whenever ``step`` reaches or passes a
    multiple of ``every``, and at ``step == last`` (the end of the loop, when ``every`` does not divide it).

    ``stride`` is how far ``step`` moves between calls (1 for DQN's environment steps; a whole rollout of
    environment steps for PPO), so ``every`` counts environment steps in both.
    ``callback=None`` does nothing, so a training function can take an optional progress bar.
    """
    if callback is None:
        return
    _validate.positive_int("every", every)
    _validate.positive_int("stride", stride)
    step = jnp.asarray(step)
    due = step // every > (step - stride) // every
    if last is not None:
        due = due | (step == last)
    jax.lax.cond(due, lambda: jax.debug.callback(callback, step), lambda: None)
