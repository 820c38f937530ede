"""course_lib.checkpoint: round trips, clear refusals, atomic saves, and a DQN run resumed bit for bit in a
fresh process."""

import functools
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from course_lib import checkpoint
from course_lib.agents import dqn, ppo

ROOT = Path(__file__).resolve().parent.parent


class Inner(NamedTuple):
    weights: jax.Array
    count: jax.Array


class Outer(NamedTuple):
    inner: Inner
    table: dict
    items: list


class OtherInner(NamedTuple):  # same fields as Inner, another class
    weights: jax.Array
    count: jax.Array


def example_tree():
    params = {"linear": {"w": jnp.arange(6.0).reshape(2, 3), "b": jnp.array([0.0, -0.0, jnp.nan])}}
    return Outer(
        inner=Inner(weights=jnp.linspace(-1, 1, 5, dtype=jnp.float32), count=jnp.int32(7)),
        table={
            "adam": optax.chain(optax.clip_by_global_norm(1.0), optax.adam(1e-3)).init(params),
            "params": params,
            "flags": jnp.array([True, False, True]),
            "uint": jnp.array([0, 1, 2**32 - 1], dtype=jnp.uint32),
            "half": jnp.array([1.5, -2.25], dtype=jnp.bfloat16),
            "numpy": np.arange(4, dtype=np.int64).reshape(2, 2),
            "numpy_scalar": np.float64(0.1),
            "nothing": None,
        },
        items=[
            jax.random.key(3),  # typed key, threefry
            jax.random.split(jax.random.key(4, impl="rbg"), 2),  # a batch of typed keys of another kind
            jax.random.PRNGKey(5),  # raw uint32 key data
            1,
            2.5,
            True,
        ],
    )


def bits(leaf):
    """A leaf as (type, dtype, shape, bytes): equal only when bit for bit equal (NaN and -0.0 included)."""
    if isinstance(leaf, jax.Array) and jax.dtypes.issubdtype(leaf.dtype, jax.dtypes.prng_key):
        return ("key", str(leaf.dtype), leaf.shape, np.asarray(jax.random.key_data(leaf)).tobytes())
    array = np.asarray(leaf)
    return (type(leaf), array.dtype, array.shape, array.tobytes())


def assert_bitwise_equal(a, b):
    assert jax.tree.structure(a) == jax.tree.structure(b)
    for (path, x), y in zip(jax.tree_util.tree_flatten_with_path(a)[0], jax.tree.leaves(b)):
        assert bits(x) == bits(y), f"leaf {jax.tree_util.keystr(path)} differs"


# --- Round trips. --------------------------------------------------------------------------------------


def test_round_trip_keeps_every_leaf_bit_for_bit_with_its_type(tmp_path):
    tree = example_tree()
    checkpoint.save(tmp_path / "run.ckpt", tree, metadata={"config": {"lr": 1e-3, "hidden": [64, 64]}, "note": "x"})
    back = checkpoint.restore(tmp_path / "run.ckpt", example_tree())
    assert_bitwise_equal(tree, back)
    assert isinstance(back.inner, Inner) and isinstance(back.table["adam"][1][0], optax.ScaleByAdamState)
    assert checkpoint.read_metadata(tmp_path / "run.ckpt") == {"config": {"lr": 1e-3, "hidden": [64, 64]}, "note": "x"}
    # restored typed keys work as keys
    assert np.array_equal(jax.random.uniform(back.items[0]), jax.random.uniform(tree.items[0]))


def test_restore_into_shapes_only_gives_jax_arrays(tmp_path):
    parts = dqn.make_parts(dqn.DQNConfig(num_steps=64, batch_size=8, buffer_size=32, learning_starts=8, eval_every=0))
    state = dqn.init_state(parts, jax.random.key(0))
    bundle = {"state": state, "key": jax.random.key(1), "step": jnp.int32(0)}
    checkpoint.save(tmp_path / "dqn.ckpt", bundle)
    like = {
        "state": jax.eval_shape(functools.partial(dqn.init_state, parts), jax.random.key(0)),
        "key": jax.eval_shape(lambda: jax.random.key(0)),
        "step": jax.ShapeDtypeStruct((), jnp.int32),
    }
    back = checkpoint.restore(tmp_path / "dqn.ckpt", like)
    assert all(isinstance(leaf, jax.Array) for leaf in jax.tree.leaves(back))
    assert_bitwise_equal(bundle, back)


