"""course_lib.devices: seeds split across devices give the unsharded results, compile without
communication, and name bad input. Two CPU devices need XLA_FLAGS before jax is imported, so those
cases run in a subprocess (with a time limit: the bug they guard against was a hang)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import jax
import numpy as np
import pytest

from course_lib import devices

TWO_DEVICES = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=2")


def run_two_devices(code: str, timeout: float = 90) -> str:
    """Run ``code`` in a fresh Python with 2 CPU devices; its stdout. A hang fails the test."""
    try:
        done = subprocess.run(
            [sys.executable, "-c", textwrap.dedent(code)], env=TWO_DEVICES, capture_output=True, text=True,
            timeout=timeout,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        pytest.fail(f"no result after {timeout} s with 2 devices (the sharded-QR deadlock?)")
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_orthogonal_init_vmapped_over_keys_on_two_devices_finishes() -> None:
    # The hang of issue 17 in small: PPO's orthogonal initialisation (two 64x64 QRs) over 4 keys, 2 per
    # device. With jaxlib 0.10.2's batched LAPACK QR, both intra-op threads waited on each other for ever.
    out = run_two_devices(
        """
        import jax, jax.numpy as jnp
        from jax.sharding import Mesh, NamedSharding, PartitionSpec as P
        from course_lib import nets
        net = nets.make_actor_critic(2, (64, 64))
        mesh = Mesh(jax.devices(), ("seeds",))
        keys = jax.device_put(jax.random.split(jax.random.key(0), 4), NamedSharding(mesh, P("seeds")))
        init = jax.jit(jax.vmap(net.init, in_axes=(0, None)))
        for _ in range(3):
            params = jax.block_until_ready(init(keys, jnp.zeros(4)))
        print("done", params["policy_hidden_1"]["w"].shape)
        """,
        timeout=45,
    )
    assert "done (4, 64, 64)" in out


def test_sharded_ppo_equals_unsharded_vmap() -> None:
    # Same keys, same returns: each device trains its own seeds, in the keys' order. Not bit for bit: the
    # program compiled for 2 devices rounds a few losses differently in the last place (1e-6 here), as
    # another CPU instruction set does (on 1 device it is exact: test_one_device_results_match_vmap_exactly).
    out = run_two_devices(
        """
        import jax, numpy as np
        from course_lib import devices
        from course_lib.agents import ppo
        config = ppo.PPOConfig(num_envs=4, num_steps=32, total_timesteps=512, update_epochs=2, num_minibatches=2)
        train = ppo.make_train(config)
        keys = jax.random.split(jax.random.key(7), 4)
        plain = jax.device_get(jax.jit(jax.vmap(train))(keys))
        sharded = devices.run_sharded(train, keys)
        leaves = list(zip(jax.tree.leaves(sharded), jax.tree.leaves(plain)))
        print("close", all(np.allclose(s, p, rtol=1e-4, atol=1e-5) for s, p in leaves))
        print("episodes", np.array_equal(sharded.metrics.episodes, plain.metrics.episodes))
        print("returns", np.round(sharded.mean_returns[:, -1], 3).tolist(), np.round(plain.mean_returns[:, -1], 3).tolist())
        print("shape", sharded.metrics.episodes.shape)
        """
    )
    assert "close True" in out, out
    assert "episodes True" in out, out
    assert "shape (4, 4)" in out, out


def test_shard_map_compiles_without_communication_and_bad_keys_are_named() -> None:
    out = run_two_devices(
        """
        import jax
        from course_lib import devices, returns

        def train(key):  # a checked gamma that depends on the key: a traced input check, as in PPO
            gamma = 0.5 + 0.5 * jax.random.uniform(jax.random.fold_in(key, 1))
            return returns.discounted_returns(jax.random.uniform(key, (16,)), gamma)

        keys = jax.random.split(jax.random.key(0), 4)
        print("shard_map", devices.collective_counts(train, keys))
        print("jit", devices.collective_counts(train, keys, how="jit"))
        try:
            devices.run_sharded(train, keys[:3])
        except ValueError as error:
            print("error", error)
        """
    )
    assert "shard_map {}" in out, out
    assert "'all-reduce'" in out.split("jit ")[1], out  # jit partitions the check's reduction across devices
    assert "error keys: 3 keys cannot be split evenly across 2 devices; pass a multiple of 2 (for example 4)" in out


def test_one_device_results_match_vmap_exactly() -> None:
    def train(key: jax.Array) -> jax.Array:
        return jax.random.normal(key, (3,)).cumsum()

    keys = jax.random.split(jax.random.key(1), 4)
    out = devices.run_sharded(train, keys, num_devices=1)
    assert isinstance(out, np.ndarray)
    np.testing.assert_array_equal(out, np.asarray(jax.vmap(train)(keys)))
    legacy = jax.random.split(jax.random.PRNGKey(1), 4)  # (4, 2) uint32 keys work too
    np.testing.assert_array_equal(devices.run_sharded(train, legacy, 1), np.asarray(jax.vmap(train)(legacy)))


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda t: devices.run_sharded(t, 3), TypeError, "pass jax.random.key(3)"),
        (lambda t: devices.run_sharded(t, jax.random.key(0)), ValueError, "one key per seed, shape (num_seeds,)"),
        (lambda t: devices.run_sharded(t, np.zeros((4, 3), np.uint32)), TypeError, "must be a PRNG key"),
        (lambda t: devices.make_sharded(t, 99), ValueError, "xla_force_host_platform_device_count=99"),
        (lambda t: devices.make_sharded(t, 0), ValueError, "num_devices must be a whole number >= 1"),
        (lambda t: devices.make_sharded(t, how="pmap"), ValueError, "how must be one of"),
        (lambda t: devices.make_sharded("train"), TypeError, "train must be a function"),
    ],
)
def test_bad_input_is_named(call, error, message) -> None:
    with pytest.raises(error, match=None) as raised:
        call(lambda key: jax.random.normal(key, (2,)))
    assert message in str(raised.value)
