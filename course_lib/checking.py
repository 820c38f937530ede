"""Exercise checks: run a learner's function against the reference and say, in plain words, how it went.

Every check prints exactly one verdict:

* ``correct``      -- every case matched the reference;
* ``not yet``      -- the first case that went wrong, what was expected and what came back (shapes,
                      dtypes, values), and a hint;
* ``not started``  -- the placeholder from the chapter is still there (it raises NotImplementedError).

A check never lets a traceback from inside ``course_lib`` reach the learner: an exception raised by the
learner's code is reported as a verdict, with the exception's type, message and the line of the
learner's code where it happened.

A check returns the function the rest of the chapter should use: the learner's when it is correct, the
reference otherwise, so an unfinished exercise never stops the chapter.
"""

from __future__ import annotations

import inspect
import textwrap
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import jax
import numpy as np

__all__ = ["Case", "Verdict", "check", "check_sampler", "compare"]


@dataclass(frozen=True)
class Case:
    """One input on which the learner's function must agree with the reference.

    Attributes:
        name: what this case is, in words a learner understands ("a single reward", "gamma = 0").
        args: positional arguments passed to both functions.
        kwargs: keyword arguments passed to both functions.
        hint: shown when this case fails; say what is special about it.
    """

    name: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    hint: str = ""


@dataclass(frozen=True)
class Verdict:
    """What a check found. ``status`` is one of "correct", "not yet", "not started"."""

    status: str
    message: str

    @property
    def passed(self) -> bool:
        return self.status == "correct"


def compare(expected: Any, got: Any, *, rtol: float, atol: float) -> str | None:
    """Describe the first difference between two pytrees of arrays, or return None if they match."""
    if got is None and expected is not None:
        return "got None; did you forget to return a value?"
    expected_leaves, expected_tree = jax.tree.flatten(expected)
    try:
        got_leaves, got_tree = jax.tree.flatten(got)
    except Exception:  # noqa: BLE001 -- anything unflattenable is a structure mismatch
        got_leaves, got_tree = [got], None
    if got_tree != expected_tree:
        return f"expected a result shaped like {_describe_tree(expected)}, got {_describe_tree(got)}"
    several = len(expected_leaves) > 1
    paths = [jax.tree_util.keystr(path) for path, _ in jax.tree_util.tree_flatten_with_path(expected)[0]]
    for path, (want, have) in zip(paths, zip(expected_leaves, got_leaves)):
        where = f"result{path}: " if several else ""
        want_array, have_array = np.asarray(want), np.asarray(have)
        if want_array.shape != have_array.shape:
            return f"{where}expected shape {want_array.shape}, got shape {have_array.shape}"
        if want_array.dtype.kind != have_array.dtype.kind and not (
            want_array.dtype.kind in "iu" and have_array.dtype.kind in "iu"
        ):
            return (
                f"{where}expected dtype {want_array.dtype} ({_kind(want_array)}), "
                f"got {have_array.dtype} ({_kind(have_array)})"
            )
        if want_array.dtype.kind in "biu":
            mismatch = want_array != have_array
        else:
            mismatch = ~np.isclose(have_array, want_array, rtol=rtol, atol=atol, equal_nan=True)
        if np.any(mismatch):
            if want_array.ndim == 0:
                return f"{where}expected {_fmt(want_array)}, got {_fmt(have_array)}"
            index = tuple(int(i) for i in np.argwhere(mismatch)[0])
            count = int(np.sum(mismatch))
            return (
                f"{where}{count} of {want_array.size} values differ; the first at index {index}: "
                f"expected {_fmt(want_array[index])}, got {_fmt(have_array[index])}"
            )
    return None


def check(
    title: str,
    learner_fn: Callable,
    reference_fn: Callable,
    cases: Sequence[Case],
    *,
    rtol: float = 1e-5,
    atol: float = 1e-6,
    jit: bool = False,
    static_argnums: tuple[int, ...] = (),
    compile_first: bool = False,
    quiet: bool = False,
) -> Callable:
    """Check ``learner_fn`` against ``reference_fn`` on ``cases``; print the verdict; return what to use next.

    Args:
        title: the exercise as the chapter names it, e.g. "Exercise 0.2 (discounted_returns)".
        learner_fn: the learner's function.
        reference_fn: the reference from course_lib.
        cases: inputs on which the two must agree; put the ordinary case first and edge cases after.
        rtol, atol: tolerances for floating-point results.
        jit: also require the learner's function to work under ``jax.jit`` (for exercises that teach
            branch-free code), on the first case.
        static_argnums: arguments that stay static under ``jax.jit``.
        compile_first: run both functions compiled with ``jax.jit`` (for exercises whose functions are
            slow op by op, such as a whole training step). If the learner's function does not compile,
            it is run op by op instead, so the verdict can say why (and ``jit`` then gives the hint).
        quiet: return the verdict's function without printing (for tests).

    Returns:
        ``learner_fn`` if it is correct, otherwise ``reference_fn``.
    """
    learner, reference, compiled = learner_fn, reference_fn, False
    if compile_first and cases:
        reference = jax.jit(reference_fn, static_argnums=static_argnums)
        try:
            learner = jax.jit(learner_fn, static_argnums=static_argnums)
            jax.block_until_ready(learner(*cases[0].args, **cases[0].kwargs))
            compiled = True
        except Exception:  # noqa: BLE001 -- any problem is diagnosed by the op-by-op run below
            learner = learner_fn
    verdict = evaluate(
        learner, reference, cases, rtol=rtol, atol=atol, jit=jit and not compiled, static_argnums=static_argnums
    )
    if compiled and verdict.passed:
        verdict = Verdict(verdict.status, verdict.message + " It also works under jax.jit.")
    if not quiet:
        print(format_verdict(title, verdict))
    return learner_fn if verdict.passed else reference_fn


