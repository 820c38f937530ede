"""Checks for chapter 03, replay buffers.

Each check judges an answer by the properties that define it and returns the function the chapter uses next
(the learner's when it is correct, the reference otherwise), with the exercise's own signature:
``buffer_add(state, transition) -> uniform.UniformBufferState``, ``buffer_sample(state, key, batch_size) ->
batch`` and ``td_error_probabilities(td_errors, alpha, epsilon) -> probabilities``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from course_lib.agents.dqn import Transition
from course_lib.buffers import prioritized, uniform
from course_lib.checking import Case, Mistake, Verdict, check, compare, evaluate_sampler, format_verdict

__all__ = ["check_buffer_add", "check_buffer_sample", "check_td_error_probabilities"]


# ---------------------------------------------------------------------------------------------------------
# Exercise 3.1: buffer_add
# ---------------------------------------------------------------------------------------------------------


def _random_fields(rng: np.random.Generator, obs_shape: tuple[int, ...]) -> dict[str, np.ndarray]:
    """The fields of one transition with random values, as NumPy arrays (cheap to build, no compilation)."""
    return dict(
        obs=rng.normal(size=obs_shape).astype(np.float32),
        action=np.int32(rng.integers(0, 5)),
        reward=np.float32(rng.normal()),
        next_obs=rng.normal(size=obs_shape).astype(np.float32),
        terminated=np.bool_(rng.random() < 0.3),
    )


def _as_transition(fields: dict[str, np.ndarray], as_dict: bool) -> Any:
    """A ``dqn.Transition`` (obs first, so its first leaf has obs's shape) or a dict (whose first leaf,
    ``action``, is a scalar), of JAX arrays."""
    arrays = {name: jnp.asarray(value) for name, value in fields.items()}
    return arrays if as_dict else Transition(**arrays)


def _add_case(
    rng: np.random.Generator,
    name: str,
    capacity: int,
    count: int,
    obs_shape: tuple[int, ...],
    as_dict: bool = False,
    hint: str = "",
) -> Case:
    """A buffer of ``capacity`` slots as it is after ``count`` additions of random transitions (filled slots
    random, empty slots zero, ``position = count % capacity``, ``size = min(count, capacity)``), and one more
    random transition to add."""
    size = min(count, capacity)
    example = _random_fields(rng, obs_shape)
    data = {field: np.zeros((capacity, *np.shape(value)), np.asarray(value).dtype) for field, value in example.items()}
    for slot in range(size):
        for field, value in _random_fields(rng, obs_shape).items():
            data[field][slot] = value
    state = uniform.UniformBufferState(_as_transition(data, as_dict), jnp.int32(count % capacity), jnp.int32(size))
    return Case(name, (state, _as_transition(_random_fields(rng, obs_shape), as_dict)), hint=hint)


def _add_cases() -> list[Case]:
    rng = np.random.default_rng(31)
    wraps = (
        "the position wraps around to slot 0 after the last slot, and once the buffer is full the size "
        "stays at the capacity."
    )
    cases = [
        _add_case(rng, "the first transition into an empty buffer of 8", 8, 0, (3,)),
        _add_case(rng, "a full buffer of 8 at its last slot (wrapped once)", 8, 15, (3,), hint=wraps),
    ]
    # Partly filled and full buffers, filled to random counts. A dqn.Transition's first leaf is obs, whose
    # last axis and number of elements differ from the capacity, as does the number of fields (5); a dict's
    # first leaf is the scalar action. Capacities 8, 3 and 1 with few distinct leaf shapes, so that the
    # operations compile only a few times.
    for obs_shape, as_dict in (((3,), False), ((2, 3), True)):
        for count in sorted(rng.choice(np.arange(1, 24), size=3, replace=False)):
            count = int(count)
            filled = "full" if count >= 8 else f"{count} of 8 filled"
            kind = "dict transitions" if as_dict else "dqn.Transition"
            name = f"a buffer of 8 ({filled}, position {count % 8}, {kind})"
            cases.append(_add_case(rng, name, 8, count, obs_shape, as_dict))
    cases += [
        _add_case(rng, "the last free slot of a buffer of 3", 3, 2, (2,), hint=wraps),
        _add_case(rng, "the last free slot of a buffer of 8, dict transitions", 8, 7, (2, 3), as_dict=True, hint=wraps),
        _add_case(rng, "a full buffer of 3 at its last slot, dict transitions", 3, 5, (2,), as_dict=True, hint=wraps),
        _add_case(rng, "a buffer of 3 that has wrapped around 3 times", 3, 10, (2,), hint=wraps),
        _add_case(rng, "a buffer of one slot, empty", 1, 0, (2,), hint=wraps),
        _add_case(rng, "a buffer of one slot, full: overwrite it", 1, 5, (2,), hint=wraps),
    ]
    return cases


def _leaves_capacity(state: uniform.UniformBufferState) -> int:
    return jax.tree.leaves(state.data)[0].shape[0]


def _add_with(state, transition, *, capacity=None, slot=None, position=None, size=None):
    """``uniform.add`` with one of its parts replaced by a function of the state: a known wrong answer."""
    capacity = _leaves_capacity(state) if capacity is None else capacity(state)
    slot = state.position if slot is None else slot(state, capacity)
    data = jax.tree.map(lambda stored, leaf: stored.at[slot].set(leaf), state.data, transition)
    new_position = (state.position + 1) % capacity if position is None else position(state, capacity)
    new_size = jnp.minimum(state.size + 1, capacity) if size is None else size(state, capacity)
    return uniform.UniformBufferState(data, jnp.asarray(new_position, jnp.int32), jnp.asarray(new_size, jnp.int32))


_CAPACITY_HINT = (
    "the capacity is the length of the leading axis (shape[0]) of any data array in state.data "
    "(jax.tree.leaves lists them){}."
)
_TOO_LARGE = (
    "the position ran past the last slot and the size past the capacity, both together: the capacity you "
    "used is too large. It is the length of the leading axis (shape[0]) of any data array in state.data, "
    "not its number of elements (.size) nor a number typed in."
)
_SIZE_FROM_POSITION = (
    "the size is computed from the position, which falls back to small numbers after a wrap-around: "
    "count the size up from state.size and cap it at the capacity."
)

# The cases put a full buffer at its last slot second, before any other full buffer or last slot, so that a
# position never wrapped, a size never capped and a capacity too large are told apart there.
ADD_MISTAKES = [
    Mistake(
        "the position runs past the last slot (capacity - 1): after the last slot it must go back to 0 "
        "(the remainder of position + 1 by the capacity), so the oldest transition is overwritten next.",
        lambda state, transition: _add_with(state, transition, position=lambda s, c: s.position + 1),
    ),
    Mistake(
        "the size keeps growing past the capacity: cap it (jnp.minimum), since a full buffer holds exactly "
        "capacity transitions.",
        lambda state, transition: _add_with(state, transition, size=lambda s, c: s.size + 1),
    ),
    Mistake(
        "the size is capped one short: a full buffer holds capacity transitions, not capacity - 1.",
        lambda state, transition: _add_with(state, transition, size=lambda s, c: jnp.minimum(s.size + 1, c - 1)),
    ),
    Mistake(
        _SIZE_FROM_POSITION,
        lambda state, transition: _add_with(state, transition, size=lambda s, c: (s.position + 1) % c),
    ),
    Mistake(
        _SIZE_FROM_POSITION,
        lambda state, transition: _add_with(state, transition, size=lambda s, c: s.position + 1),
    ),
    Mistake(
        "the transition is written at slot state.size instead of state.position. Both agree until the "
        "buffer is full; after that, the write must go to the oldest slot, state.position.",
        lambda state, transition: _add_with(state, transition, slot=lambda s, c: s.size),
    ),
    Mistake(
        "the transition is written one slot ahead: write at state.position first, then advance the position.",
        lambda state, transition: _add_with(state, transition, slot=lambda s, c: (s.position + 1) % c),
    ),
    Mistake(
        _CAPACITY_HINT.format(", not the last axis"),
        lambda state, transition: _add_with(state, transition, capacity=lambda s: jax.tree.leaves(s.data)[0].shape[-1]),
    ),
    Mistake(
        _CAPACITY_HINT.format(", not the number of fields in a transition"),
        lambda state, transition: _add_with(state, transition, capacity=lambda s: len(jax.tree.leaves(s.data))),
    ),
    Mistake(
        _TOO_LARGE,
        lambda state, transition: _add_with(state, transition, capacity=lambda s: jax.tree.leaves(s.data)[0].size),
    ),
    Mistake(_TOO_LARGE, lambda state, transition: _add_with(state, transition, capacity=lambda s: 10_000)),
]


def check_buffer_add(fn: Callable) -> Callable:
    """Exercise 3.1: ``buffer_add(state, transition)``: write, advance the position, count the size.

    Judged on empty, partly filled, full and wrapped buffers of capacities 1, 3 and 8, with transitions that are
    ``dqn.Transition``s or dicts (whose first leaf has another shape), eagerly, under ``jax.jit`` and
    under ``jax.vmap`` (the DQN run compiles it and trains seeds side by side); the inputs must come back
    unchanged.
    """
    return check(
        "Exercise 3.1 (buffer_add)", fn, uniform.add, _add_cases(), jit=True, vmap=True, mistakes=ADD_MISTAKES
    )


# ---------------------------------------------------------------------------------------------------------
# Exercise 3.2: buffer_sample
# ---------------------------------------------------------------------------------------------------------


class Labelled(NamedTuple):
    """A tiny transition whose fields say which slot it was stored in: 1, 2, ... (0 in an empty slot)."""

    obs: jax.Array  # (2,) float32: [label, -label]
    step: jax.Array  # () int32: label


_MAX_CAPACITY = 8
_LABELS = _MAX_CAPACITY + 1  # a slot's label is 1 + slot, 0 for an empty slot
_MIXED = _LABELS * _LABELS  # the outcome "the fields of one sampled transition come from different slots"
_SAMPLE_OUTCOMES = _MIXED + 1


def _labelled_state(capacity: int, size: int, position: int) -> uniform.UniformBufferState:
    """A buffer of ``capacity`` slots whose first ``size`` slots are filled, slot ``i`` labelled ``i + 1``."""
    labels = jnp.where(jnp.arange(capacity) < size, jnp.arange(1, capacity + 1), 0).astype(jnp.int32)
    data = Labelled(obs=jnp.stack([labels, -labels], axis=1).astype(jnp.float32), step=labels)
    return uniform.UniformBufferState(data, jnp.int32(position), jnp.int32(size))


@jax.jit  # one compiled program instead of a dozen small ones op by op
def _outcome(obs: jax.Array, step: jax.Array) -> jax.Array:
    joint = step[0] * _LABELS + step[-1]
    consistent = jnp.all(obs[..., 0].astype(jnp.int32) == step) & jnp.all(obs[..., 1] == -obs[..., 0])
    return jnp.where(consistent, joint, _MIXED).astype(jnp.int32)


def _joint_outcome(fn: Callable) -> Callable:
    """``fn(state, key, batch_size)`` as ``draw(key, state, template) -> int``: the labels of the first and the
    last transition of one batch, as one outcome, so independence within a batch is judged too.

    ``template.shape[0]`` is the batch size (a shape is static, so it stays a Python int under jit and vmap).
    A batch in which some transition's ``obs`` and ``step`` disagree (fields gathered at different slots)
    gives the outcome ``_MIXED``.
    """

    def draw(key, state, template):
        batch = fn(state, key, template.shape[0])
        return _outcome(jnp.asarray(batch.obs), jnp.asarray(batch.step))

    draw.__wrapped__ = fn  # errors are reported at the learner's own line
    return draw


def _case(name: str, size: int, position: int, batch_size: int, hint: str = "") -> Case:
    return Case(
        f"{name}, a batch of {batch_size}",
        (_labelled_state(_MAX_CAPACITY, size, position), jnp.zeros(batch_size)),
        hint=hint,
    )


def _sample_cases() -> list[Case]:
    """Cases judged by distribution. All of one shape, so each sampler compiles once; batch sizes are varied
    by :func:`_shape_cases`, which compile nothing."""
    return [
        _case(
            "a buffer with 3 of 8 slots filled",
            3,
            3,
            5,
            hint="draw only from the filled slots, the first state.size ones, each with the same chance.",
        ),
        _case(
            "a full buffer of 8 that has wrapped around (position 3)",
            8,
            3,
            5,
            hint="once the buffer is full every slot holds a transition, wherever the position is.",
        ),
        _case("a full buffer of 8 that has wrapped around (position 6)", 8, 6, 5),
        _case(
            "a buffer holding a single transition",
            1,
            1,
            5,
            hint="with one transition stored, every draw is that transition.",
        ),
    ]


def _shape_cases() -> list[Case]:
    """Cases on which only the structure and shapes of the batch are judged, batch sizes 1 to 32."""
    return [
        _case("a buffer with 3 of 8 slots filled", 3, 3, 5),
        _case("a buffer with 3 of 8 slots filled", 3, 3, 2),
        _case("a full buffer of 8", 8, 0, 7),
        _case("a full buffer of 8 that has wrapped around (position 6)", 8, 6, 32),
        _case("a buffer with 6 of 8 slots filled", 6, 6, 1),
        Case(  # the DQN run's transitions
            "a buffer of 16 dqn.Transitions with 10 filled, a batch of 4",
            (_add_case(np.random.default_rng(32), "", 16, 10, (4,)).args[0], jnp.zeros(4)),
        ),
    ]


def _gather(state, indices):
    return jax.tree.map(lambda leaf: leaf[indices], state.data)


def _one_index(state, key, batch_size):
    index = jax.random.randint(key, (), 0, state.size)
    return _gather(state, jnp.full((batch_size,), index))


def _same_key_each(state, key, batch_size):
    return _gather(state, jnp.stack([jax.random.randint(key, (), 0, state.size) for _ in range(batch_size)]))


def _consecutive(state, key, batch_size):
    start = jax.random.randint(key, (), 0, state.size)
    return _gather(state, (start + jnp.arange(batch_size)) % state.size)


def _fields_apart(state, key, batch_size):
    keys = jax.random.split(key, len(jax.tree.leaves(state.data)))
    leaves, tree = jax.tree.flatten(state.data)
    return jax.tree.unflatten(
        tree, [leaf[jax.random.randint(k, (batch_size,), 0, state.size)] for leaf, k in zip(leaves, keys)]
    )


def _without_replacement(state, key, batch_size):
    capacity = jax.tree.leaves(state.data)[0].shape[0]
    filled = jnp.arange(capacity) < state.size
    return _gather(state, jax.random.choice(key, capacity, (batch_size,), replace=False, p=filled / filled.sum()))


def _below(bound: Callable) -> Callable:
    def sample(state, key, batch_size):
        return _gather(state, jax.random.randint(key, (batch_size,), 0, bound(state)))

    return sample


_ONE_KEY = (
    "the draws within a batch are not independent: every index in the batch must be drawn on its own. "
    "Draw all of them at once (jax.random.randint with shape (batch_size,)) or split the key, never "
    "reuse one key or one index."
)

SAMPLE_MISTAKES = [
    Mistake(
        "the indices come from the whole capacity, so empty slots (all zeros) are sampled: draw only "
        "from [0, state.size).",
        _below(lambda state: jax.tree.leaves(state.data)[0].shape[0]),
    ),
    Mistake(
        "the indices stop at state.position, which is the next slot to write, not the number of "
        "transitions stored: once the buffer has wrapped around, every slot is filled. Draw from [0, state.size).",
        _below(lambda state: jnp.maximum(state.position, 1)),
    ),
    Mistake(
        "the upper bound includes one slot too many: jax.random.randint excludes maxval, so maxval = "
        "state.size already covers the last filled slot.",
        _below(lambda state: state.size + 1),
    ),
    Mistake(
        "the newest filled slot is never drawn: jax.random.randint excludes maxval, so use maxval = "
        "state.size, not state.size - 1.",
        _below(lambda state: jnp.maximum(state.size - 1, 1)),
    ),
    Mistake(_ONE_KEY, _one_index),
    Mistake(_ONE_KEY, _same_key_each),
    Mistake(
        "the draws are without replacement (jax.random.choice with replace=False, or a shuffle): no slot "
        "comes up twice in a batch, so the draws are not independent, and a batch larger than the filled "
        "slots takes empty ones. Draw with replacement: jax.random.randint(key, (batch_size,), 0, state.size).",
        _without_replacement,
    ),
    Mistake(
        "the batch is a run of neighbouring slots from one random start: neighbours are correlated, which "
        "is what replay is meant to break. Draw every index independently.",
        _consecutive,
    ),
    Mistake(
        "the fields of one sampled transition come from different slots: draw the indices once and "
        "gather every field (jax.tree.map) at those same indices.",
        _fields_apart,
    ),
]


def _shape_problem(fn: Callable, cases: Sequence[Case]) -> Verdict | None:
    """A verdict if ``fn`` returns a batch of the wrong structure or shape, alone or under ``jax.vmap`` over
    two buffers (the DQN run trains seeds side by side); else None.

    Shapes are found by tracing (``jax.eval_shape``), which compiles nothing. A function that raises while
    traced is left to :func:`check_sampler`, which runs it op by op and reports the learner's line (or says
    that it fails only under jit and vmap).
    """
    key = jax.random.key(0)
    for case in cases:
        state, template = case.args
        batch_size = template.shape[0]
        expected = jax.eval_shape(lambda s, k: uniform.sample(s, k, batch_size), state, key)
        try:
            got = jax.eval_shape(lambda s, k: fn(s, k, batch_size), state, key)
        except Exception:  # noqa: BLE001 -- reported by check_sampler
            return None
        difference = _shape_difference(expected, got)
        if difference:
            hint = _shape_hint(state, batch_size, got)
            return Verdict("not yet", f"On the case '{case.name}': {difference}.\n   Hint: {hint}")
    state, template = cases[0].args
    batch_size = template.shape[0]
    states = jax.tree.map(lambda leaf: jnp.stack([leaf, leaf]), state)
    keys = jax.random.split(key, 2)
    try:
        jax.eval_shape(jax.vmap(lambda s, k: fn(s, k, batch_size)), states, keys)
    except Exception as error:  # noqa: BLE001
        return Verdict(
            "not yet",
            f"Your function works on one buffer but fails under jax.vmap over two buffers on the case "
            f"'{cases[0].name}': {type(error).__name__}.\n   Hint: the DQN run samples inside a training "
            "step vmapped over seeds, where state.size is a different number for each seed: keep it an array "
            "(no int(...), no Python `if` on it, no slicing by it) and use it as jax.random.randint's maxval.",
        )
    return None


def _shape_hint(state: uniform.UniformBufferState, batch_size: int, got: Any) -> str:
    """Name the mistake behind a batch of the wrong structure or shape (``got`` holds ShapeDtypeStructs)."""
    capacity = jax.tree.leaves(state.data)[0].shape[0]
    stored = [leaf.shape[1:] for leaf in jax.tree.leaves(state.data)]
    if isinstance(got, tuple) and not hasattr(got, "_fields") and got:
        if jax.tree.structure(got[0]) == jax.tree.structure(state.data):
            return "return the batch of transitions only, not a tuple with other values (such as the indices)."
    if jax.tree.structure(got) == jax.tree.structure(state.data):
        shapes = [tuple(leaf.shape) for leaf in jax.tree.leaves(got)]
        if shapes == stored:
            return (
                "you returned a single transition: the batch axis is missing. Draw batch_size indices (a shape "
                "(batch_size,)), so that every field of the result gains a leading axis of batch_size."
            )
        if all(shape[1:] == want for shape, want in zip(shapes, stored)):
            if all(shape[:1] == (capacity,) for shape in shapes):
                if batch_size > capacity:
                    return (
                        f"the batch stops at the buffer's {capacity} slots, but batch_size is {batch_size}: replay "
                        "draws with replacement, so a batch can be larger than the buffer. A shuffle or "
                        "jax.random.choice(..., replace=False) cannot draw more than there are slots, and "
                        "state.data itself is every slot. Draw jax.random.randint(key, (batch_size,), 0, state.size)."
                    )
                return "you returned the whole buffer: gather every field at the sampled indices only."
            return (
                f"the batch holds {shapes[0][0] if shapes[0] else 0} transitions, not batch_size = {batch_size}: "
                "use the batch_size argument for the number of indices, do not type in a number."
            )
        return (
            "some field of the batch has extra or missing axes: draw the indices with shape (batch_size,) and "
            "index every field's leading axis with them (leaf[indices])."
        )
    if getattr(got, "shape", None) == (batch_size,) and np.dtype(got.dtype).kind in "iu":
        return (
            "you returned the indices, not the transitions at them: gather every field of state.data at them "
            "(jax.tree.map)."
        )
    return (
        "return the transitions at the sampled slots, shaped like state.data, every field with a leading axis "
        "of batch_size."
    )


def _shape_difference(expected: Any, got: Any) -> str | None:
    """Compare structures, shapes and dtypes only (values are judged by their distribution)."""

    def zeros(tree: Any) -> Any:
        return jax.tree.map(lambda leaf: np.zeros(leaf.shape, leaf.dtype), tree)

    try:
        got = zeros(got)
    except Exception:  # noqa: BLE001 -- not a pytree of arrays: compare() describes what it is
        pass
    return compare(zeros(expected), got, rtol=0, atol=0)


def check_buffer_sample(fn: Callable) -> Callable:
    """Exercise 3.2: ``buffer_sample(state, key, batch_size)``, judged by the distribution of what it draws.

    First the shape: every field of the batch must have a leading ``(batch_size,)`` axis, eagerly and under
    ``jax.jit(jax.vmap(...))`` over two buffers. Then, over 20,000 keys, the joint distribution of the slots
    drawn at the first and at the last place of a batch must match the reference's: uniform over the filled
    slots (also in a buffer that has wrapped around) and independent within the batch; every field must come
    from the same slot. Batch sizes 1 to 32 are tried for the shape, 5 for the distribution.
    """
    title = "Exercise 3.2 (buffer_sample)"
    cases = _sample_cases()
    if callable(fn):
        problem = _shape_problem(fn, _shape_cases())
        if problem is not None:
            print(format_verdict(title, problem))
            return uniform.sample
    verdict = evaluate_sampler(
        _joint_outcome(fn),
        _joint_outcome(uniform.sample),
        cases,
        _SAMPLE_OUTCOMES,
        mistakes=[Mistake(mistake.hint, _joint_outcome(mistake.fn)) for mistake in SAMPLE_MISTAKES],
    )
    # check_sampler's "outcome 30 came up ..." in words: "slot 2 first and slot 2 last in the batch came up ...".
    message = re.sub(r"outcome (\d+) came up", lambda m: f"{_describe_outcome(int(m[1]))} came up", verdict.message)
    verdict = Verdict(verdict.status, message)
    print(format_verdict(title, verdict))
    return fn if verdict.passed else uniform.sample


def _describe_outcome(outcome: int) -> str:
    """An outcome of :func:`_joint_outcome` in words."""
    if outcome == _MIXED:
        return "a batch in which obs and step of one transition came from different slots"
    first, last = divmod(outcome, _LABELS)
    slot = lambda label: "an empty slot" if label == 0 else f"slot {label - 1}"  # noqa: E731
    return f"{slot(first)} first and {slot(last)} last in the batch"


# ---------------------------------------------------------------------------------------------------------
# Exercise 3.3: td_error_probabilities
# ---------------------------------------------------------------------------------------------------------


def _priority_cases() -> list[Case]:
    rng = np.random.default_rng(3_3)

    def errors(n: int) -> jax.Array:
        # Signed TD errors of mixed sizes, none exactly zero, so abs and epsilon both matter.
        return jnp.asarray(rng.choice([-1, 1], size=n) * rng.uniform(0.05, 3.0, size=n), jnp.float32)

    cases = [Case("five TD errors, alpha = 0.6, epsilon = 1e-6", (errors(5), 0.6, 1e-6))]
    # Lengths 1, 4, 5 and 8 only, so that jax.jit compiles four times.
    for n, alpha, epsilon in ((8, 0.3, 0.01), (8, 0.9, 0.5), (5, 0.5, 1e-3), (8, 1.0, 0.1)):
        cases.append(Case(f"{n} random TD errors, alpha = {alpha}, epsilon = {epsilon}", (errors(n), alpha, epsilon)))
    cases += [
        Case(
            "alpha = 0: every transition equally likely",
            (errors(5), 0.0, 0.01),
            hint="with alpha = 0 every priority raised to alpha is 1, so P(i) = 1 / n.",
        ),
        Case(
            "alpha = 1: proportional to the priorities",
            (jnp.array([0.5, -2.0, 1.0, -0.1]), 1.0, 1e-6),
            hint="a negative TD error is as informative as a positive one of the same size.",
        ),
        Case(
            "a zero TD error among others, epsilon = 0.2",
            (jnp.array([0.0, 1.0, -0.5, 0.0]), 0.7, 0.2),
            hint="epsilon is added to |TD error| before the power, so a zero error still has a chance.",
        ),
        Case("all TD errors zero", (jnp.zeros(5), 0.6, 1e-6), hint="equal priorities give equal probabilities."),
        Case("a single TD error", (jnp.array([-1.5]), 0.6, 1e-6), hint="probabilities sum to 1."),
    ]
    return cases


def _normalised(p: jax.Array) -> jax.Array:
    return p / p.sum()


_EPSILON = (
    "epsilon is missing or fixed: add the epsilon passed in to |TD error| before the power, so a zero error "
    "still has a chance."
)

PRIORITY_MISTAKES = [
    Mistake(
        "the TD errors are used with their sign: a negative error is as surprising as a positive one, so "
        "take its absolute value (jnp.abs) before adding epsilon.",
        lambda d, alpha, epsilon: _normalised((d + epsilon) ** alpha),
    ),
    Mistake(
        "the TD errors are squared instead of taking their absolute value (jnp.abs).",
        lambda d, alpha, epsilon: _normalised((d**2 + epsilon) ** alpha),
    ),
    Mistake(
        "epsilon is added after the power: add it to |TD error| first, then raise the sum to alpha.",
        lambda d, alpha, epsilon: _normalised(jnp.abs(d) ** alpha + epsilon),
    ),
    Mistake(
        "epsilon is added inside the absolute value, which pulls negative TD errors towards 0: take the "
        "absolute value of the TD error first, then add epsilon.",
        lambda d, alpha, epsilon: _normalised(jnp.abs(d + epsilon) ** alpha),
    ),
    Mistake(
        _EPSILON,
        lambda d, alpha, epsilon: _normalised(jnp.abs(d) ** alpha),
    ),
    Mistake(
        "the probabilities do not sum to 1: divide each p_i^alpha by their sum.",
        lambda d, alpha, epsilon: (jnp.abs(d) + epsilon) ** alpha,
    ),
    Mistake(
        "divide by the sum, not by the largest value: probabilities must sum to 1.",
        lambda d, alpha, epsilon: (jnp.abs(d) + epsilon) ** alpha / ((jnp.abs(d) + epsilon) ** alpha).max(),
    ),
    Mistake(
        "alpha is applied after normalising: raise each priority to alpha first, then divide by the sum of "
        "the powered priorities.",
        lambda d, alpha, epsilon: _normalised(jnp.abs(d) + epsilon) ** alpha,
    ),
    Mistake(
        "alpha multiplies the priorities, but it is an exponent: p_i ** alpha (alpha = 0 must give equal "
        "probabilities).",
        lambda d, alpha, epsilon: _normalised(alpha * (jnp.abs(d) + epsilon)),
    ),
    Mistake(
        "a softmax of the TD errors is not this distribution: P(i) is proportional to (|TD error| + "
        "epsilon) raised to alpha, not to an exponential of the error.",
        lambda d, alpha, epsilon: jax.nn.softmax(alpha * (jnp.abs(d) + epsilon)),
    ),
    Mistake(
        "a softmax of the TD errors is not this distribution: P(i) is proportional to (|TD error| + "
        "epsilon) raised to alpha, not to an exponential of the error.",
        lambda d, alpha, epsilon: jax.nn.softmax(jnp.abs(d) + epsilon),
    ),
    Mistake(
        "alpha seems fixed at 0.6: use the alpha passed in.",
        lambda d, alpha, epsilon: _normalised((jnp.abs(d) + epsilon) ** 0.6),
    ),
    Mistake(
        _EPSILON,
        lambda d, alpha, epsilon: _normalised((jnp.abs(d) + 1e-6) ** alpha),
    ),
]


def check_td_error_probabilities(fn: Callable) -> Callable:
    """Exercise 3.3: prioritized replay's sampling probabilities from TD errors.

    Judged on random signed TD errors of lengths 1 to 8 with alpha from 0 to 1 and epsilon from 1e-6 to 0.5,
    zero errors among them, eagerly and under ``jax.jit``.
    """
    return check(
        "Exercise 3.3 (td_error_probabilities)",
        fn,
        prioritized.td_error_probabilities,
        _priority_cases(),
        jit=True,
        mistakes=PRIORITY_MISTAKES,
    )
