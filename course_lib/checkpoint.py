"""Save a training run and resume it bit for bit (chapter 07).

A training run's whole state is one pytree: the agent's state (``dqn.DQNState`` holds the parameters, the
target parameters, the optimiser state, the replay buffer, the environment state and the step counter;
``ppo.PPOState`` the parameters, optimiser state and the batched environment states), plus the run's key
and the number of steps done. :func:`save` writes such a pytree to one file; :func:`restore` reads it back
into the structure you give it, and refuses, naming the leaf, when the file holds anything else.

Resuming gives the same numbers as never stopping when every step's key depends only on the run's key and
the step's index, never on how the run was cut into pieces. :func:`run_chunk` runs steps
``start .. start + num_steps - 1`` of a run that way::

    parts = dqn.make_parts(config)
    step_fn = functools.partial(dqn.train_step, parts)           # (state, key) -> (state, metrics)
    chunk = jax.jit(run_chunk, static_argnums=(0, 4))            # start is traced: one compilation
    state = dqn.init_state(parts, init_key)
    for start in range(0, config.num_steps, 1_000):
        state, metrics = chunk(step_fn, state, run_key, start, 1_000)
        save("run.ckpt", {"state": state, "key": run_key, "step": start + 1_000})

    # Later, in a fresh process: the same config, the same parts, the file.
    shapes = jax.eval_shape(functools.partial(dqn.init_state, parts), init_key)  # no computation
    like = {"state": shapes, "key": run_key, "step": 0}
    saved = restore("run.ckpt", like)

The file is written atomically: to a temporary file beside it, flushed to disk, then renamed over the old
one. A laptop that sleeps or a Colab session that ends mid-save leaves the previous checkpoint whole.

Format: one msgpack map (``FORMAT``, ``VERSION``, the structure as text, the user's ``metadata``, and per
leaf its path, dtype, shape and raw bytes, little-endian as on every machine the course runs on). No pickle:
loading a checkpoint never runs code from the file.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import msgpack
import numpy as np

FORMAT = "course_lib.checkpoint"
VERSION = 1
_CHUNK_BYTES = 1 << 20  # written a megabyte at a time


class CheckpointMismatchError(ValueError):
    """The checkpoint holds another structure, shape, dtype or key type than the target expects."""


# --- Saving. -------------------------------------------------------------------------------------------


def _is_key(x: Any) -> bool:
    dtype = getattr(x, "dtype", None)
    return dtype is not None and jax.dtypes.issubdtype(dtype, jax.dtypes.prng_key)


def _leaf_record(path: str, leaf: Any) -> dict[str, Any]:
    key_impl = None
    if _is_key(leaf):
        key_impl = str(jax.random.key_impl(leaf))
        leaf = jax.random.key_data(leaf)
    if not isinstance(leaf, (jax.Array, np.ndarray, np.generic, bool, int, float)):
        raise TypeError(
            f"checkpoint.save: leaf {path} is a {type(leaf).__name__}; a checkpoint holds arrays and numbers "
            "(keep configs and functions out of the saved pytree, or put plain values in metadata)"
        )
    array = np.asarray(leaf)
    return {
        "path": path,
        "dtype": array.dtype.name,
        "shape": list(array.shape),
        "key_impl": key_impl,
        "data": np.ascontiguousarray(array).tobytes(),
    }


def _describe(treedef: Any) -> str:
    return str(treedef)


def encode(tree: Any, metadata: dict | None = None) -> bytes:
    """The bytes :func:`save` writes for ``tree`` (a pytree of arrays, numbers and typed or raw PRNG keys)
    and ``metadata`` (plain values: str, int, float, bool, None, lists and str-keyed dicts of them)."""
    flat, treedef = jax.tree_util.tree_flatten_with_path(tree)
    leaves = [_leaf_record(jax.tree_util.keystr(path), leaf) for path, leaf in flat]
    try:
        return msgpack.packb(
            {
                "format": FORMAT,
                "version": VERSION,
                "structure": _describe(treedef),
                "metadata": metadata,
                "leaves": leaves,
            },
            use_bin_type=True,
        )
    except TypeError as error:
        raise TypeError(f"checkpoint.save: metadata must hold plain values (str, numbers, lists, dicts): {error}") from None


def save(path: str | os.PathLike, tree: Any, *, metadata: dict | None = None) -> Path:
    """Write ``tree`` to the file ``path`` atomically, replacing any checkpoint there; returns the path.

    ``tree``: any pytree (NamedTuples, dicts, lists, registered dataclasses, optax states) whose leaves are
    arrays (jax or NumPy, any dtype), Python or NumPy numbers, and PRNG keys (``jax.random.key`` or the
    raw uint32 ``jax.random.PRNGKey``). ``metadata``: plain values stored beside it (a config, a note),
    read back by :func:`read_metadata`. Folders on the way are created.

    The bytes go to a temporary file in the same folder, are flushed to disk, and only then renamed to
    ``path`` (a rename within a folder is atomic): an interrupted save never leaves a half-written
    ``path``, at worst a stray ``.<name>.*.tmp`` beside it, which :func:`restore` never reads.
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"checkpoint.save: {path} is a folder; give a file name such as {path / 'run.ckpt'}")
    payload = memoryview(encode(tree, metadata))
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            for start in range(0, len(payload), _CHUNK_BYTES):
                handle.write(payload[start : start + _CHUNK_BYTES])
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _sync_folder(path.parent)
    return path


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX: fsync the folder); a no-op where folders cannot be opened."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


