"""The course's own tools (chapter generator, book pages, lab settings, lock writer), run from the
repository's root as ``python -m tools.NAME``, and imported by the tests as ``tools.NAME``."""