def test_save_replaces_the_previous_checkpoint_and_rejects_what_it_cannot_store(tmp_path):
    path = tmp_path / "nested" / "folder" / "run.ckpt"  # folders are created
    checkpoint.save(path, {"x": jnp.zeros(2)})
    checkpoint.save(path, {"x": jnp.ones(2)})
    assert np.array_equal(checkpoint.restore(path, {"x": jnp.zeros(2)})["x"], jnp.ones(2))
    with pytest.raises(TypeError, match=r"leaf \['f'\] is a function"):
        checkpoint.save(tmp_path / "bad.ckpt", {"f": lambda: 0})
    with pytest.raises(IsADirectoryError):
        checkpoint.save(tmp_path, {"x": jnp.zeros(2)})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nested"]  # nothing half-written left behind


# --- Refusals that name the leaf. ----------------------------------------------------------------------

TARGET = {"net": Inner(jnp.zeros((4, 3), jnp.float32), jnp.int32(0)), "key": jax.random.key(0), "raw": jax.random.PRNGKey(0)}


@pytest.mark.parametrize(
    "target, message",
    [
        (dict(TARGET, net=Inner(jnp.zeros((4, 5)), jnp.int32(0))), r"\['net'\]\.weights: the checkpoint has float32\[4, 3\], the target expects float32\[4, 5\]"),
        (dict(TARGET, net=Inner(jnp.zeros((4, 3), jnp.bfloat16), jnp.int32(0))), r"\['net'\]\.weights: the checkpoint has float32\[4, 3\], the target expects bfloat16\[4, 3\]"),
        (dict(TARGET, net=Inner(jnp.zeros((4, 3)), jnp.uint32(0))), r"\['net'\]\.count: the checkpoint has int32\[\], the target expects uint32\[\]"),
        (dict(TARGET, key=jax.random.PRNGKey(0)), r"\['key'\]: the checkpoint has typed PRNG keys .*the target expects a plain uint32 array"),
        (dict(TARGET, raw=jax.random.key(0)), r"\['raw'\]: the checkpoint has a plain uint32 array, the target expects typed PRNG keys"),
        (dict(TARGET, key=jax.random.key(0, impl="rbg")), r"\['key'\]: the checkpoint has typed PRNG keys \(key<fry>"),
        (dict(TARGET, extra=jnp.zeros(1)), r"The target has leaves the checkpoint lacks: \['extra'\]"),
        ({k: v for k, v in TARGET.items() if k != "raw"}, r"The checkpoint has leaves the target lacks: \['raw'\]"),
        (dict(TARGET, net=OtherInner(jnp.zeros((4, 3)), jnp.int32(0))), r"(?s)other containers.*namedtuple\[Inner\].*namedtuple\[OtherInner\]"),
    ],
    ids=["shape", "dtype", "int kind", "typed key into raw", "raw into typed key", "key impl", "extra leaf", "missing leaf", "container class"],
)
def test_restore_into_another_structure_names_the_leaf_and_what_was_expected(tmp_path, target, message):
    checkpoint.save(tmp_path / "run.ckpt", TARGET)
    with pytest.raises(checkpoint.CheckpointMismatchError, match=message):
        checkpoint.restore(tmp_path / "run.ckpt", target)
    assert_bitwise_equal(TARGET, checkpoint.restore(tmp_path / "run.ckpt", TARGET))  # the right target still works


def test_a_truncated_or_foreign_file_is_named(tmp_path):
    checkpoint.save(tmp_path / "run.ckpt", TARGET)
    data = (tmp_path / "run.ckpt").read_bytes()
    (tmp_path / "cut.ckpt").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="not a readable checkpoint"):
        checkpoint.restore(tmp_path / "cut.ckpt", TARGET)
    (tmp_path / "other.ckpt").write_bytes(b"\x81\xa1a\x01")  # a msgpack map, not a checkpoint
    with pytest.raises(ValueError, match="not written by course_lib.checkpoint.save"):
        checkpoint.restore(tmp_path / "other.ckpt", TARGET)


# --- Atomic saves. -------------------------------------------------------------------------------------