# --- Restoring. ----------------------------------------------------------------------------------------


def _read(path: str | os.PathLike) -> dict[str, Any]:
    path = Path(path)
    data = path.read_bytes()
    try:
        record = msgpack.unpackb(data, raw=False)
    except Exception as error:  # msgpack raises several kinds on truncated or foreign bytes
        raise ValueError(
            f"checkpoint: {path} is not a readable checkpoint (truncated or another kind of file?): "
            f"{type(error).__name__}: {error}"
        ) from None
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise ValueError(f"checkpoint: {path} was not written by course_lib.checkpoint.save")
    if record.get("version") != VERSION:
        raise ValueError(f"checkpoint: {path} has format version {record.get('version')}; this course_lib reads {VERSION}")
    return record


def read_metadata(path: str | os.PathLike) -> Any:
    """The ``metadata`` saved with the checkpoint at ``path`` (tuples come back as lists)."""
    return _read(path)["metadata"]


def _expected(leaf: Any) -> tuple[tuple[int, ...], str, Any]:
    """Shape and dtype name of the data a target leaf asks for, and its key dtype (None for plain arrays)."""
    if _is_key(leaf):
        data = jax.eval_shape(jax.random.key_data, leaf)
        return tuple(data.shape), np.dtype(data.dtype).name, leaf.dtype
    if isinstance(leaf, jax.ShapeDtypeStruct):
        return tuple(leaf.shape), np.dtype(leaf.dtype).name, None
    if isinstance(leaf, (jax.Array, np.ndarray, np.generic, bool, int, float)):
        array = leaf if isinstance(leaf, jax.Array) else np.asarray(leaf)
        return tuple(array.shape), np.dtype(array.dtype).name, None
    raise TypeError(
        f"checkpoint.restore: the target's leaves must be arrays, numbers, keys or jax.ShapeDtypeStruct, "
        f"got a {type(leaf).__name__}"
    )


def _key_dtype(impl: str) -> Any:
    """The dtype of typed keys of the implementation named ``impl`` ("threefry2x32", "rbg", ...)."""
    return jax.eval_shape(lambda: jax.random.key(0, impl=impl)).dtype


def _check(saved: list[dict], flat: list, saved_structure: str, structure: str, path: Path) -> None:
    saved_paths = [leaf["path"] for leaf in saved]
    paths = [jax.tree_util.keystr(p) for p, _ in flat]
    if saved_paths != paths:
        missing = [p for p in paths if p not in set(saved_paths)]
        extra = [p for p in saved_paths if p not in set(paths)]
        lines = [f"checkpoint.restore: {path} holds another structure than the target."]
        if missing:
            lines.append(f"  The target has leaves the checkpoint lacks: {', '.join(missing[:5])}" + (" ..." if len(missing) > 5 else ""))
        if extra:
            lines.append(f"  The checkpoint has leaves the target lacks: {', '.join(extra[:5])}" + (" ..." if len(extra) > 5 else ""))
        if not missing and not extra:
            lines.append("  The same leaves in another order.")
        raise CheckpointMismatchError("\n".join(lines))
    if saved_structure != structure:
        raise CheckpointMismatchError(
            f"checkpoint.restore: {path} has the same leaves as the target but other containers "
            f"(a NamedTuple or dataclass of another class?).\n  checkpoint: {saved_structure[:400]}\n"
            f"  target:     {structure[:400]}"
        )
    problems = []
    for record, (_, leaf) in zip(saved, flat):
        shape, dtype, key_dtype = _expected(leaf)
        got_shape, got_dtype, got_impl = tuple(record["shape"]), record["dtype"], record["key_impl"]
        got_key_dtype = None if got_impl is None else _key_dtype(got_impl)
        if key_dtype != got_key_dtype:
            saved_kind = f"typed PRNG keys ({got_key_dtype}, {got_impl})" if got_impl else f"a plain {got_dtype} array"
            target_kind = f"typed PRNG keys ({key_dtype})" if key_dtype is not None else f"a plain {dtype} array"
            problems.append(f"{record['path']}: the checkpoint has {saved_kind}, the target expects {target_kind}")
        elif got_shape != shape or got_dtype != dtype:
            problems.append(
                f"{record['path']}: the checkpoint has {got_dtype}{list(got_shape)}, the target expects {dtype}{list(shape)}"
            )
    if problems:
        shown = "\n  ".join(problems[:8]) + ("\n  ..." if len(problems) > 8 else "")
        raise CheckpointMismatchError(
            f"checkpoint.restore: {len(problems)} of {len(flat)} leaves of {path} differ from the target "
            f"(was it saved from another config?):\n  {shown}"
        )


