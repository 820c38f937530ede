"""What the tests of the exercise checks (tests/test_exercises_ch0*.py) share: the chapter's placeholder, a
check run with its verdict captured, and the assertion on that verdict.

Imported as ``tests.exercise_helpers``: the repository's root is on the import path through pytest's
``pythonpath`` setting in pyproject.toml.
"""

from collections.abc import Callable

from tools.make_chapters import PLACEHOLDER_MESSAGE


def not_started(*args, **kwargs):
    """An exercise as the chapter hands it out: the placeholder line, still there."""
    raise NotImplementedError(PLACEHOLDER_MESSAGE)


def run(check: Callable, learner: Callable, capsys, *more) -> tuple[Callable, str]:
    """Run ``check(learner, *more)`` as a chapter does; return the function it hands back (the learner's,
    or the reference) and the verdict it printed, on one line (the verdict wraps at 88 characters)."""
    used = check(learner, *more)
    return used, " ".join(capsys.readouterr().out.split())


def assert_verdict(used: Callable, out: str, learner: Callable, status: str, says: str = "") -> None:
    """The verdict has ``status`` (✅, ❌ or ⏳) and says ``says``; the check hands back the learner's
    function exactly when it is correct; and no traceback reaches the learner."""
    assert status in out and says in out, out
    assert (used is learner) == (status == "✅"), out
    assert "Traceback" not in out, out
