"""Exercise checks: run a learner's function against the reference and say, in plain words, how it went.

Every check prints exactly one verdict:

* ``correct``      -- every case matched the reference;
* ``not yet``      -- the first case that went wrong, what was expected and what came back (shapes,
                      dtypes, values), and a hint;
* ``not started``  -- the placeholder from the chapter is still there (it raises NotImplementedError).

A check never lets a traceback from inside ``course_lib`` reach the learner: an exception raised by the
learner's code is reported as a verdict, with the exception's type, message and the line of the
learner's code where it happened.

A check judges an answer by the properties that define it, not by one value: many cases, gradients
(``grad_argnums``) for answers that are differentiated later, every case again under ``jax.jit`` (``jit``)
and ``jax.vmap`` (``vmap``) where the chapter compiles or batches the answer, and inputs that must come
back unchanged (always). A failing answer is compared with the known wrong answers (``mistakes``) a
learner plausibly writes, so the hint names the mistake that was made; valid conventions other than the
reference's are accepted (``accept``).

A check returns the function the rest of the chapter should use: the learner's when it is correct, the
reference otherwise, so an unfinished exercise never stops the chapter.

A check that ``check`` cannot express (chapter 07's bootstrap intervals, judged by distribution over
keys) builds its verdicts from ``describe_error``, ``learner_line`` and ``describe_key_reuse``, so its
words are the same as every other check's.
"""

from __future__ import annotations

import functools
import inspect
import textwrap
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

__all__ = [
    "Case",
    "Mistake",
    "Verdict",
    "check",
    "check_sampler",
    "compare",
    "describe_error",
    "describe_key_reuse",
    "learner_line",
    "whose_code",
]


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
class Mistake:
    """A wrong answer a learner plausibly writes, and the hint that names it.

    Attributes:
        hint: what went wrong and how to fix it, in the learner's terms.
        fn: the wrong answer, with the exercise's signature. When the learner's result on a failing case
            equals this function's result (and not the reference's), ``hint`` is shown.
    """

    hint: str
    fn: Callable


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
    vmap: bool = False,
    grad_argnums: int | tuple[int, ...] | None = None,
    static_argnums: tuple[int, ...] = (),
    mistakes: Sequence[Mistake] = (),
    accept: Sequence[Callable] = (),
    compile_first: bool = False,
    then: Callable[[Callable], Verdict] | None = None,
    quiet: bool = False,
) -> Callable:
    """Check ``learner_fn`` against ``reference_fn`` on ``cases``; print the verdict; return what to use next.

    Args:
        title: the exercise as the chapter names it, e.g. "Exercise 0.2 (discounted_returns)".
        learner_fn: the learner's function.
        reference_fn: the reference from course_lib.
        cases: inputs on which the two must agree; put the ordinary case first and edge cases after.
        rtol, atol: tolerances for floating-point results.
        jit: also require every case to give the same result under ``jax.jit`` (for functions the chapter
            compiles).
        vmap: also require every case to give the same result under ``jax.vmap`` over a batch of two
            copies of its arguments (for functions the chapter batches).
        grad_argnums: also compare the gradients with respect to these arguments (for losses): a loss
            with the right value but a ``stop_gradient`` in the wrong place trains nothing.
        static_argnums: arguments that stay static under ``jax.jit`` and are shared under ``jax.vmap``.
        mistakes: known wrong answers; a failing answer that equals one of them gets its hint.
        accept: other valid answers (another common convention); matching one of them on every case
            is correct too.
        compile_first: run both functions compiled with ``jax.jit`` (for exercises whose functions are
            slow op by op, such as a whole training step). If the learner's function does not compile,
            it is run op by op instead, so the verdict can say why (and ``jit`` then gives the hint).
        then: a further judgement, ``learner_fn -> Verdict``, made once every case has passed (for a
            property the cases cannot show, such as the distribution of a random choice inside).
        quiet: return the verdict's function without printing (for tests).

    Returns:
        ``learner_fn`` if it is correct, otherwise ``reference_fn``.
    """
    learner, references, compiled = learner_fn, [reference_fn, *accept], False
    if compile_first and cases:
        references = [jax.jit(fn, static_argnums=static_argnums) for fn in references]
        mistakes = [Mistake(m.hint, jax.jit(m.fn, static_argnums=static_argnums)) for m in mistakes]
        try:
            learner = jax.jit(learner_fn, static_argnums=static_argnums)
            jax.block_until_ready(learner(*_fresh(cases[0].args), **_fresh(cases[0].kwargs)))
            compiled = True
        except Exception:  # noqa: BLE001 -- any problem is diagnosed by the op-by-op run below
            learner = learner_fn
    if compiled:  # keep the learner's own lines in error reports
        learner = functools.wraps(learner_fn)(learner)
    options = dict(
        rtol=rtol, atol=atol, jit=jit and not compiled, vmap=vmap, grad_argnums=grad_argnums,
        static_argnums=static_argnums, mistakes=mistakes,
    )  # fmt: skip
    verdict = evaluate(learner, references[0], cases, **options)
    for alternative in references[1:]:
        if verdict.passed or verdict.status == "not started":
            break
        other = evaluate(learner, alternative, cases, **options)
        if other.passed:
            verdict = other
    if compiled and verdict.passed:
        verdict = Verdict(verdict.status, verdict.message + " It also works under jax.jit.")
    if then is not None and verdict.passed:
        further = then(learner_fn)
        verdict = further if not further.passed else Verdict("correct", f"{verdict.message} {further.message}")
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


