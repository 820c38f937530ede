"""Training throughput of the course's DQN and PPO, and wall time until they reach a return of 475.

"Steps" are environment steps. A DQN run with ``stop_at`` (FAST_CONFIG) ends at the evaluation that
first reaches 475, so its run time is the time to 475. A run that cannot stop (PPO, TUNED_CONFIG) is
timed whole, and its time to 475 is that time times the fraction of the work done by the update (PPO)
or evaluation (DQN) that first reached 475 (each update or evaluation chunk costs the same). The
"first call" figure adds compilation.
"""

from __future__ import annotations

import dataclasses
import math
import statistics
import time
import warnings
from typing import Any

import jax
import numpy as np

from benchmarks.measure import measure_jitted
from course_lib.agents import dqn, dqn_python_loop, ppo
from course_lib.compile_options import QUICK_COMPILE, SHORT_RUN_COMPILE
from course_lib.curves import first_at_least, trailing_mean

THRESHOLD = 475.0
SMOOTHING = 10  # PPO's time to 475 is read from the mean over the last 10 updates (5,120 steps per seed)
DQN_SOLVE_SEEDS = 8  # DQN's time to 475 is the median over seeds 0 to 7, each timed on its own


def time_to_threshold(values: np.ndarray, steps_per_entry: int, seconds: dict[str, float]) -> dict[str, Any]:
    """When ``values`` (one per equal chunk of work) first reach 475: steps and wall time."""
    index = first_at_least(values, THRESHOLD)
    if index is None:
        return {"reached": False, "steps": None, "steady_seconds": None, "first_call_seconds": None}
    fraction = (index + 1) / len(values)
    return {
        "reached": True,
        "steps": (index + 1) * steps_per_entry,
        "steady_seconds": seconds["steady"] * fraction,
        "first_call_seconds": seconds["compile"] + seconds["steady"] * fraction,
    }


def dqn_scan(config: dqn.DQNConfig, repeats: int) -> dict[str, Any]:
    """``jit(dqn.make_train(config))`` with evaluation off: one seed, steps per second."""
    config = dataclasses.replace(config, eval_every=0)
    measured, _ = measure_jitted(dqn.make_train(config), jax.random.key(0), repeats=repeats)
    return {
        "steps": config.num_steps,
        "steps_per_second": config.num_steps / measured.steady,
        "steps_per_second_with_compile": config.num_steps / measured.first_call,
        **measured.as_dict(),
    }


def dqn_python(config: dqn.DQNConfig, repeats: int) -> dict[str, Any]:
    """The Python-loop DQN on gymnasium: steady steps per second (second half of each run), median."""
    results = [dqn_python_loop.train(config, config.num_steps, seed) for seed in range(repeats)]
    rates = [result.steps_per_second for result in results]
    seconds = [result.seconds for result in results]
    return {
        "steps": config.num_steps,
        "steps_per_second": statistics.median(rates),
        "steps_per_second_with_compile": config.num_steps / statistics.median(seconds),
        "rates": rates,
        "seconds": seconds,
    }


def censored_median(values: list[float | None]) -> float | None:
    """The median over every seed, a seed that never got there (``None``) counting as slower than any
    that did: defined while more than half got there (5 of 8), ``None`` otherwise. Dropping the seeds
    that failed would report the median of the lucky ones."""
    median = statistics.median(math.inf if value is None else value for value in values)
    return None if math.isinf(median) else median


def dqn_time_to_solve(
    config: dqn.DQNConfig, seeds: range, train_fn: Any = None, compiler_options: dict[str, Any] = QUICK_COMPILE
) -> dict[str, Any]:
    """Each seed of ``config`` with greedy evaluations (20 episodes every ``eval_every`` steps): when it
    first reaches 475, in steps and wall time, and the median over seeds (with ``stop_at``, the run
    ends there). One compiled program serves
    every seed; each seed's run is timed once after a warm-up call (the spread over seeds is the noise
    that matters here, not the spread over repeats)."""
    train = jax.jit(train_fn or dqn.make_train(config), compiler_options=compiler_options)
    jax.clear_caches()  # compile from cold, as measure_jitted does
    start = time.perf_counter()
    compiled = train.lower(jax.random.key(0)).compile()
    compile_seconds = time.perf_counter() - start
    jax.block_until_ready(compiled(jax.random.key(seeds[0])))  # one-time allocations, not timed
    per_seed = []
    for seed in seeds:
        start = time.perf_counter()
        result = jax.block_until_ready(compiled(jax.random.key(seed)))
        run_seconds = time.perf_counter() - start
        returns = np.asarray(result.eval_returns)
        ran = returns[~np.isnan(returns)]  # a run that stopped (config.stop_at) evaluated only this far
        timing = {"compile": compile_seconds, "steady": run_seconds}
        per_seed.append({"seed": seed, "run_seconds": run_seconds, "best_evaluation": float(ran.max()),
                         "steps_run": len(ran) * config.eval_every,
                         **time_to_threshold(ran, config.eval_every, timing)})  # fmt: skip
    solved = [row for row in per_seed if row["reached"]]
    median = (lambda key: censored_median([row[key] for row in per_seed]))
    return {
        "num_steps": config.num_steps,
        "eval_every": config.eval_every,
        "stop_at": config.stop_at,
        "compile": compile_seconds,
        "seeds": per_seed,
        "solved": len(solved),
        "median_steps": median("steps"),
        "median_steady_seconds": median("steady_seconds"),
        "median_first_call_seconds": median("first_call_seconds"),
    }


