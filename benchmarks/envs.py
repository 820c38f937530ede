"""Environment throughput: CartPole steps per second with random actions, episodes restarting as they end.

The JAX environments (course_lib's, gymnax's) run the same loop: one ``lax.scan`` over time of a
``vmap`` over environments, one key split per step for the actions and one per environment for the
step, compiled once. course_lib's ``AutoReset.step_batch`` runs it too with one key per step for the
whole batch, the design meant for many environments. gymnasium runs as a learner would use it: one environment in a Python loop, or
``gymnasium.make_vec`` (``vector_entry_point``: CartPole's own NumPy-vectorised implementation).
"""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Callable
from typing import Any

import gymnasium as gym
import jax
import numpy as np

from benchmarks.measure import measure_jitted
from course_lib.envs import CartPole, auto_reset
from course_lib.timing import time_call

NUM_ACTIONS = 2


def scan_of_vmap(reset: Callable, step: Callable, num_envs: int, num_steps: int) -> Callable[[jax.Array], jax.Array]:
    """``run(key) -> (total reward, sum of every observation)`` of ``num_steps`` steps of ``num_envs``
    environments, random actions.

    ``reset(key) -> (obs, state)`` and ``step(key, state, action) -> (obs, state, reward, ...)`` for one
    environment; ``step`` must restart finished episodes itself. The observations are summed so that
    XLA cannot skip the physics: CartPole's reward is a constant 1, and a loop that returned only
    rewards would be optimised into nothing.
    """

    def run(key: jax.Array) -> tuple[jax.Array, jax.Array]:
        reset_key, loop_key = jax.random.split(key)
        _, states = jax.vmap(reset)(jax.random.split(reset_key, num_envs))

        def one_step(states: Any, key: jax.Array) -> tuple[Any, tuple[jax.Array, jax.Array]]:
            action_key, step_key = jax.random.split(key)
            actions = jax.random.randint(action_key, (num_envs,), 0, NUM_ACTIONS)
            obs, states, reward, *_ = jax.vmap(step)(jax.random.split(step_key, num_envs), states, actions)
            return states, (reward.sum(), obs.sum())

        _, (rewards, observations) = jax.lax.scan(one_step, states, jax.random.split(loop_key, num_steps))
        return rewards.sum(), observations.sum()

    return run


def course_lib_run(num_envs: int, num_steps: int) -> Callable[[jax.Array], jax.Array]:
    env = auto_reset(CartPole())
    return scan_of_vmap(env.reset, env.step, num_envs, num_steps)


def course_lib_batched_run(num_envs: int, num_steps: int) -> Callable[[jax.Array], jax.Array]:
    """The same loop with ``AutoReset.step_batch``: one key per step for the whole batch (the actions'
    key as in :func:`scan_of_vmap`), and every restart drawn from it at once."""
    env = auto_reset(CartPole())

    def run(key: jax.Array) -> tuple[jax.Array, jax.Array]:
        reset_key, loop_key = jax.random.split(key)
        _, states = env.env.reset_batch(reset_key, num_envs)

        def one_step(states: Any, key: jax.Array) -> tuple[Any, tuple[jax.Array, jax.Array]]:
            action_key, step_key = jax.random.split(key)
            actions = jax.random.randint(action_key, (num_envs,), 0, NUM_ACTIONS)
            obs, states, reward, *_ = env.step_batch(step_key, states, actions)
            return states, (reward.sum(), obs.sum())

        _, (rewards, observations) = jax.lax.scan(one_step, states, jax.random.split(loop_key, num_steps))
        return rewards.sum(), observations.sum()

    return run


def gymnax_available() -> bool:
    return importlib.util.find_spec("gymnax") is not None


def gymnax_run(num_envs: int, num_steps: int) -> Callable[[jax.Array], jax.Array]:
    import gymnax  # the optional `bench` extra

    env, params = gymnax.make("CartPole-v1")  # its step restarts finished episodes (auto-reset)
    return scan_of_vmap(
        lambda key: env.reset(key, params),
        lambda key, state, action: env.step(key, state, action, params),
        num_envs,
        num_steps,
    )