def whose_code(**in_use: tuple[Callable, Callable]) -> str:
    """One line saying whose code a chapter's experiment runs: ``name=(function in use, reference)`` for
    each exercise it uses, e.g. ``whose_code(gae=(gae, returns.gae))``. A check returns the learner's
    function when it passed and the reference otherwise, so this tells the two apart."""
    if not in_use:
        raise ValueError("in_use: name at least one function, as name=(in_use, reference)")
    parts = [
        f"the reference {name} (course_lib)" if used is reference else f"your {name}"
        for name, (used, reference) in in_use.items()
    ]
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return f"This experiment runs {listed}."


def evaluate(
    learner_fn: Callable,
    reference_fn: Callable,
    cases: Sequence[Case],
    *,
    rtol: float = 1e-5,
    atol: float = 1e-6,
    jit: bool = False,
    vmap: bool = False,
    grad_argnums: int | tuple[int, ...] | None = None,
    static_argnums: tuple[int, ...] = (),
    mistakes: Sequence[Mistake] = (),
) -> Verdict:
    """The verdict of a check, without printing it. Arguments as in :func:`check`."""
    if not cases:
        raise ValueError("cases: a check needs at least one case")
    if not callable(learner_fn):
        return Verdict("not yet", f"expected a function, got {type(learner_fn).__name__}.")
    tolerance = dict(rtol=rtol, atol=atol)
    for case in cases:
        expected = reference_fn(*case.args, **case.kwargs)
        args, kwargs = _fresh(case.args), _fresh(case.kwargs)
        try:
            got = learner_fn(*args, **kwargs)
        except NotImplementedError:
            return Verdict("not started", "")
        except Exception as error:  # noqa: BLE001 -- any learner error becomes a verdict, not a traceback
            return Verdict("not yet", describe_error(case, error, learner_fn, mistakes))
        changed = _changed_input(case, args, kwargs, learner_fn)
        if changed:
            return Verdict("not yet", changed)
        difference = compare(expected, got, **tolerance)
        if difference is not None:
            hint = _diagnose(mistakes, case, got, **tolerance) or case.hint
            return Verdict("not yet", f"On the case '{case.name}': {difference}.{_hint(hint)}")
        if grad_argnums is not None:
            problem = _compare_gradients(learner_fn, reference_fn, case, grad_argnums, mistakes, **tolerance)
            if problem:
                return Verdict("not yet", problem)
    for transform, wanted in (("jit", jit), ("vmap", vmap)):
        if wanted:
            problem = _check_transformed(transform, learner_fn, reference_fn, cases, static_argnums, **tolerance)
            if problem:
                return Verdict("not yet", problem)
    also = [name for name, wanted in (("jax.jit", jit), ("jax.vmap", vmap)) if wanted]
    extra = f" It also works under {' and '.join(also)}." if also else ""
    if grad_argnums is not None:
        extra = " Its gradients match too." + extra
    return Verdict("correct", f"Your function matches the reference on all {len(cases)} cases.{extra}")


def _hint(text: str) -> str:
    return f"\n   Hint: {text}" if text else ""


def _fresh(tree: Any) -> Any:
    """A copy of the containers of ``tree`` (dicts, lists, tuples) and of any NumPy array, so a learner's
    function that mutates its input cannot change the case for the reference or the next check."""
    return jax.tree.map(lambda leaf: leaf.copy() if isinstance(leaf, np.ndarray) else leaf, tree)


