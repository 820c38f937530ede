"""Many seeds across many devices: one ``train(key)``, its keys split over every device JAX sees
(chapter 07).

    results = devices.run_sharded(train, jax.random.split(jax.random.key(0), 8))

``jax.jit(jax.vmap(train))`` runs every seed on one device. :func:`run_sharded` gives each device
its own share of the keys instead: a one-axis :class:`jax.sharding.Mesh` named ``"seeds"``, the keys
placed on it with a ``NamedSharding``, and ``jax.shard_map(jax.vmap(train))`` so that each device
runs the vmapped ``train`` on its own keys only. The results come back to the host as NumPy arrays,
seeds first, in the order of the keys. On CPU you get more than one device with
``XLA_FLAGS=--xla_force_host_platform_device_count=N``, set before JAX is imported.

The same function runs across processes (``python -m course_lib.launch --processes 2 script.py``,
see :mod:`course_lib.launch`): ``jax.devices()`` then lists every process's devices, each process
places only the keys of its own devices, and ``multihost_utils.process_allgather`` brings every
result to every process.

Why ``shard_map`` and not ``jax.jit`` of sharded keys (``how="jit"``, kept to compare): under ``jit``
the compiler partitions the program for you, and wherever ``train`` reduces over the seed axis it adds
communication. The course's input checks reduce over the batch (one ``all`` per check), so the
partitioned PPO program holds an ``all-reduce`` on every environment step: cheap between two devices
of one process, a network round trip between processes. Under ``shard_map`` a device's program sees
only its own seeds and never talks to another device (:func:`collective_counts` shows both).
``check_vma=False``: a training function written for one device starts ``lax.scan`` carries from
constants that then vary by device; JAX's check would reject it, yet every seed is independent.
"""

from __future__ import annotations

import collections
import re
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.experimental import multihost_utils
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from course_lib import _validate

__all__ = ["SEEDS", "collective_counts", "make_sharded", "run_sharded", "seed_mesh"]

SEEDS = "seeds"
"""The name of the mesh axis the keys are split over."""

HOW = ("shard_map", "jit")


def seed_mesh(num_devices: int | None = None) -> Mesh:
    """A one-axis mesh ``("seeds",)`` over the first ``num_devices`` devices (default: all of them,
    in every process)."""
    available = jax.devices()
    if num_devices is None:
        num_devices = len(available)
    _validate.positive_int("num_devices", num_devices)
    if num_devices > len(available):
        raise ValueError(
            f"num_devices must be at most the {len(available)} device(s) JAX sees, got {num_devices}; on CPU, "
            f"set XLA_FLAGS=--xla_force_host_platform_device_count={num_devices} before importing jax"
        )
    if jax.process_count() > 1 and num_devices != len(available):
        raise ValueError(f"across {jax.process_count()} processes, use every device: num_devices=None")
    return Mesh(np.array(available[:num_devices]), (SEEDS,))


def _key_data(keys: Any) -> tuple[np.ndarray, Any]:
    """``(raw uint32 key data, the key implementation or None for legacy keys)``, seeds first."""
    _validate.key("keys", keys)
    if jax.dtypes.issubdtype(jnp.result_type(keys), jax.dtypes.prng_key):
        if np.ndim(keys) != 1:
            raise ValueError(
                f"keys must be one key per seed, shape (num_seeds,) such as jax.random.split(key, 8), "
                f"got shape {np.shape(keys)}"
            )
        return np.asarray(jax.random.key_data(keys)), jax.random.key_impl(keys)
    if np.ndim(keys) != 2:
        raise ValueError(f"keys must be a batch of legacy PRNGKeys, shape (num_seeds, 2), got shape {np.shape(keys)}")
    return np.asarray(keys), None


def make_sharded(
    train: Callable[[jax.Array], Any], num_devices: int | None = None, *, how: str = "shard_map"
) -> Callable[[jax.Array], Any]:
    """``run(keys) -> results``: ``train`` vmapped over ``keys``, the keys split evenly across
    ``num_devices`` devices (default: all). Compiled at the first call; later calls with as many keys
    reuse the program (so time the second call). Results are NumPy arrays on the host, seeds first.

    ``how="shard_map"`` (default): each device runs its own seeds, no communication.
    ``how="jit"``: ``jax.jit`` of sharded keys, partitioned by the compiler (see the module's note).
    """
    _validate.function("train", train)
    _validate.one_of("how", how, HOW)
    mesh = seed_mesh(num_devices)
    sharding = NamedSharding(mesh, PartitionSpec(SEEDS))
    devices = mesh.devices.size
    compiled: dict[Any, Callable] = {}

    def program(impl: Any) -> Callable:
        def seeds(key_data: jax.Array) -> Any:
            keys = key_data if impl is None else jax.random.wrap_key_data(key_data, impl=impl)
            return jax.vmap(train)(keys)

        if how == "jit":
            return jax.jit(seeds, out_shardings=sharding)
        spec = PartitionSpec(SEEDS)
        return jax.jit(jax.shard_map(seeds, mesh=mesh, in_specs=spec, out_specs=spec, check_vma=False))

    def prepare(keys: jax.Array) -> tuple[Callable, jax.Array]:
        data, impl = _key_data(keys)
        if len(data) % devices:
            raise ValueError(
                f"keys: {len(data)} keys cannot be split evenly across {devices} devices; pass a multiple of "
                f"{devices} (for example {devices * -(-len(data) // devices)})"
            )
        if impl not in compiled:
            compiled[impl] = program(impl)
        # Every process holds all the keys; each places only the rows of its own devices.
        return compiled[impl], jax.make_array_from_callback(data.shape, sharding, lambda index: data[index])

    def run(keys: jax.Array) -> Any:
        function, global_keys = prepare(keys)
        results = function(global_keys)
        if jax.process_count() > 1:
            return multihost_utils.process_allgather(results, tiled=True)
        return jax.device_get(results)

    def lower(keys: jax.Array) -> jax.stages.Lowered:
        function, global_keys = prepare(keys)
        return function.lower(global_keys)

    run.mesh = mesh  # type: ignore[attr-defined]
    run.lower = lower  # type: ignore[attr-defined]
    return run


def run_sharded(
    train: Callable[[jax.Array], Any], keys: jax.Array, num_devices: int | None = None, *, how: str = "shard_map"
) -> Any:
    """``jax.vmap(train)(keys)`` with the keys split across ``num_devices`` devices (default: all);
    the results as NumPy arrays, seeds first. One call compiles; use :func:`make_sharded` to run
    again without compiling."""
    return make_sharded(train, num_devices, how=how)(keys)


def collective_counts(
    train: Callable[[jax.Array], Any], keys: jax.Array, num_devices: int | None = None, *, how: str = "shard_map"
) -> dict[str, int]:
    """How many communication operations (``all-reduce``, ``all-gather``, ...) the compiled program
    for ``train`` over ``keys`` holds, by kind: what the compiler added to split the work. An
    operation inside a loop counts once here, yet runs on every pass of the loop."""
    text = make_sharded(train, num_devices, how=how).lower(keys).compile().as_text()
    kinds = re.findall(
        r"= [^=]*? (all-reduce|all-gather|all-to-all|collective-permute|reduce-scatter)(?:-start)?\(", text
    )
    return dict(collections.Counter(kinds))
