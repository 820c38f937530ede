"""Replay buffers as pure functions over explicit state: ``uniform`` and ``prioritized``, and ``replay``,
which puts either behind the same four functions for a training loop."""

from course_lib.buffers import prioritized, replay, uniform

__all__ = ["prioritized", "replay", "uniform"]