def _changed_input(case: Case, args: tuple, kwargs: dict, learner_fn: Callable) -> str | None:
    """Say which argument the learner's function changed in place, if it did."""
    names = _parameter_names(learner_fn, len(args))
    for label, original, passed in [
        *((names[i], case.args[i], args[i]) for i in range(len(args))),
        *((name, case.kwargs[name], kwargs[name]) for name in kwargs),
    ]:
        if not _same_tree(original, passed):
            return (
                f"On the case '{case.name}': your function changed its argument `{label}` in place. "
                "JAX functions must be pure: build and return a new value (jax.tree.map, .at[...].set) and "
                "leave the inputs as they were."
            )
    return None


def _same_tree(original: Any, passed: Any) -> bool:
    """True if ``passed`` still has the structure and the values of ``original``."""
    original_leaves, original_tree = jax.tree.flatten(original)
    passed_leaves, passed_tree = jax.tree.flatten(passed)
    if original_tree != passed_tree:
        return False
    for before, after in zip(original_leaves, passed_leaves):
        if before is after:  # the usual case: a JAX array cannot change in place
            continue
        if isinstance(before, np.ndarray):  # copied by _fresh, so compare values
            if np.shape(before) != np.shape(after) or not np.array_equal(before, after, equal_nan=True):
                return False
        elif before is not after:
            return False
    return True


def _parameter_names(fn: Callable, count: int) -> list[str]:
    try:
        names = list(inspect.signature(getattr(fn, "__wrapped__", fn)).parameters)
    except (TypeError, ValueError):
        names = []
    names = [name for name in names if name not in ("self",)]
    return [names[i] if i < len(names) else f"argument {i + 1}" for i in range(count)]


def _diagnose(mistakes: Sequence[Mistake], case: Case, got: Any, *, rtol: float, atol: float) -> str:
    """The hint of the first known mistake whose result on ``case`` equals the learner's, else ""."""
    for mistake in mistakes:
        try:
            wrong = mistake.fn(*_fresh(case.args), **_fresh(case.kwargs))
        except Exception:  # noqa: BLE001 -- a mistake that does not apply to this case
            continue
        if compare(wrong, got, rtol=rtol, atol=atol) is None:
            return mistake.hint
    return ""


def _compare_gradients(
    learner_fn: Callable,
    reference_fn: Callable,
    case: Case,
    grad_argnums: int | tuple[int, ...],
    mistakes: Sequence[Mistake],
    *,
    rtol: float,
    atol: float,
) -> str | None:
    """Compare the gradients of two scalar functions on one case; describe the first difference."""
    argnums = (grad_argnums,) if isinstance(grad_argnums, int) else tuple(grad_argnums)
    names = ", ".join(f"`{_parameter_names(learner_fn, max(argnums) + 1)[i]}`" for i in argnums)

    def gradient(fn: Callable) -> Any:
        return jax.grad(fn, argnums=argnums)(*_fresh(case.args), **_fresh(case.kwargs))

    expected = gradient(reference_fn)
    try:
        got = gradient(learner_fn)
    except Exception as error:  # noqa: BLE001
        return (
            f"On the case '{case.name}': the value is right, but jax.grad of your function with respect to "
            f"{names} raised {type(error).__name__}. Keep the loss a JAX computation from the parameters "
            "to the result: no float(...), int(...) or NumPy in between."
        )
    difference = compare(expected, got, rtol=max(rtol, 1e-4), atol=max(atol, 1e-5))
    if difference is None:
        return None
    hint = ""
    for mistake in mistakes:
        try:
            if compare(gradient(mistake.fn), got, rtol=max(rtol, 1e-4), atol=max(atol, 1e-5)) is None:
                hint = mistake.hint
                break
        except Exception:  # noqa: BLE001
            continue
    hint = hint or (
        "the value is right but the gradient is not, so training would move the wrong way or not at all: "
        "look for a jax.lax.stop_gradient in the wrong place (or a missing one), or a value computed from "
        "other parameters than the ones passed in."
    )
    return f"On the case '{case.name}': the value matches, but the gradient with respect to {names} does not: {difference}.{_hint(hint)}"