def _rebuild(record: dict, like: Any) -> Any:
    array = np.frombuffer(record["data"], dtype=jnp.dtype(record["dtype"])).reshape(record["shape"])
    if record["key_impl"] is not None:
        keys = jax.random.wrap_key_data(jnp.asarray(array), impl=record["key_impl"])
        sharding = getattr(like, "sharding", None)
        return keys if sharding is None else jax.device_put(keys, sharding)
    if isinstance(like, (jax.Array, jax.ShapeDtypeStruct)):
        return jax.device_put(array, getattr(like, "sharding", None))
    if isinstance(like, np.ndarray):
        return array.copy()  # writable, as the target was
    if isinstance(like, np.generic):
        return array[()]
    return type(like)(array.item())  # a Python bool, int or float


def restore(path: str | os.PathLike, like: Any) -> Any:
    """The pytree saved at ``path``, in the structure of ``like``.

    ``like``: a pytree of the same structure as the one saved: the state of a fresh run, or only its
    shapes (``jax.eval_shape(functools.partial(init_state, parts), key)``, leaves ``jax.ShapeDtypeStruct``). Each leaf comes
    back as the kind ``like`` has there: a jax array (on the same device or sharding), a NumPy array, a
    Python number, a typed PRNG key.

    Raises :class:`CheckpointMismatchError` naming the leaf paths when the checkpoint holds other leaves,
    containers, shapes, dtypes or key types than ``like`` (nothing is cast or reshaped silently), and
    ``ValueError`` for a file that is not a whole checkpoint.
    """
    path = Path(path)
    record = _read(path)
    flat, treedef = jax.tree_util.tree_flatten_with_path(like)
    _check(record["leaves"], flat, record["structure"], _describe(treedef), path)
    return jax.tree.unflatten(treedef, [_rebuild(saved, leaf) for saved, (_, leaf) in zip(record["leaves"], flat)])


# --- Running a training loop in resumable pieces. ------------------------------------------------------


def step_keys(key: jax.Array, start: int | jax.Array, num_steps: int, total_steps: int | None = None) -> jax.Array:
    """The keys of steps ``start .. start + num_steps - 1`` of a run with key ``key``, ``(num_steps,)``.

    ``total_steps=None``: step ``t`` uses ``jax.random.fold_in(key, t)``, so a step's key depends on
    ``key`` and ``t`` only. Given: step ``t`` uses ``jax.random.split(key, total_steps)[t]``, the keys of
    a ``lax.scan`` over ``split(key, total_steps)``, as ``dqn.make_train`` (``eval_every=0``) and
    ``ppo.make_train`` draw them, so a run of theirs can be cut into pieces too.
    """
    if isinstance(num_steps, bool) or not isinstance(num_steps, int) or num_steps < 1:
        raise ValueError(f"num_steps must be a whole number >= 1 (it fixes the compiled loop's length), got {num_steps!r}")
    if not isinstance(key, jax.Array) or not (_is_key(key) or (key.shape == (2,) and key.dtype == jnp.uint32)):
        raise TypeError(f"key must be a PRNG key (jax.random.key or jax.random.PRNGKey), got {key!r}")
    if total_steps is None:
        return jax.vmap(jax.random.fold_in, in_axes=(None, 0))(key, start + jnp.arange(num_steps))
    if isinstance(total_steps, bool) or not isinstance(total_steps, int) or total_steps < num_steps:
        raise ValueError(f"total_steps must be a whole number >= num_steps ({num_steps}), got {total_steps!r}")
    if isinstance(start, int) and not 0 <= start <= total_steps - num_steps:
        raise ValueError(f"steps {start} .. {int(start) + num_steps - 1} lie outside a run of {total_steps} steps")
    return jax.lax.dynamic_slice_in_dim(jax.random.split(key, total_steps), start, num_steps)


def run_chunk(
    step_fn: Callable[[Any, jax.Array], tuple[Any, Any]],
    state: Any,
    key: jax.Array,
    start: int | jax.Array,
    num_steps: int,
    total_steps: int | None = None,
) -> tuple[Any, Any]:
    """Run steps ``start .. start + num_steps - 1`` of a training run: ``lax.scan`` of ``step_fn`` over
    :func:`step_keys`. Returns the new state and the steps' metrics, each leaf ``(num_steps, ...)``.

    ``step_fn(state, key) -> (state, metrics)``: one step, for example
    ``functools.partial(dqn.train_step, parts)`` or ``functools.partial(ppo.update, parts)``.
    ``key`` is the run's key for every chunk; ``start`` the number of steps done before.

    Running ``num_steps = a + b`` at once equals running ``a`` steps from ``start``, then ``b`` from
    ``start + a``, bit for bit, whether or not the state went through :func:`save` and :func:`restore`
    in between. Jit it as ``jax.jit(run_chunk, static_argnums=(0, 4, 5))``; ``start`` may then be an
    array, so every chunk runs the same compiled program.
    """
    if not callable(step_fn):
        raise TypeError(f"step_fn must be a function (state, key) -> (state, metrics), got {step_fn!r}")
    return jax.lax.scan(step_fn, state, step_keys(key, start, num_steps, total_steps))
