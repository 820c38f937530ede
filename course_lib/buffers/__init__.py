"""Replay buffers as pure functions over explicit state: ``uniform`` and ``prioritized``."""

from course_lib.buffers import prioritized, uniform

__all__ = ["prioritized", "uniform"]
