"""Input checks for learner-facing functions: a clear message naming the argument and what was expected,
eagerly, under ``jax.jit``, inside ``lax.scan`` and under ``vmap`` alike.

Two kinds of check, one entry point each:

* **Static facts** (shapes, dtypes, Python settings, a key's type) are known while JAX traces, so they
  raise ``ValueError``/``TypeError`` at once, also under ``jit``.
* **Values** (a ``gamma`` of 1.5, an action of 2, a NaN priority) are unknown while tracing. :func:`check`
  raises ``ValueError`` at once when the value is concrete; when it is a tracer, it compiles a
  ``lax.cond`` whose *bad* branch calls ``jax.debug.callback``, and the host function raises the same
  ``ValueError``. JAX surfaces it as ``jax.errors.JaxRuntimeError`` whose last line reads
  ``ValueError: gamma must lie in [0, 1], got 1.5``.

Why not ``jax.experimental.checkify``, the tool JAX made for this: a ``checkify.check`` only works when
the *caller* wraps the function in ``checkify.checkify``; staged under a plain ``jit`` or ``scan`` it
fails at trace time ("Cannot abstractly evaluate a checkify.check which was not functionalized"). A
learner writes ``jax.jit(returns.discounted_returns)(r, 1.5)``, not ``checkify.checkify(...)``, so the
check has to fire without help from the caller. (Our checks still work inside ``checkify.checkify``.)

Why it stays fast: for good input the compiled program evaluates a predicate and takes the empty branch
of a ``cond``; Python is never called. Under ``vmap`` a ``cond`` with a batched predicate would become a
``select`` that runs the callback for every element on every call, so the check is a
``jax.custom_batching.custom_vmap`` whose batching rule reduces the predicate over the batch first.
Measured on whole training runs (2 shared CPU cores, one process, the compiled checks against the same
run with ``check`` a no-op, interleaved, best of 5): DQN (``ARTICLE_CONFIG``, 10,000 steps) 12,550 vs
12,588 steps/s, no measurable cost; PPO (PureJaxRL's CartPole config, 51,200 steps) 100,746 vs 108,818
steps/s, 7 % slower (an action and a state check on every environment step). Outputs for good input are
bitwise unchanged: a check adds a branch, never arithmetic.

One exception, :func:`library_only`: while ``dqn.make_train`` or ``ppo.make_train`` traces a run that holds
no learner code (no ``step_fn``, ``gae_fn``, buffer or environment of the learner's), every traced value
comes from a config and a key that were checked when concrete, so its traced checks cannot fail. There
they are left out: each costs compile time (0.3-0.8 s per training program, measured side by side), and
its host callback keeps the program out of JAX's persistent compilation cache, which never stores a
program with one.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import threading
from collections.abc import Iterator
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.custom_batching import custom_vmap


def is_concrete(value: Any) -> bool:
    """True unless ``value`` (or a leaf of it) is a JAX tracer (inside jit, vmap, grad or scan)."""
    return not any(isinstance(leaf, jax.core.Tracer) for leaf in jax.tree.leaves(value))


# --- The one mechanism for checks on values: raise now if concrete, else from the compiled program. -------


def _show(value: np.ndarray, ok: np.ndarray) -> str:
    """The offending part of ``value``: the value itself if scalar, else the first bad elements."""
    value = np.asarray(value)
    if value.ndim == 0:
        return f"{value.item()!r}" if value.dtype.kind in "biu" else f"{float(value):g}"
    try:
        bad = value[~np.broadcast_to(np.asarray(ok, bool), value.shape)]
    except ValueError:  # ok and value shaped differently (batched one way): show all of it
        bad = value.ravel()
    shown = ", ".join(f"{v:g}" if value.dtype.kind == "f" else str(v) for v in bad[:4])
    more = f" and {bad.size - 4} more" if bad.size > 4 else ""
    return f"{shown}{more} (shape {value.shape})"


def _raise_if_bad(message: str, error: type[Exception], ok: np.ndarray, value: np.ndarray) -> None:
    if not np.all(ok):
        bad_input = error(message.format(got=_show(value, ok)))
        bad_input.course_input_error = True  # see _QuietInputErrors
        raise bad_input


class _QuietInputErrors(logging.Filter):
    """JAX logs every exception raised inside a debug callback, with its traceback, before raising it
    again as a ``JaxRuntimeError`` whose message ends in the same line. For a bad input that log is a
    second, longer traceback from inside course_lib on the learner's screen, and says nothing new."""

    def filter(self, record: logging.LogRecord) -> bool:
        raised = record.exc_info[1] if record.exc_info else None
        return not getattr(raised, "course_input_error", False)