def run_dqn(quick: bool, repeats: int) -> dict[str, Any]:
    started = time.perf_counter()
    article = dataclasses.replace(dqn.ARTICLE_CONFIG, eval_every=0)
    tuned = dataclasses.replace(dqn.TUNED_CONFIG, num_steps=20_000, eval_every=0)
    if quick:
        article = dataclasses.replace(article, num_steps=400)
        tuned = dataclasses.replace(tuned, num_steps=1_200, learning_starts=1_000)
    out: dict[str, Any] = {
        "article": {"scan": dqn_scan(article, repeats), "python_loop": dqn_python(article, repeats)},
        "tuned": {"scan": dqn_scan(tuned, repeats), "python_loop": dqn_python(tuned, repeats)},
    }
    seeds = range(2 if quick else DQN_SOLVE_SEEDS)
    # The headline: FAST_CONFIG (8 environments side by side) compiled as chapter 05 compiles it; the same
    # with QUICK_COMPILE alone, to show what SHORT_RUN_COMPILE trades; TUNED_CONFIG (one environment).
    runs = (
        ("time_to_475", dqn.FAST_CONFIG, "SHORT_RUN_COMPILE", SHORT_RUN_COMPILE),
        ("time_to_475_quick_compile", dqn.FAST_CONFIG, "QUICK_COMPILE", QUICK_COMPILE),
        ("time_to_475_one_env", dqn.TUNED_CONFIG, "QUICK_COMPILE", QUICK_COMPILE),
    )
    for key, config, options_name, options in runs:
        if quick:
            config = dataclasses.replace(config, num_steps=1_600, learning_starts=1_000, eval_every=800, eval_episodes=2)
        out[key] = dqn_time_to_solve(config, seeds, compiler_options=options)
        out[key]["label"] = (f"{'TUNED' if key.endswith('one_env') else 'FAST'}_CONFIG, "
                             f"{config.num_envs} environment{'s' if config.num_envs > 1 else ''}, "
                             f"`{options_name}`")  # fmt: skip
    out["seconds"] = time.perf_counter() - started
    return out


def ppo_runs(
    config: ppo.PPOConfig, num_seeds: int | None, repeats: int, compiler_options: dict[str, Any] | None = None
) -> dict[str, Any]:
    """``jit(ppo.make_train(config))`` on one key (``num_seeds`` None) or ``jit(vmap(...))`` on several."""
    train = ppo.make_train(config)
    if num_seeds is None:
        fn, keys, seeds = train, jax.random.key(0), 1
    else:
        fn, keys, seeds = jax.vmap(train), jax.random.split(jax.random.key(0), num_seeds), num_seeds
    measured, result = measure_jitted(fn, keys, repeats=repeats, compiler_options=compiler_options)
    steps = config.num_updates * config.num_envs * config.num_steps * seeds
    curves = np.asarray(result.mean_returns).reshape(seeds, -1)  # NaN: no episode ended in that update
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN column is a mean of nothing: NaN
        mean_curve = trailing_mean(np.nanmean(curves, axis=0), SMOOTHING)
    final = np.nanmean(curves[:, -20:], axis=1)
    steps_per_update = config.env_steps_per_update
    return {
        "seeds": seeds,
        "steps": steps,
        "steps_per_second": steps / measured.steady,
        "steps_per_second_with_compile": steps / measured.first_call,
        "final_mean_return": final.tolist(),
        "seeds_at_least_475": int((final >= THRESHOLD).sum()),
        **measured.as_dict(),
        # Time until the mean over seeds (of each update's finished episodes) first reaches 475.
        "time_to_475": time_to_threshold(mean_curve, steps_per_update, measured.as_dict()),
    }



def run_ppo(quick: bool, repeats: int) -> dict[str, Any]:
    started = time.perf_counter()
    config = ppo.PUREJAXRL_CONFIG
    num_seeds = 16
    if quick:
        config = dataclasses.replace(config, total_timesteps=4 * 512)
        num_seeds = 2
    out = {
        "one_seed": ppo_runs(config, None, repeats),
        # As chapters 06 and 07 compile PPO: a lower optimisation level, measured nearly free at run time.
        "one_seed_quick_compile": ppo_runs(config, None, repeats, compiler_options=QUICK_COMPILE),
        "many_seeds": ppo_runs(config, num_seeds, repeats),
    }
    out["seconds"] = time.perf_counter() - started
    return out
