"""course_lib: the tested helper package of the course *Deep Reinforcement Learning in JAX*.

Chapters import from here. What a chapter teaches you to write, this package holds as a tested
reference that later chapters build on.
"""

__version__ = "0.1.0"