logging.getLogger("jax._src.debugging").addFilter(_QuietInputErrors())


Pending = tuple[jax.Array, str, jax.Array, type[Exception]]  # (ok, message, value, error) of one check


def _in_compiled(checks: list[Pending], oks: tuple[jax.Array, ...], values: tuple[jax.Array, ...]) -> None:
    def fail() -> None:
        def raise_first_bad(oks: tuple[np.ndarray, ...], values: tuple[np.ndarray, ...]) -> None:
            for (_, message, _, error), ok, value in zip(checks, oks, values):
                _raise_if_bad(message, error, ok, value)

        jax.debug.callback(raise_first_bad, oks, values)

    lax.cond(jnp.all(jnp.concatenate([jnp.ravel(ok) for ok in oks])), lambda: None, fail)


def _guard(checks: list[Pending]) -> None:
    """One compiled ``cond`` for ``checks``: its bad branch raises the first that fails."""
    oks = tuple(lax.stop_gradient(jnp.asarray(ok, bool)) for ok, *_ in checks)
    values = tuple(lax.stop_gradient(jnp.asarray(value)) for _, _, value, _ in checks)

    @custom_vmap
    def guarded(oks: tuple[jax.Array, ...], values: tuple[jax.Array, ...]) -> tuple[jax.Array, ...]:
        _in_compiled(checks, oks, values)
        return oks

    @guarded.def_vmap
    def batched(axis_size: int, in_batched: list[Any], oks: tuple[jax.Array, ...], values: tuple[jax.Array, ...]):
        # The batch axis is an ordinary axis here: one cond guards the whole batch. Call guarded again,
        # not the cond itself, so that an outer vmap (seeds around a batch of transitions, say) batches it
        # by this rule too; a plain cond under an outer vmap would run its callback once per element,
        # unrolled, and compile time would grow with the batch.
        del axis_size
        guarded(oks, values)
        return oks, in_batched[0]

    guarded(oks, values)


_TRACING = threading.local()


@contextlib.contextmanager
def library_only(when: bool = True) -> Iterator[None]:
    """Trace a program made only of course_lib's code from checked arguments: traced checks are left out
    (see the module docstring); concrete and static checks still run. Per thread, so a program traced in
    another thread at the same time keeps its checks. ``when=False`` changes nothing (for a caller that
    decides at run time whether the learner's code is inside)."""
    before = getattr(_TRACING, "library_only", False)
    _TRACING.library_only = before or when
    try:
        yield
    finally:
        _TRACING.library_only = before


@contextlib.contextmanager
def one_branch() -> Iterator[None]:
    """Compile the traced checks made inside into one ``cond`` instead of one each; its bad branch raises
    the first that fails, in order. For code run on every environment step, where each ``cond`` splits
    the compiled step: CartPole's two checks in one branch ran 1,024 environments at 2.5x gymnax against
    2.0-2.2x with a branch each (side by side, one process, interleaved). Checks on concrete values still
    raise at once."""
    outer = getattr(_TRACING, "pending", None)
    pending: list[Pending] = []
    _TRACING.pending = pending
    try:
        yield
    finally:
        _TRACING.pending = outer
    if pending:
        _guard(pending)


def check(ok: Any, message: str, value: Any, error: type[Exception] = ValueError) -> None:
    """Raise ``error(message)`` unless every element of ``ok`` is true; ``{got}`` in ``message`` shows the
    offending part of ``value``. Eager on concrete input; from the compiled program on traced input."""
    if is_concrete(ok):
        ok = np.asarray(ok)
        if not np.all(ok):  # the value may still be a tracer (under grad, where ok is not): show its shape
            shown = np.asarray(value) if is_concrete(value) else np.full(np.shape(value), np.nan)
            _raise_if_bad(message, error, ok, shown)
        return
    if getattr(_TRACING, "library_only", False):
        return
    pending = getattr(_TRACING, "pending", None)
    if pending is not None:
        pending.append((ok, message, value, error))
    else:
        _guard([(ok, message, value, error)])