def jax_throughput(make_run: Callable, num_envs: int, num_steps: int, repeats: int) -> dict[str, Any]:
    measured, (total_reward, _) = measure_jitted(make_run(num_envs, num_steps), jax.random.key(0), repeats=repeats)
    steps = num_envs * num_steps
    if not float(total_reward) == steps:  # CartPole pays 1 per step: every step must have happened
        raise RuntimeError(f"expected a total reward of {steps}, got {float(total_reward)}")
    return {"steps": steps, "steps_per_second": steps / measured.steady, **measured.as_dict()}


def gymnasium_single(num_steps: int, repeats: int) -> dict[str, Any]:
    """One ``gymnasium.make("CartPole-v1")`` in a Python loop, resetting when an episode ends."""
    env = gym.make("CartPole-v1")
    actions = np.random.default_rng(0).integers(0, NUM_ACTIONS, num_steps)

    def run() -> None:
        env.reset(seed=0)
        for action in actions:
            _, _, terminated, truncated, _ = env.step(int(action))
            if terminated or truncated:
                env.reset()

    timing = time_call(run, repeats=repeats)  # the first run warms up; the median is of the others
    env.close()
    return {"steps": num_steps, "steps_per_second": num_steps / timing.median, "steady": timing.median,
            "runs": list(timing.runs)}  # fmt: skip


def gymnasium_vector(num_envs: int, num_steps: int, repeats: int) -> dict[str, Any]:
    """``gymnasium.make_vec`` with CartPole's own vectorised implementation (it restarts episodes itself)."""
    envs = gym.make_vec("CartPole-v1", num_envs=num_envs, vectorization_mode="vector_entry_point")
    actions = np.random.default_rng(0).integers(0, NUM_ACTIONS, (num_steps, num_envs))

    def run() -> None:
        envs.reset(seed=0)
        for action in actions:
            envs.step(action)

    timing = time_call(run, repeats=repeats)
    envs.close()
    steps = num_envs * num_steps
    return {"steps": steps, "steps_per_second": steps / timing.median, "steady": timing.median,
            "runs": list(timing.runs)}  # fmt: skip


def steps_for(num_envs: int, total: int, minimum: int, maximum: int = 200_000) -> int:
    """Steps per environment for about ``total`` steps in all: enough that a run lasts a measurable
    while, few enough that a single environment does not take minutes."""
    return min(maximum, max(minimum, total // num_envs))


def run(sizes: tuple[int, ...], total_steps: int, python_steps: int, repeats: int) -> dict[str, Any]:
    """Every environment at every size; ``total_steps`` per JAX measurement, ``python_steps`` per
    gymnasium measurement (its loops are slower)."""
    started = time.perf_counter()
    rows: list[dict[str, Any]] = []
    for num_envs in sizes:
        num_steps = steps_for(num_envs, total_steps, 10)
        rows.append({"implementation": "course_lib", "num_envs": num_envs,
                     **jax_throughput(course_lib_run, num_envs, num_steps, repeats)})  # fmt: skip
        rows.append({"implementation": "course_lib step_batch", "num_envs": num_envs,
                     **jax_throughput(course_lib_batched_run, num_envs, num_steps, repeats)})  # fmt: skip
        if gymnax_available():
            rows.append({"implementation": "gymnax", "num_envs": num_envs,
                         **jax_throughput(gymnax_run, num_envs, num_steps, repeats)})  # fmt: skip
        vector_steps = steps_for(num_envs, python_steps, 20)
        rows.append({"implementation": "gymnasium make_vec", "num_envs": num_envs,
                     **gymnasium_vector(num_envs, vector_steps, repeats)})  # fmt: skip
    rows.append({"implementation": "gymnasium", "num_envs": 1, **gymnasium_single(python_steps, repeats)})
    return {"rows": rows, "gymnax_installed": gymnax_available(), "seconds": time.perf_counter() - started}


if __name__ == "__main__":  # a quick look: python -m benchmarks.envs
    for row in run((1, 64), 20_000, 2_000, 3)["rows"]:
        print(f"{row['implementation']:>20} {row['num_envs']:>6} {row['steps_per_second']:>14,.0f} steps/s")