KILLED_MID_SAVE = """
import os, signal, sys
import jax.numpy as jnp
from course_lib import checkpoint

real_fdopen = os.fdopen

class DiesHalfway:
    # A file that takes half of the first write, then the process dies (a laptop going to sleep for good).
    def __init__(self, handle):
        self.handle = handle
    def __enter__(self):
        return self
    def __exit__(self, *exc):
        return False
    def fileno(self):
        return self.handle.fileno()
    def flush(self):
        self.handle.flush()
    def write(self, data):
        self.handle.write(data[: len(data) // 2])
        self.handle.flush()
        os.kill(os.getpid(), signal.SIGKILL)

checkpoint.os.fdopen = lambda fd, mode: DiesHalfway(real_fdopen(fd, mode))
checkpoint.save(sys.argv[1], {"x": jnp.full((1000,), 2.0)})
"""


def test_a_save_killed_midway_leaves_the_previous_checkpoint_whole(tmp_path):
    path = tmp_path / "run.ckpt"
    checkpoint.save(path, {"x": jnp.full((1000,), 1.0)})
    before = path.read_bytes()
    result = subprocess.run([sys.executable, "-c", KILLED_MID_SAVE, str(path)], cwd=ROOT, capture_output=True, timeout=60)
    assert result.returncode == -signal.SIGKILL, result.stderr.decode()[-2000:]
    assert path.read_bytes() == before
    assert np.array_equal(checkpoint.restore(path, {"x": jnp.zeros(1000)})["x"], jnp.full((1000,), 1.0))
    strays = [p for p in tmp_path.iterdir() if p != path]
    assert len(strays) == 1 and strays[0].name.startswith(".run.ckpt.") and 0 < strays[0].stat().st_size
    checkpoint.save(path, {"x": jnp.full((1000,), 3.0)})  # the next save works and the stray is harmless
    assert np.array_equal(checkpoint.restore(path, {"x": jnp.zeros(1000)})["x"], jnp.full((1000,), 3.0))