# --- Values: ranges, finiteness, indices. -----------------------------------------------------------------


def _number(value: Any) -> jax.Array | np.ndarray:
    if isinstance(value, (list, tuple)):
        value = np.asarray(value)
    return value if not is_concrete(value) else np.asarray(value)


def in_range(name: str, value: Any, low: float, high: float, *, low_open: bool = False) -> None:
    """``ValueError`` unless every element of ``value`` lies in [low, high] (or (low, high] with
    ``low_open``); NaN is out of every range. ``high`` may be ``inf``."""
    numeric(name, value)
    array = _number(value)
    above = array > low if low_open else array >= low
    bracket = "(" if low_open else "["
    check(above & (array <= high), f"{name} must lie in {bracket}{low:g}, {high:g}], got {{got}}", array)


def positive(name: str, value: Any) -> None:
    """``ValueError`` unless every element of ``value`` is a finite number > 0 (a step size, a norm)."""
    numeric(name, value)
    array = _number(value)
    xp = np if is_concrete(array) else jnp
    check(xp.isfinite(array) & (array > 0), f"{name} must be a finite number > 0, got {{got}}", array)


def finite(name: str, value: Any) -> None:
    """``ValueError`` unless every element of ``value`` is finite (no NaN, no inf)."""
    numeric(name, value)
    array = _number(value)
    xp = np if is_concrete(array) else jnp
    check(xp.isfinite(array), f"{name} must be finite (no NaN or inf), got {{got}}", array)


def not_nan(name: str, value: Any) -> None:
    """``ValueError`` if any element of ``value`` is NaN (inf is allowed: a masked action's -inf)."""
    numeric(name, value)
    array = _number(value)
    xp = np if is_concrete(array) else jnp
    check(~xp.isnan(array), f"{name} must not contain NaN, got {{got}}", array)


def flag(name: str, value: Any) -> None:
    """``ValueError`` unless ``value`` is boolean, or numbers that are all 0 or 1 (a terminated mask)."""
    numeric(name, value)
    if _dtype(value).kind == "b":
        return
    array = _number(value)
    check((array == 0) | (array == 1), f"{name} must be True/False (or 0/1), got {{got}}", array)


def broadcast_free(**arrays: Any) -> None:
    """``ValueError`` unless every array is a scalar or has the shape of the largest: a ``(3, 1)`` next to a
    ``(3,)`` would broadcast silently to ``(3, 3)``."""
    shapes = {name: np.shape(value) for name, value in arrays.items()}
    try:
        result = np.broadcast_shapes(*shapes.values())
    except ValueError:
        result = None
    for name, shape in shapes.items():
        if shape and shape != result:
            others = ", ".join(f"{other} {s}" for other, s in shapes.items() if other != name)
            raise ValueError(f"{name} must be a scalar or have the same shape as the others ({others}), got shape {shape}")


def index(name: str, value: Any, size: int, meaning: str = "") -> None:
    """``ValueError``/``TypeError`` unless ``value`` is an integer (array) with every element in [0, size):
    JAX clamps an out-of-range index when reading and drops it when writing, silently."""
    integer(name, value)
    array = _number(value)
    what = f" ({meaning})" if meaning else ""
    check((array >= 0) & (array < size), f"{name} must lie in [0, {size}){what}, got {{got}}", array)


# --- Static facts: types, dtypes, shapes, settings. -------------------------------------------------------


def _dtype(value: Any) -> np.dtype:
    if isinstance(value, (list, tuple)):
        value = np.asarray(value)
    return jnp.result_type(value)


def numeric(name: str, value: Any) -> None:
    """``TypeError`` unless ``value`` is a number or an array of numbers (not a string, not ``None``)."""
    if isinstance(value, (str, bytes)) or value is None:
        raise TypeError(f"{name} must be a number or an array of numbers, got {value!r}")
    try:
        kind = _dtype(value).kind
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number or an array of numbers, got {type(value).__name__}") from None
    if kind not in "biuf":
        raise TypeError(f"{name} must be a number or an array of numbers, got dtype {_dtype(value)}")