def _check_transformed(
    transform: str,
    learner_fn: Callable,
    reference_fn: Callable,
    cases: Sequence[Case],
    static_argnums: tuple[int, ...],
    *,
    rtol: float,
    atol: float,
) -> str | None:
    """Run every case again under ``jax.jit`` or ``jax.vmap``; describe the first failure."""
    for case in cases:
        try:
            if transform == "jit":
                expected = reference_fn(*case.args, **case.kwargs)
                got = jax.jit(learner_fn, static_argnums=static_argnums)(*_fresh(case.args), **_fresh(case.kwargs))
            else:
                if case.kwargs:
                    raise ValueError("vmap checks take positional arguments only")
                batched = [
                    arg if i in static_argnums else jax.tree.map(lambda leaf: jnp.stack([jnp.asarray(leaf)] * 2), arg)
                    for i, arg in enumerate(case.args)
                ]
                in_axes = tuple(None if i in static_argnums else 0 for i in range(len(batched)))
                expected = jax.vmap(reference_fn, in_axes=in_axes)(*batched)
                got = jax.vmap(learner_fn, in_axes=in_axes)(*batched)
        except Exception as error:  # noqa: BLE001
            return (
                f"Your function gives the right values, but fails under jax.{transform} on the case "
                f"'{case.name}': {type(error).__name__}. Under jax.{transform}, arrays are abstract tracers: "
                "replace Python `if` on array values with jnp.where or lax.cond, int(...) or float(...) of an "
                "array with the array itself, and math.* with jnp.*."
            )
        difference = compare(expected, got, rtol=rtol, atol=atol)
        if difference is not None:
            return (
                f"Your function gives the right values op by op, but not under jax.{transform} on the case "
                f"'{case.name}': {difference}. Look for NumPy or Python arithmetic on arrays, or a shape "
                "read from the wrong axis."
            )
    return None


def describe_error(case: Case, error: Exception, learner_fn: Callable, mistakes: Sequence[Mistake] = ()) -> str:
    """Describe a learner's exception in one or two lines: type, message, and their own line that raised it.
    The hint is that of the first known mistake that raises the same error on this case, else the case's."""
    message = _first_line(error)
    text = f"On the case '{case.name}' your function raised {type(error).__name__}"
    text += f": {message}" if message else "."
    line = learner_line(error, learner_fn)
    if line:
        text += f"\n   It happened at: {line}"
    hint = _diagnose_error(mistakes, case, error) or case.hint
    if hint:
        text += f"\n   Hint: {hint}"
    return text


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else ""


def _diagnose_error(mistakes: Sequence[Mistake], case: Case, error: Exception) -> str:
    """The hint of the first known mistake that raises an error of the same type, with the same first line
    of message, on ``case`` (e.g. a scan whose carry has the wrong shape), else ""."""
    for mistake in mistakes:
        try:
            mistake.fn(*_fresh(case.args), **_fresh(case.kwargs))
        except Exception as wrong:  # noqa: BLE001 -- the mistake's own error is what we compare
            if type(wrong) is type(error) and _first_line(wrong) == _first_line(error):
                return mistake.hint
    return ""