def format_verdict(title: str, verdict: Verdict, width: int = 88) -> str:
    """The verdict as printed: one status line, then the details, wrapped to fit a code cell's output."""
    follow = "The rest of the chapter uses the reference implementation from course_lib."
    if verdict.status == "correct":
        text = f"✅ {title}: correct. {verdict.message}"
    elif verdict.status == "not started":
        text = f"⏳ {title}: not started. {follow}"
    else:
        text = f"❌ {title}: not yet. {verdict.message}\n{follow}"
    paragraphs = text.splitlines()
    wrapped = [textwrap.fill(paragraphs[0], width=width, subsequent_indent="   ")]
    wrapped += [textwrap.fill(line.strip(), width=width, initial_indent="   ", subsequent_indent="   ") for line in paragraphs[1:]]
    return "\n".join(wrapped)


def evaluate(
    learner_fn: Callable,
    reference_fn: Callable,
    cases: Sequence[Case],
    *,
    rtol: float = 1e-5,
    atol: float = 1e-6,
    jit: bool = False,
    static_argnums: tuple[int, ...] = (),
) -> Verdict:
    """The verdict of a check, without printing it."""
    if not cases:
        raise ValueError("cases: a check needs at least one case")
    if not callable(learner_fn):
        return Verdict("not yet", f"expected a function, got {type(learner_fn).__name__}.")
    for case in cases:
        expected = reference_fn(*case.args, **case.kwargs)
        try:
            got = learner_fn(*case.args, **case.kwargs)
        except NotImplementedError:
            return Verdict("not started", "")
        except Exception as error:  # noqa: BLE001 -- any learner error becomes a verdict, not a traceback
            return Verdict("not yet", _raised(case, error, learner_fn))
        difference = compare(expected, got, rtol=rtol, atol=atol)
        if difference is not None:
            hint = f"\n   Hint: {case.hint}" if case.hint else ""
            return Verdict("not yet", f"On the case '{case.name}': {difference}.{hint}")
    if jit:
        first = cases[0]
        try:
            jax.jit(learner_fn, static_argnums=static_argnums)(*first.args, **first.kwargs)
        except Exception as error:  # noqa: BLE001
            return Verdict(
                "not yet",
                f"Your function gives the right values, but fails under jax.jit on the case '{first.name}': "
                f"{type(error).__name__}. Under jit, arrays are abstract tracers: replace Python `if` on array "
                "values with jnp.where or lax.cond, and math.* with jnp.*.",
            )
    extra = " It also works under jax.jit." if jit else ""
    return Verdict("correct", f"Your function matches the reference on all {len(cases)} cases.{extra}")


def _raised(case: Case, error: Exception, learner_fn: Callable) -> str:
    """Describe a learner's exception in one or two lines: type, message, and their own line that raised it."""
    message = str(error).strip().splitlines()[0] if str(error).strip() else ""
    text = f"On the case '{case.name}' your function raised {type(error).__name__}"
    text += f": {message}" if message else "."
    line = _learner_line(error, learner_fn)
    if line:
        text += f"\n   It happened at: {line}"
    if case.hint:
        text += f"\n   Hint: {case.hint}"
    return text


def _learner_line(error: Exception, learner_fn: Callable) -> str:
    """The last line of the traceback that belongs to the learner's function, if any."""
    learner_fn = getattr(learner_fn, "__wrapped__", learner_fn)  # a check's adapter around the learner's code
    try:
        code = learner_fn.__code__
    except AttributeError:
        return ""
    frames = traceback.extract_tb(error.__traceback__)
    mine = [frame for frame in frames if frame.filename == code.co_filename and frame.line]
    if not mine:
        return ""
    frame = mine[-1]
    try:
        first_line = inspect.getsourcelines(learner_fn)[1]
        offset = frame.lineno - first_line + 1
        return f"line {offset} of {learner_fn.__name__}: {frame.line.strip()}"
    except (OSError, TypeError):
        return frame.line.strip()


def _describe_tree(value: Any) -> str:
    try:
        shapes = jax.tree.map(lambda leaf: f"array{tuple(np.shape(leaf))}", value)
    except Exception:  # noqa: BLE001
        return type(value).__name__
    if isinstance(shapes, str):
        return shapes
    return str(shapes).replace("'", "")