def integer(name: str, value: Any) -> None:
    """``TypeError`` unless ``value`` has an integer dtype: a float action or state would be truncated."""
    numeric(name, value)
    dtype = _dtype(value)
    if dtype.kind not in "iu":
        raise TypeError(f"{name} must be an integer (an index), got dtype {dtype}: convert with .astype(jnp.int32)")


def floating(name: str, value: Any) -> None:
    """``TypeError`` unless ``value`` has a float dtype (Q-values, logits)."""
    numeric(name, value)
    dtype = _dtype(value)
    if dtype.kind != "f":
        raise TypeError(f"{name} must be floats, got dtype {dtype}: convert with .astype(jnp.float32)")


def scalar(name: str, value: Any, meaning: str = "") -> None:
    """``ValueError`` unless ``value`` is a scalar (shape ``()``)."""
    if np.ndim(value) != 0:
        what = f" ({meaning})" if meaning else ""
        raise ValueError(f"{name} must be a scalar{what}, got shape {np.shape(value)}")


def ndim(name: str, value: Any, expected: int, layout: str) -> None:
    """``ValueError`` unless ``value`` has exactly ``expected`` dimensions, written out as ``layout``."""
    if np.ndim(value) != expected:
        raise ValueError(f"{name} must have shape {layout}, got shape {np.shape(value)}")


def ndim_at_least(name: str, value: Any, ndim: int, meaning: str) -> None:
    """Raise ValueError unless ``value`` has at least ``ndim`` dimensions."""
    if np.ndim(value) < ndim:
        raise ValueError(f"{name} must have at least {ndim} dimension(s) ({meaning}), got shape {np.shape(value)}")


def same_shape(name: str, value: Any, other_name: str, other: Any) -> None:
    """Raise ValueError unless two arrays have the same shape (no silent broadcasting)."""
    if np.shape(value) != np.shape(other):
        raise ValueError(
            f"{name} must have the same shape as {other_name} {np.shape(other)}, got shape {np.shape(value)}"
        )


def positive_int(name: str, value: Any) -> int:
    """Return ``value`` as an int, or raise ValueError unless it is a whole number >= 1."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a whole number >= 1, got {value!r}")
    return int(value)


def non_negative_int(name: str, value: Any) -> int:
    """Return ``value`` as an int, or raise ValueError unless it is a whole number >= 0."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{name} must be a whole number >= 0, got {value!r}")
    return int(value)


def one_of(name: str, value: Any, choices: Any) -> None:
    """Raise ValueError unless ``value`` is one of ``choices`` (a name such as a loss or an activation)."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {sorted(choices)}, got {value!r}")


def boolean(name: str, value: Any) -> None:
    """Raise ValueError unless ``value`` is True or False (a switch, not a number that happens to be truthy)."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False, got {value!r}")


def key(name: str, value: Any) -> None:
    """``TypeError`` unless ``value`` is a PRNG key: ``jax.random.key(seed)`` (or a legacy ``PRNGKey``),
    not the seed itself."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        raise TypeError(f"{name} must be a PRNG key, got the int {value}: pass jax.random.key({value})")
    try:
        dtype = jnp.result_type(value) if not isinstance(value, (list, tuple)) else None
    except (TypeError, ValueError):
        dtype = None
    if dtype is not None and jax.dtypes.issubdtype(dtype, jax.dtypes.prng_key):
        return
    if dtype == np.uint32 and np.shape(value)[-1:] == (2,):
        return  # a legacy jax.random.PRNGKey
    shown = f"dtype {dtype}, shape {np.shape(value)}" if dtype is not None else type(value).__name__
    raise TypeError(f"{name} must be a PRNG key from jax.random.key(seed), got {shown}")


def instance(name: str, value: Any, required: tuple[str, ...], example: str) -> None:
    """``TypeError`` when ``value`` is a class (``CartPole`` instead of ``CartPole()``) or lacks one of
    the ``required`` attributes."""
    if inspect.isclass(value):
        raise TypeError(f"{name} must be an instance, got the class {value.__name__}: write {value.__name__}()")
    missing = [attribute for attribute in required if not hasattr(value, attribute)]
    if missing:
        raise TypeError(f"{name} must be {example} (with {', '.join(required)}), got {type(value).__name__}")


def function(name: str, value: Any) -> None:
    """``TypeError`` unless ``value`` is callable."""
    if not callable(value):
        raise TypeError(f"{name} must be a function, got {type(value).__name__}")