def test_a_save_that_fails_cleans_up_and_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "run.ckpt"
    checkpoint.save(path, {"x": jnp.ones(3)})

    def disk_full(descriptor):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(checkpoint.os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space left"):
        checkpoint.save(path, {"x": jnp.zeros(3)})
    assert [p.name for p in tmp_path.iterdir()] == ["run.ckpt"]
    monkeypatch.undo()
    assert np.array_equal(checkpoint.restore(path, {"x": jnp.zeros(3)})["x"], jnp.ones(3))


# --- Resuming bit for bit. -----------------------------------------------------------------------------

SMALL_DQN = dict(num_steps=400, hidden_sizes=(32, 32), batch_size=16, buffer_size=128, learning_starts=32, eval_every=0)

RESUME = """
import functools, sys
import jax, jax.numpy as jnp
from course_lib import checkpoint
from course_lib.agents import dqn

config = dqn.DQNConfig(**{config!r})
parts = dqn.make_parts(config)
step_fn = functools.partial(dqn.train_step, parts)
chunk = jax.jit(checkpoint.run_chunk, static_argnums=(0, 4, 5))
path, half = sys.argv[1], config.num_steps // 2
if sys.argv[2] == "first half":
    run_key = jax.random.key(7)
    state = dqn.init_state(parts, jax.random.key(6))
    state, metrics = chunk(step_fn, state, run_key, 0, half)
else:
    like = {{
        "state": jax.eval_shape(functools.partial(dqn.init_state, parts), jax.random.key(0)),
        "key": jax.random.key(0),
        "step": 0,
        "metrics": jax.eval_shape(lambda s, k: chunk(step_fn, s, k, 0, half)[1], dqn.init_state(parts, jax.random.key(0)), jax.random.key(0)),
    }}
    saved = checkpoint.restore(path, like)
    run_key = saved["key"]
    state, metrics = chunk(step_fn, saved["state"], run_key, saved["step"], half)
    metrics = jax.tree.map(lambda a, b: jnp.concatenate([a, b]), saved["metrics"], metrics)
checkpoint.save(path, {{"state": state, "key": run_key, "step": int(state.step), "metrics": metrics}})
"""


def test_a_dqn_run_resumed_in_a_fresh_process_equals_the_run_without_a_stop(tmp_path):
    config = dqn.DQNConfig(**SMALL_DQN)
    script = RESUME.format(config=SMALL_DQN)
    path = tmp_path / "dqn.ckpt"
    for half in ("first half", "second half"):
        result = subprocess.run([sys.executable, "-c", script, str(path), half], cwd=ROOT, capture_output=True, timeout=120)
        assert result.returncode == 0, result.stderr.decode()[-3000:]

    parts = dqn.make_parts(config)
    state = dqn.init_state(parts, jax.random.key(6))
    whole, metrics = checkpoint.run_chunk(functools.partial(dqn.train_step, parts), state, jax.random.key(7), 0, config.num_steps)
    like = {"state": whole, "key": jax.random.key(7), "step": 0, "metrics": metrics}
    resumed = checkpoint.restore(path, like)
    assert resumed["step"] == config.num_steps
    assert int(metrics.done.sum()) > 5 and float(jnp.abs(metrics.loss).sum()) > 0  # it did train
    assert_bitwise_equal(whole, resumed["state"])  # parameters, target, optimiser, buffer, env, step
    assert_bitwise_equal(metrics, resumed["metrics"])


def test_run_chunk_in_pieces_reproduces_dqn_make_train():
    config = dqn.DQNConfig(**SMALL_DQN)
    key = jax.random.key(11)
    result = jax.jit(dqn.make_train(config))(key)
    init_key, loop_key, _ = jax.random.split(key, 3)  # how make_train splits its key
    parts = dqn.make_parts(config)
    chunk = jax.jit(checkpoint.run_chunk, static_argnums=(0, 4, 5))
    step_fn = functools.partial(dqn.train_step, parts)
    state = dqn.init_state(parts, init_key)
    pieces = []
    for start in range(0, config.num_steps, 100):
        state, metrics = chunk(step_fn, state, loop_key, jnp.int32(start), 100, config.num_steps)
        pieces.append(metrics)
    assert_bitwise_equal(result.params, state.params)
    assert_bitwise_equal(result.steps, jax.tree.map(lambda *m: jnp.concatenate(m), *pieces))


def test_run_chunk_in_pieces_reproduces_ppo_make_train(tmp_path):
    config = ppo.PPOConfig(num_envs=2, num_steps=16, total_timesteps=2 * 16 * 6, update_epochs=2, num_minibatches=2, hidden_sizes=(16,))
    key = jax.random.key(12)
    result = jax.jit(ppo.make_train(config))(key)
    init_key, loop_key = jax.random.split(key)  # how make_train splits its key
    parts = ppo.make_parts(config)
    step_fn = functools.partial(ppo.update, parts)
    chunk = jax.jit(checkpoint.run_chunk, static_argnums=(0, 4, 5))  # one compilation for both halves
    state = ppo.init_state(parts, init_key)
    state, first = chunk(step_fn, state, loop_key, jnp.int32(0), 3, config.num_updates)
    checkpoint.save(tmp_path / "ppo.ckpt", state)
    state = checkpoint.restore(tmp_path / "ppo.ckpt", state)  # the env states go through the file too
    state, second = chunk(step_fn, state, loop_key, jnp.int32(3), 3, config.num_updates)
    assert_bitwise_equal(result.params, state.params)
    assert_bitwise_equal(result.metrics, jax.tree.map(lambda a, b: jnp.concatenate([a, b]), first, second))


def test_step_keys_depend_only_on_the_run_key_and_the_step():
    key = jax.random.key(0)
    all_at_once = checkpoint.step_keys(key, 0, 10)
    pieces = jnp.concatenate([checkpoint.step_keys(key, 0, 3), checkpoint.step_keys(key, 3, 7)])
    assert_bitwise_equal(all_at_once, pieces)
    assert len({bits(k) for k in all_at_once}) == 10  # ten different keys
    split = checkpoint.step_keys(key, 4, 3, total_steps=10)
    assert_bitwise_equal(split, jax.random.split(key, 10)[4:7])
    with pytest.raises(ValueError, match="outside a run of 10 steps"):
        checkpoint.step_keys(key, 8, 3, total_steps=10)
    with pytest.raises(ValueError, match="num_steps must be a whole number"):
        checkpoint.step_keys(key, 0, 0)
    with pytest.raises(TypeError, match="key must be a PRNG key"):
        checkpoint.step_keys(0, 0, 3)