def _kind(array: np.ndarray) -> str:
    return {"f": "floats", "i": "integers", "u": "integers", "b": "booleans", "c": "complex"}.get(
        array.dtype.kind, array.dtype.kind
    )


def _fmt(value: Any) -> str:
    array = np.asarray(value)
    if array.dtype.kind == "f":
        return f"{float(array):.6g}" if array.ndim == 0 else np.array2string(array, precision=6)
    return str(array.tolist())


def check_sampler(
    title: str,
    learner_fn: Callable,
    reference_fn: Callable,
    cases: Sequence[Case],
    num_outcomes: int,
    *,
    draws: int = 20_000,
    quiet: bool = False,
) -> Callable:
    """Check a *random* function ``fn(key, *args) -> int scalar`` by the distribution of its outcomes.

    A correct learner's function may use its key differently from the reference, so comparing single
    draws would be unfair. Instead both are ``vmap``-ed over ``draws`` keys on each case, and each
    outcome's frequency must agree within 5 standard errors of the difference of two frequencies
    (``5 * sqrt(2 p (1 - p) / draws)``, plus ``2 / draws``): a correct function fails with probability
    below about 1e-6 per outcome, while a wrong probability of a few percent is caught.

    Args:
        cases: ``Case.args`` are the arguments after the key (arrays or numbers: they are traced).
        num_outcomes: outcomes are integers in ``[0, num_outcomes)`` (e.g. the number of actions).
    """
    verdict = evaluate_sampler(learner_fn, reference_fn, cases, num_outcomes, draws=draws)
    if not quiet:
        print(format_verdict(title, verdict))
    return learner_fn if verdict.passed else reference_fn


def _batched(fn: Callable) -> Callable:
    """``fn(key, *args, **kwargs)`` vmapped over keys and jitted; args and kwargs are shared by all keys."""
    return jax.jit(jax.vmap(lambda key, args, kwargs: fn(key, *args, **kwargs), in_axes=(0, None, None)))


def evaluate_sampler(
    learner_fn: Callable, reference_fn: Callable, cases: Sequence[Case], num_outcomes: int, *, draws: int = 20_000
) -> Verdict:
    """The verdict of :func:`check_sampler`, without printing it."""
    if not cases:
        raise ValueError("cases: a check needs at least one case")
    keys = jax.random.split(jax.random.key(0), draws)
    reference_keys = jax.random.split(jax.random.key(1), draws)
    # One compiled program per function, reused across cases of equal shapes: the cases' arguments are
    # passed in (not closed over), so only a change of shape or dtype compiles again.
    learner_batched = _batched(learner_fn)
    reference_batched = _batched(reference_fn)
    for case in cases:
        try:
            single = learner_fn(keys[0], *case.args, **case.kwargs)
        except NotImplementedError:
            return Verdict("not started", "")
        except Exception as error:  # noqa: BLE001
            return Verdict("not yet", _raised(case, error, learner_fn))
        if np.shape(single) != () or np.asarray(single).dtype.kind not in "iu":
            return Verdict(
                "not yet",
                f"On the case '{case.name}': expected one integer (shape ()), got {_describe_tree(single)} "
                f"of dtype {getattr(single, 'dtype', type(single).__name__)}.",
            )
        try:
            sampled = learner_batched(keys, case.args, case.kwargs)
        except Exception as error:  # noqa: BLE001
            return Verdict(
                "not yet",
                f"Your function works on one key but fails under jax.vmap on the case '{case.name}': "
                f"{type(error).__name__}. Avoid Python `if` on array values and int(...) of traced arrays; "
                "use jnp.where.",
            )
        expected = reference_batched(reference_keys, case.args, case.kwargs)
        got_freq = np.bincount(np.clip(np.asarray(sampled), 0, num_outcomes - 1), minlength=num_outcomes) / draws
        want_freq = np.bincount(np.asarray(expected), minlength=num_outcomes) / draws
        outside = (np.asarray(sampled) < 0) | (np.asarray(sampled) >= num_outcomes)
        if outside.any():
            return Verdict(
                "not yet", f"On the case '{case.name}': outcomes must lie in [0, {num_outcomes}), got {int(np.asarray(sampled)[outside][0])}."
            )
        bound = 5 * np.sqrt(2 * want_freq * (1 - want_freq) / draws) + 2 / draws
        worst = int(np.argmax(np.abs(got_freq - want_freq) - bound))
        if abs(got_freq[worst] - want_freq[worst]) > bound[worst]:
            hint = f"\n   Hint: {case.hint}" if case.hint else ""
            return Verdict(
                "not yet",
                f"On the case '{case.name}': outcome {worst} came up {got_freq[worst]:.1%} of the time over "
                f"{draws:,} keys; the reference gives {want_freq[worst]:.1%}.{hint}",
            )
    return Verdict("correct", f"The distribution of your outcomes matches the reference on all {len(cases)} cases.")