def learner_line(error: Exception, learner_fn: Callable) -> str:
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
    mistakes: Sequence[Mistake] = (),
    single_use_keys: bool = False,
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
        mistakes: known wrong samplers; a failing answer whose distribution matches one gets its hint.
        single_use_keys: also require that the function uses each key once (JAX's key-reuse checker,
            ``jax.debug_key_reuse``). Two draws from one key can look right one at a time, as a coin and a
            ``randint`` do, while the exercise asks for independent draws.
    """
    verdict = evaluate_sampler(
        learner_fn, reference_fn, cases, num_outcomes, draws=draws, mistakes=mistakes, single_use_keys=single_use_keys
    )
    if not quiet:
        print(format_verdict(title, verdict))
    return learner_fn if verdict.passed else reference_fn


def _batched(fn: Callable) -> Callable:
    """``fn(key, *args, **kwargs)`` vmapped over keys and jitted; args and kwargs are shared by all keys."""
    return jax.jit(jax.vmap(lambda key, args, kwargs: fn(key, *args, **kwargs), in_axes=(0, None, None)))


def evaluate_sampler(
    learner_fn: Callable,
    reference_fn: Callable,
    cases: Sequence[Case],
    num_outcomes: int,
    *,
    draws: int = 20_000,
    mistakes: Sequence[Mistake] = (),
    single_use_keys: bool = False,
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
        # The shape of one draw, traced only: running the learner's function op by op first would compile
        # every cond in it on its own (seconds for a DQN step). Op by op only when tracing fails, so that
        # the error names the learner's line, or so that a function that works on one key but not under
        # vmap (a Python `if` on a value) is told so below.
        try:
            single = jax.eval_shape(lambda key, args, kwargs: learner_fn(key, *args, **kwargs), keys[0], case.args, case.kwargs)
        except NotImplementedError:
            return Verdict("not started", "")
        except Exception:  # noqa: BLE001
            try:
                single = learner_fn(keys[0], *case.args, **case.kwargs)
            except NotImplementedError:
                return Verdict("not started", "")
            except Exception as error:  # noqa: BLE001
                return Verdict("not yet", describe_error(case, error, learner_fn))
        dtype = getattr(single, "dtype", None)
        if dtype is None and isinstance(single, (int, float, bool, np.generic)):  # a Python number, op by op
            dtype = np.asarray(single).dtype
        if np.shape(single) != () or dtype is None or np.dtype(dtype).kind not in "iu":
            return Verdict(
                "not yet",
                f"On the case '{case.name}': expected one integer (shape ()), got {_describe_tree(single)} "
                f"of dtype {dtype if dtype is not None else type(single).__name__}.",
            )
        reused = describe_key_reuse(learner_fn, case) if single_use_keys else None
        if reused:
            return Verdict("not yet", reused)
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
        bound = _frequency_bound(want_freq, draws)
        worst = int(np.argmax(np.abs(got_freq - want_freq) - bound))
        if abs(got_freq[worst] - want_freq[worst]) > bound[worst]:
            hint = _hint(_diagnose_sampler(mistakes, case, got_freq, reference_keys, num_outcomes) or case.hint)
            return Verdict(
                "not yet",
                f"On the case '{case.name}': outcome {worst} came up {got_freq[worst]:.1%} of the time over "
                f"{draws:,} keys; the reference gives {want_freq[worst]:.1%}.{hint}",
            )
    once = " Your function uses each key once." if single_use_keys else ""
    return Verdict(
        "correct", f"The distribution of your outcomes matches the reference on all {len(cases)} cases.{once}"
    )


def describe_key_reuse(fn: Callable, case: Case) -> str | None:
    """Describe where ``fn(key, *case.args)`` uses one key twice, or None. JAX's key-reuse checker runs on
    the traced program (cheap: nothing is compiled); only when it finds a reuse is the function run op by
    op, so that the error points at the learner's line."""

    def reuses(run: Callable) -> jax.errors.KeyReuseError | None:
        try:
            with jax.debug_key_reuse(True):
                run(jax.random.key(2), *case.args, **case.kwargs)
        except jax.errors.KeyReuseError as error:
            return error
        except Exception:  # noqa: BLE001 -- other problems are reported by the rest of the check
            return None
        return None

    if reuses(jax.jit(fn).trace) is None:
        return None
    error = reuses(fn)
    line = learner_line(error, fn) if error is not None else ""
    where = f"\n   It happened at: {line}" if line else ""
    return (
        f"On the case '{case.name}': your function uses one key for two random draws.{where}\n"
        "   Hint: a key gives one draw. Two draws from the same key are not independent, even when each "
        "looks right on its own: split the key into as many keys as you have draws "
        "(jax.random.split(key, n)) and use each one once."
    )


def _frequency_bound(want_freq: np.ndarray, draws: int) -> np.ndarray:
    """5 standard errors of the difference of two frequencies, plus 2 / draws."""
    return 5 * np.sqrt(2 * want_freq * (1 - want_freq) / draws) + 2 / draws


def _frequencies(fn: Callable, keys: jax.Array, case: Case, num_outcomes: int) -> np.ndarray:
    outcomes = np.clip(np.asarray(_batched(fn)(keys, case.args, case.kwargs)), 0, num_outcomes - 1)
    return np.bincount(outcomes, minlength=num_outcomes) / len(keys)


def _diagnose_sampler(
    mistakes: Sequence[Mistake], case: Case, got_freq: np.ndarray, keys: jax.Array, num_outcomes: int
) -> str:
    """The hint of the first known wrong sampler whose distribution on ``case`` matches the learner's."""
    try:  # all mistakes in one compiled program: several times faster than compiling each on its own
        together = jax.vmap(
            lambda key, args, kwargs: jnp.stack([jnp.asarray(m.fn(key, *args, **kwargs), jnp.int32) for m in mistakes]),
            in_axes=(0, None, None),
        )
        outcomes = np.clip(np.asarray(jax.jit(together)(keys, case.args, case.kwargs)), 0, num_outcomes - 1)
        frequencies = [np.bincount(column, minlength=num_outcomes) / len(keys) for column in outcomes.T]
    except Exception:  # noqa: BLE001 -- some mistake does not apply to this case: try them one by one
        frequencies = []
        for mistake in mistakes:
            try:
                frequencies.append(_frequencies(mistake.fn, keys, case, num_outcomes))
            except Exception:  # noqa: BLE001 -- a mistake that does not apply to this case
                frequencies.append(None)
    for mistake, wrong_freq in zip(mistakes, frequencies):
        if wrong_freq is not None and np.all(np.abs(got_freq - wrong_freq) <= _frequency_bound(wrong_freq, len(keys))):
            return mistake.hint
    return ""
