# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 07 · Beyond one run and one machine
#
# By the end of this chapter you will have trained a grid of PPO settings on 32 seeds each in one
# compiled program, read the result with statistics that hold up (the interquartile mean and a
# bootstrap interval, both written by you), run the same training function on two devices and on
# two processes, and stopped and resumed a run without changing a single bit of its result.
#
# ## Before you start
#
# **You will learn to**
#
# 1. sweep a hyper-parameter over a grid times many seeds with `vmap`, compiled once, and measure
#    what that saves;
# 2. summarise runs with the interquartile mean (IQM), a bootstrap confidence interval, a
#    performance profile and the probability of improvement (Agarwal et al. 2021);
# 3. say how many seeds a comparison needs, from the width of its interval;
# 4. split seeds across devices with `jax.sharding` and `shard_map`, and across processes with
#    JAX's distributed runtime;
# 5. save a training run and resume it bit for bit.
#
# **You need** chapter 00 (keys, `vmap`), chapter 05 (a training run as one pure function) and
# chapter 06 (PPO, its traced hyper-parameters and its ablations).
#
# **Time and compute.** The notebook runs top to bottom in about 65 seconds on 2 CPU cores, kernel
# start included (`make bench`: 63 s on an Intel Xeon, 78 s on an AMD EPYC). About 25 s of it is
# the sweep (96 PPO runs, its compile, and the three compiles it is timed against), and about 25 s
# the scripts started on two devices and on two processes, most of it compiling. No GPU needed.

# %% tags=["remove-cell"]
# Colab, or any Jupyter without the course installed: `%pip install` the
# course's helper package, course_lib, from its repository. In the course's own
# environment (make lab, make test) it is installed already: this does nothing.
try:
    import course_lib  # noqa: F401
except ModuleNotFoundError:
    get_ipython().run_line_magic(
        "pip",
        "install --quiet "
        '"course_lib @ git+https://github.com/drl-jax/drl-jax-course"',
    )

# %%
import dataclasses
import json
import os
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np

from course_lib import checking, checkpoint, plotting, stats
from course_lib.compile_options import QUICK_COMPILE, QUICK_XLA_FLAGS
from course_lib.agents import ppo
from course_lib.exercises import ch07

np.set_printoptions(precision=1, suppress=True)
# QUICK_COMPILE, as in chapters 05 and 06: programs vmapped over many runs
# compile about twice as fast, and run as fast.

# %% [markdown]
# ## Why one run is not enough
#
# A training run is one draw from a distribution. Another seed gives another run; so does the same
# seed on another CPU (chapter 05 showed why). "My agent reaches 60 and yours 52" says little until
# you know how much runs of each agent scatter. Chapter 06 met this in its ablations: its first
# version trained 2 seeds per variant, read 321 against 236 as "no difference", and then saw a
# compiler setting alone move one of those means by 90. It moved to 8 seeds and a Student-t
# interval per variant. This chapter turns that into a method, then takes the same training
# function past one process on one device.
#
# ## A sweep is one program
#
# A *sweep* trains one configuration per point of a grid of hyper-parameters, several seeds each.
# Written plainly, it is a loop: build the configuration, compile, train, next point. In JAX the
# loop can disappear. Chapter 06 marked three fields of `ppo.PPOConfig` as *traced*
# (`ppo.TRACED`): `train(key, config)` takes them as arrays, so configurations that differ only
# in them are one program. `ppo.stack_configs` turns a list of checked configurations into one
# whose traced fields have one entry per run, and `vmap` trains them all at once.
#
# The grid here is GAE's $\lambda$ at 0.8, 0.95 (PureJaxRL's choice) and 1.0 (Monte Carlo
# returns), 32 seeds each: 96 runs of PPO on CartPole, each 16,384 steps (32 updates of
# chapter 06's 4 × 128 steps, at PureJaxRL's step size). That is short: every run is still
# learning at the end, so the score, the mean return over its last 10 updates, measures how fast
# it learns.

# %%
LAMBDAS = (0.8, 0.95, 1.0)
NUM_SEEDS = 32
sweep_config = dataclasses.replace(ppo.PUREJAXRL_CONFIG, total_timesteps=16_384)
grid = [dataclasses.replace(sweep_config, gae_lambda=lam) for lam in LAMBDAS]
runs = ppo.stack_configs(  # every traced field (96,): 3 lambdas x 32 seeds
    [point for point in grid for _ in range(NUM_SEEDS)]
)
seed_keys = jax.random.split(jax.random.key(7), NUM_SEEDS)
keys = jnp.concatenate([seed_keys] * len(grid))  # the same 32 seeds per point
print(
    "gae_lambda of the runs:",
    runs.gae_lambda.shape,
    [round(float(lam), 2) for lam in runs.gae_lambda[::NUM_SEEDS]],
)
print("keys:", keys.shape, "; updates per run:", sweep_config.num_updates)

# %% [markdown]
# How much does one program save? Compile it, and compile the program of one grid point alone
# (its $\lambda$ a constant, 32 seeds), as a loop over the grid would, once per point.
# `jax.jit(f).lower(...).compile()` compiles without running, so each can be timed on its own.
# JAX's persistent compilation cache (the course's `make test` turns it on) never stores these
# two programs, so every run of this cell measures real compilations.

# %% tags=["nbval-ignore-output"]
train_grid = jax.jit(
    jax.vmap(ppo.make_train(sweep_config)), compiler_options=QUICK_COMPILE
)
train_point = jax.jit(
    jax.vmap(ppo.make_train(grid[0])), compiler_options=QUICK_COMPILE
)
# Never store these two in the persistent cache, so no later run loads them.
min_seconds = jax.config.jax_persistent_cache_min_compile_time_secs
jax.config.update("jax_persistent_cache_min_compile_time_secs", 1e9)
try:
    started = time.perf_counter()
    compiled_grid = train_grid.lower(keys, runs).compile()
    grid_compile = time.perf_counter() - started
    started = time.perf_counter()
    train_point.lower(seed_keys).compile()
    point_compile = time.perf_counter() - started
finally:
    jax.config.update("jax_persistent_cache_min_compile_time_secs", min_seconds)
print(f"one program for the whole grid:  {grid_compile:.1f} s to compile")
print(
    f"one program per grid point:      {point_compile:.1f} s each, "
    f"{len(grid) * point_compile:.1f} s for {len(grid)} points"
)
assert grid_compile < len(grid) * point_compile, (
    "one program for the grid should compile faster than one per point: "
    "vmap adds a batch axis, not new code"
)

# %% [markdown]
# The grid's program compiles in about the time of one point's, or a little more (its $\lambda$ and
# the other traced fields are arrays now, not constants): `vmap` adds a batch axis to every array,
# not new code. A loop over the grid pays one compilation per point, so a grid of 3 costs three
# compilations, and a grid of 30, thirty. Now train all 96 runs in one call:

# %% tags=["nbval-ignore-output"]
started = time.perf_counter()
sweep = jax.block_until_ready(compiled_grid(keys, runs))
sweep_seconds = time.perf_counter() - started
sweep_steps = len(keys) * sweep_config.num_updates * sweep_config.env_steps_per_update
print(
    f"{len(keys)} runs x {sweep_config.num_updates * sweep_config.env_steps_per_update:,} "
    f"steps in {sweep_seconds:.1f} s ({sweep_steps / sweep_seconds:,.0f} steps per second)"
)

curves = np.asarray(sweep.mean_returns).reshape(len(grid), NUM_SEEDS, -1)
# One score per run: the mean return of the episodes of its last 10 updates.
scores = np.nanmean(curves[:, :, -10:], axis=2)  # (lambdas, seeds)
steps = np.arange(1, curves.shape[2] + 1) * sweep_config.env_steps_per_update
fig, ax = plotting.new_axes(8, 3.5)
for lam, lam_curves in zip(LAMBDAS, curves):
    plotting.learning_curve(
        ax, lam_curves, x=steps, label=f"lambda = {lam}, mean of 32 seeds"
    )
ax.set(xlabel="environment steps", ylabel="mean episode return")
ax.set_title("PPO on CartPole, three lambdas, 32 seeds each, 95% CI")
ax.legend(loc="upper left")
plt.show()
for lam, lam_scores in zip(LAMBDAS, scores):
    print(f"lambda {lam:4}: scores from {lam_scores.min():.0f} to {lam_scores.max():.0f}")
assert np.all(np.isfinite(scores)), "every run should finish episodes in its last updates"

# %% [markdown]
# Three things to see. The seeds of one setting scatter widely, by tens of return, so any single
# pair of runs says little. $\lambda = 1$'s curve ends below $\lambda = 0.95$'s. And
# $\lambda = 0.8$ sits close to 0.95: is it below, or is that luck? To answer, we need a number
# per setting that is robust to the odd run, and an interval around it.
#
# ## Exercise 7.1: the interquartile mean
#
# The mean of a few runs moves a lot with one run that diverged or one that got lucky; the median
# listens to one or two runs and ignores the rest. The **interquartile mean** (IQM) sits between:
# sort the $n$ scores, drop the lowest quarter and the highest quarter, and average the middle
# half. Agarwal et al. (2021) recommend it for the few runs that deep RL can afford.
#
# $$\mathrm{IQM}(x) = \frac{1}{n - 2k} \sum_{i=k+1}^{n-k} x_{(i)}, \qquad k = \lfloor n/4 \rfloor,$$
#
# where $x_{(1)} \le \dots \le x_{(n)}$ are the scores sorted. Only whole scores are dropped: with
# $n = 6$, $k = 1$ and 4 scores are kept; with $n < 4$ nothing is dropped. This is
# `scipy.stats.trim_mean(scores, 0.25)`, and `course_lib.stats.iqm`; here you write it.
#
# Write `interquartile_mean(scores)`: `scores` is `(n,)`; return one number. JAX or NumPy both
# pass; a JAX version runs inside the compiled bootstrap of Exercise 7.2 directly, a NumPy one
# through a callback (slower, same numbers). Do not change `scores` in place.


# %%
def interquartile_mean(scores):
    # YOUR CODE HERE: the mean of the middle half: sort, drop the n // 4 lowest and
    #   highest, average the rest
    raise NotImplementedError("Exercise not started: replace this line with your code")


# %%
interquartile_mean = ch07.check_interquartile_mean(interquartile_mean)

# %% [markdown]
# The check tries every size from 1 to 7 (the cases where rounding $n/4$ matters), ties at
# CartPole's cap of 500, negative and integer scores, sorted and reversed input, and sizes up to 40.
#
# ## Exercise 7.2: a bootstrap confidence interval
#
# How sure is an IQM of 32 runs? The Student-t interval of chapter 06 assumes a mean of roughly
# normal numbers, and an IQM is not a mean of all of them. The **bootstrap** (Efron 1979) makes no
# such assumption: treat the $n$ scores you have as the population, draw $n$ of them *with
# replacement*, compute the statistic of that resample, and repeat $B$ times. The spread of the $B$
# values is how much the statistic would move with other runs. The **percentile interval** at
# confidence $c$ is their quantiles at $(1-c)/2$ and $(1+c)/2$:
#
# $$\big[\, q_{(1-c)/2}(\hat\theta^*_1, \dots, \hat\theta^*_B),\ q_{(1+c)/2}(\hat\theta^*_1, \dots, \hat\theta^*_B) \,\big].$$
#
# Write `bootstrap_interval(key, scores, statistic, num_resamples, confidence)`: `scores` is
# `(n,)`, `statistic` maps `(n,)` scores to one number, and you return `(low, high)`. Draw all
# resamples' indices from `key` at once, `(num_resamples, n)`; `jax.random.randint`,
# `jax.vmap(statistic)` and `jnp.quantile` help. Keep it JAX: the chapter runs your function
# compiled and vmapped over keys and settings.


# %%
def bootstrap_interval(key, scores, statistic, num_resamples, confidence):
    # YOUR CODE HERE: num_resamples resamples of n scores with replacement from key, the
    #   statistic of each, and the quantiles at (1 ∓ confidence)/2
    raise NotImplementedError("Exercise not started: replace this line with your code")


# %%
bootstrap_interval = ch07.check_bootstrap_interval(bootstrap_interval)

# %% [markdown]
# A random function cannot be checked by its draws: the check compares the *distribution* of your
# interval's ends over 256 keys with the reference's, on seven settings (the mean, the median and
# the IQM; 80 % to 99 %; 50 to 2,000 resamples), and how often your intervals hold a known mean.
#
# ## Reading the sweep with intervals
#
# Your bootstrap, applied to your IQM, for each $\lambda$: one compiled call for the three
# intervals, each from its own key, 2,000 resamples of the 32 scores.


# %%
@partial(jax.jit, static_argnums=(2, 3, 4))
def iqm_intervals(keys, scores, statistic, num_resamples, confidence):
    """One interval per row of ``scores`` (rows, runs), each from its own key."""
    one = partial(
        bootstrap_interval,
        statistic=statistic,
        num_resamples=num_resamples,
        confidence=confidence,
    )
    low, high = jax.vmap(lambda key, row: one(key, row))(keys, scores)
    return jax.vmap(statistic)(scores), low, high


print(
    checking.whose_code(
        interquartile_mean=(interquartile_mean, ch07.interquartile_mean),
        bootstrap_interval=(bootstrap_interval, ch07.bootstrap_interval),
    )
)

# %% tags=["nbval-ignore-output"]
estimates, lows, highs = iqm_intervals(
    jax.random.split(jax.random.key(0), len(LAMBDAS)),
    jnp.asarray(scores, jnp.float32),
    interquartile_mean,
    2000,
    0.95,
)
interval_of = {
    lam: stats.BootstrapInterval(float(e), float(lo), float(hi), NUM_SEEDS, 1)
    for lam, e, lo, hi in zip(LAMBDAS, estimates, lows, highs)
}
print(
    "lambda   IQM of 32 seeds [95% interval]   vs 0.95   (course_lib.stats, scipy)"
)
for lam, interval in interval_of.items():
    verdict = stats.compare(interval, interval_of[0.95]) if lam != 0.95 else ""
    library = stats.stratified_bootstrap(scores[LAMBDAS.index(lam)])
    print(f"{lam:6}   {str(interval):30}  {verdict:8}  {library}")
    # Two bootstraps from different random draws: their ends agree to a
    # fraction of the interval's width, not to the last digit.
    width = library.high - library.low
    assert abs(interval.estimate - library.estimate) < 1e-3 * (1 + width)
    assert abs(interval.low - library.low) < 0.25 * width + 0.5
    assert abs(interval.high - library.high) < 0.25 * width + 0.5
assert stats.separated(interval_of[0.95], interval_of[1.0]), (
    "with 32 seeds, lambda = 0.95 should learn faster than lambda = 1, "
    "its interval wholly above"
)

# %% [markdown]
# The intervals from your functions agree with `course_lib.stats.stratified_bootstrap`, which
# calls `scipy.stats.bootstrap`: two different sets of random resamples, so the ends agree to a few
# percent of the width, as the cell asserts.
#
# $\lambda = 0.95$'s interval lies wholly above $\lambda = 1$'s (the cell asserts it): on this short
# budget, Monte Carlo returns' extra noise costs learning speed, which is the bias-variance trade
# that GAE's $\lambda$ exists for. For $\lambda = 0.8$ read the verdict the printout gives. In the
# book's run its interval overlapped 0.95's; on another set of 32 seeds we saw it separate.
# "Overlap" means *not shown*, not *equal*.
#
# ## Two seeds against thirty-two
#
# What would 2 seeds per setting have told you? The 32 seeds make 16 disjoint pairs. For each
# pair, the question a 2-seed study asks: do the two settings' intervals separate, and which mean
# is higher? With 2 seeds only the Student-t interval makes sense (a bootstrap of 2 numbers has
# only 3 distinct resamples), and its quantile with 1 degree of freedom is 12.7, not 1.96.

# %% tags=["nbval-ignore-output"]
pairs = scores.reshape(len(LAMBDAS), NUM_SEEDS // 2, 2)  # 16 pairs per lambda
print("pairs of seeds: ", "separated    ranked 0.95 lower")
for other in (1.0, 0.8):
    a, b = pairs[LAMBDAS.index(0.95)], pairs[LAMBDAS.index(other)]
    separated = sum(
        stats.compare(stats.mean_interval(x), stats.mean_interval(y)) != "overlap"
        for x, y in zip(a, b)
    )
    wrong_way = int((a.mean(1) < b.mean(1)).sum())
    print(
        f"0.95 vs {other:4}:  {separated:2} of 16      {wrong_way:2} of 16",
        f"  ({stats.compare(interval_of[0.95], interval_of[other])} with 32 seeds)",
    )
    assert separated <= 4, "2-seed intervals should almost never separate"

# %% [markdown]
# With 2 seeds, almost no pair's intervals separate: a 2-seed study *cannot tell* 0.95 from 1.0,
# even when its two means happen to come in the right order. Against 0.8 it is worse: several pairs
# rank 0.95 *below* 0.8, and a study that read the order of two means would publish that. With 32
# seeds the interval says which difference is real (0.95 over 1.0), and which is not shown.
#
# How many seeds do you need? An interval's half-width shrinks like $1/\sqrt{n}$: four times the
# seeds, half the width. Compare the width you can afford with the difference you want to detect,
# before you train.
#
# ## Beyond one number: profiles and the probability of improvement
#
# An IQM still hides the shape of the distribution. A **performance profile** plots, for each
# threshold $\tau$, the fraction of runs that score above it: where one curve lies above another at
# every $\tau$, that setting is better at every level, not only on average. And the **probability of
# improvement** asks a head-to-head question: if you pick one run of X and one of Y at random, how
# likely is X's higher? (It is the Mann-Whitney $U$ statistic over $nm$.) Both come with stratified
# bootstrap bands from `course_lib.stats` (Agarwal et al. 2021).

# %% tags=["nbval-ignore-output"]
thresholds = np.linspace(scores.min() - 1, scores.max() + 1, 81)
fig, ax = plotting.new_axes(7, 3.2)
for lam, lam_scores in zip(LAMBDAS, scores):
    profile = stats.performance_profile(lam_scores, thresholds)
    (line,) = ax.plot(thresholds, profile.fraction, label=f"lambda = {lam}")
    ax.fill_between(
        thresholds,
        profile.low,
        profile.high,
        color=line.get_color(),
        alpha=0.2,
        linewidth=0,
    )
ax.set(xlabel="score tau (mean return, last 10 updates)")
ax.set(ylabel="fraction of runs above tau")
ax.set_title("Performance profiles, 32 seeds each, 95% bands")
ax.legend()
plt.show()
for other in (1.0, 0.8):
    better = stats.probability_of_improvement(
        scores[LAMBDAS.index(0.95)], scores[LAMBDAS.index(other)]
    )
    print(f"P(a run of 0.95 beats a run of {other}) = {better}")
    if other == 1.0:
        assert better.low > 0.5, "0.95 should beat 1.0 more often than not"

# %% [markdown]
# ## Many devices in one process
#
# Everything so far ran on one device. `jax.sharding` spreads an array over several: a `Mesh`
# names the devices along an axis (here one axis, `"seeds"`), and a `NamedSharding` with
# `PartitionSpec("seeds")` says "split the first axis of this array along it". Then
# `jax.shard_map(jax.vmap(train), mesh=..., in_specs=..., out_specs=...)` runs `vmap(train)` on
# each device with that device's share of the keys. Seeds are independent, so no device ever needs
# another's data. `course_lib.devices.make_sharded(train, num_devices)` does exactly that, and
# gathers the results as NumPy arrays, seeds first
# ([source](https://github.com/drl-jax/drl-jax-course/blob/main/course_lib/devices.py)).
#
# Two details cost us days, so they are worth your minute.
#
# * **Why `shard_map`, not `jax.jit` of sharded keys.** `jit` partitions the program for you, and
#   wherever the program reduces over the seed axis it inserts communication. The course's input
#   checks reduce over the batch (one `all` per check), so the partitioned PPO program does an
#   `all-reduce` between devices on every environment step. Between devices of one process that
#   is cheap; between processes it is a network round trip. Under `shard_map` each device sees only
#   its own seeds and talks to no one. The script below counts the communication operations each
#   way compiles to, on a small function with one such check.
# * **A hang, and its cause.** Our first sharded PPO never finished. With `gdb` on the stuck
#   process: jaxlib 0.10.2's CPU QR decomposition (used by the networks' orthogonal
#   initialisation) splits a batch of matrices into tasks on XLA's thread pool and waits for them.
#   With one program per device on that pool, 2 threads on 2 cores, each thread waited for tasks
#   that no free thread was left to run. `course_lib.nets` now runs one QR per matrix, which runs
#   inline, and the parameters are bit for bit the same.
#
# A CPU has one device unless you ask for more, with an XLA flag that must be set before JAX
# starts: `XLA_FLAGS=--xla_force_host_platform_device_count=2`. This kernel started long ago, so
# the chapter writes a small script and runs it in a fresh Python with that flag. It trains 8 seeds
# of PPO (the sweep's configuration, $\lambda = 0.95$) on 1 device and on 2, each call timed after
# a first call that compiles.

# %%
SCRIPT = '''\
"""Train 8 seeds of PPO on the devices JAX sees (in every process); print a report."""
import json, sys, time

from course_lib import launch

launch.initialize()  # under course_lib.launch: join the other processes; alone: nothing
import jax
import numpy as np

from course_lib import devices, returns
from course_lib.agents import ppo

train = ppo.make_train(ppo.PPOConfig(total_timesteps=16_384))
keys = jax.random.split(jax.random.key(0), 8)  # every process holds all keys
report = {"processes": jax.process_count(), "devices": jax.device_count()}
for count in [int(n) for n in sys.argv[1].split(",")]:
    run = devices.make_sharded(train, count)  # the keys split over `count` devices
    started = time.perf_counter()
    results = run(keys)  # the first call compiles
    report[f"compile {count}"] = time.perf_counter() - started
    started = time.perf_counter()
    results = run(keys)
    report[f"seconds {count}"] = time.perf_counter() - started
    # the first update's episodes and returns, and each seed's final score
    report[f"episodes {count}"] = results.metrics.episodes[:, 0].tolist()
    report[f"returns {count}"] = results.mean_returns[:, 0].tolist()
    report[f"scores {count}"] = np.nanmean(results.mean_returns[:, -10:], 1).tolist()

if "--collectives" in sys.argv:  # what each way compiles to, on a small function
    def checked(key):  # a discount that depends on the key: a checked, traced input
        gamma = 0.5 + 0.5 * jax.random.uniform(jax.random.fold_in(key, 1))
        return returns.discounted_returns(jax.random.uniform(key, (16,)), gamma)

    report["collectives"] = {
        how: devices.collective_counts(checked, keys, how=how)
        for how in ("shard_map", "jit")
    }
if jax.process_index() == 0:
    print("REPORT", json.dumps(report))
'''
folder = Path(tempfile.mkdtemp(prefix="chapter07_"))
script = folder / "seeds.py"
script.write_text(SCRIPT)


def flags(*extra):
    """XLA_FLAGS for a child process: ours first, then any the course set
    (make test-isa sets an instruction set), then `extra`. QUICK_COMPILE's
    settings halve the compile time of these programs."""
    return " ".join([QUICK_XLA_FLAGS, os.environ.get("XLA_FLAGS", ""), *extra]).strip()


def report_of(output):
    """The JSON line the script prints as REPORT, from a child's output."""
    line = next(l for l in output.splitlines() if "REPORT " in l)
    return json.loads(line.split("REPORT ", 1)[1])


print("script written:", script.name, f"({len(SCRIPT.splitlines())} lines)")

# %% tags=["nbval-ignore-output"]
started = time.perf_counter()
done = subprocess.run(
    [sys.executable, str(script), "1,2", "--collectives"],
    env=dict(
        os.environ,
        JAX_PLATFORMS="cpu",
        XLA_FLAGS=flags("--xla_force_host_platform_device_count=2"),
    ),
    capture_output=True,
    text=True,
    timeout=300,  # the hang this guards against never ended
)
assert done.returncode == 0, done.stderr[-2000:]
one_process = report_of(done.stdout)
print(
    f"a fresh Python with {one_process['devices']} CPU devices: "
    f"{time.perf_counter() - started:.0f} s in all"
)
for count in (1, 2):
    print(
        f"  {count} device(s): compiled and ran in {one_process[f'compile {count}']:.1f} s,"
        f" then 8 seeds in {one_process[f'seconds {count}']:.2f} s"
    )
print("communication compiled in, shard_map:", one_process["collectives"]["shard_map"])
print("communication compiled in, jit:      ", one_process["collectives"]["jit"])
assert one_process["collectives"]["shard_map"] == {}
assert one_process["collectives"]["jit"].get("all-reduce", 0) >= 1
# Each device trains its own seeds: the same first update, the same episodes
# and returns (up to the last bits: a program for 4 seeds per device rounds
# differently from one for 8, as another CPU does, and over 32 updates those
# bits grow into other runs of the same seeds).
assert one_process["episodes 2"] == one_process["episodes 1"]
np.testing.assert_allclose(
    one_process["returns 2"], one_process["returns 1"], rtol=1e-4, atol=1e-3
)

# %% [markdown]
# The 2-device run trained the same 8 seeds to the same episodes as the 1-device run (the cell
# asserts it), each device with 4. `shard_map`'s program holds no communication; `jit`'s holds an
# `all-reduce` for the check, inside the loop it would run on every step.
#
# ## Many processes: JAX's distributed runtime
#
# One machine has only so many devices. Beyond it, you start one process per host (a GPU node, a
# TPU VM) and each calls `jax.distributed.initialize(coordinator_address, num_processes,
# process_id)`. Process 0 runs a small coordinator service at that address; the others connect to
# it, and from then on `jax.devices()` lists *every* process's devices, while
# `jax.local_devices()` lists a process's own. The same mesh, the same `shard_map`: each process
# places the keys of its own devices, and `multihost_utils.process_allgather` brings every result
# to every process. On CPU the processes exchange data through gloo over TCP
# (`jax_cpu_collectives_implementation = "gloo"`); GPUs use NCCL and TPUs their interconnect.
#
# On a cluster, a scheduler (Slurm, Kubernetes, a TPU pod's own) starts the processes and tells
# each the three numbers. Here `python -m course_lib.launch --processes 2 seeds.py 2` plays the
# scheduler on one machine: it picks a free port on 127.0.0.1, starts two copies of the *same*
# script, each with one CPU device, prefixes their output with `[process i]`, and stops both if
# one fails or a timeout passes
# ([source](https://github.com/drl-jax/drl-jax-course/blob/main/course_lib/launch.py)). The
# script's `launch.initialize()` does the rest, and does nothing when the script runs alone.

# %% tags=["nbval-ignore-output"]
started = time.perf_counter()
done = subprocess.run(
    [sys.executable, "-m", "course_lib.launch", "--processes", "2"]
    + ["--timeout", "240", str(script), "2"],
    env=dict(os.environ, JAX_PLATFORMS="cpu", XLA_FLAGS=flags()),
    capture_output=True,
    text=True,
    timeout=300,
)
assert done.returncode == 0, (done.stdout + done.stderr)[-2000:]
two_processes = report_of(done.stdout)
print(
    f"{two_processes['processes']} processes, {two_processes['devices']} devices "
    f"in all: {time.perf_counter() - started:.0f} s, start-up included"
)
print(
    f"  compiled and ran in {two_processes['compile 2']:.1f} s, "
    f"then 8 seeds in {two_processes['seconds 2']:.2f} s"
)
assert two_processes["processes"] == 2 and two_processes["devices"] == 2
assert two_processes["episodes 2"] == one_process["episodes 2"]
np.testing.assert_allclose(
    two_processes["returns 2"], one_process["returns 1"], rtol=1e-4, atol=1e-3
)

# %% [markdown]
# Process 0 printed all 8 seeds' results, 4 of them trained by the other process: the same episodes
# as on 2 devices in one process (asserted).
#
# ### The scaling table
#
# Seeds per second, from the timed second calls above (compilation excluded). Read it with the
# machine in mind: 2 devices on 2 cores can only help when both cores are free, and the
# chapter's tests run two notebooks side by side.

# %% tags=["nbval-ignore-output"]
rows = {
    "1 process, 1 device": 8 / one_process["seconds 1"],
    "1 process, 2 devices": 8 / one_process["seconds 2"],
    "2 processes, 1 device each": 8 / two_processes["seconds 2"],
}
print(f"{'':28}seeds per second   vs 1 device     (load {os.getloadavg()[0]:.1f})")
for name, rate in rows.items():
    print(f"{name:28}{rate:10.1f}{rate / rows['1 process, 1 device']:14.2f}x")
# No speed claim a busy machine could break; a bound that catches the slowness
# of communication on every step (20 times slower, before shard_map).
assert rows["2 processes, 1 device each"] > rows["1 process, 1 device"] / 3

# %% [markdown]
# Our machine was shared with other work while we wrote this (the load average is printed), and
# over three runs 2 devices gave 1.3, 1.4 and 2.0 times the seeds per second of one (2.3 in the run
# printed above): two devices on a CPU are two programs on the same cores, and they run side by side
# only when both cores are free. The 2 processes gave 1.1, 1.3 and 1.0 times (1.75 above): each process also has its own runtime and
# threads, and gathers the results over TCP at the end. What the table
# must never show again is the slowness we first met: the `jit`-partitioned program took 47 s over
# 2 processes for what 1 process did in 2 s, its all-reduce crossing between processes on every
# step. The last line of the cell guards against that.
#
# On GPUs and TPUs the same code scales much further: one device is a whole accelerator, the
# seeds of each are a large batch, and with `shard_map` nothing crosses between devices until the
# final gather. Seeds per second then grow with the number of devices until the per-device batch
# gets too small to keep each busy.
#
# ## Save and resume
#
# Laptops sleep and Colab sessions end. A training run's whole state is a pytree: for PPO the
# parameters, the optimiser's state and the environments' states (a DQN's state holds its replay
# buffer too), plus the run's key and the number of updates done. `course_lib.checkpoint.save`
# writes such a pytree to one file (msgpack, no pickle), atomically: to a temporary file, flushed,
# then renamed, so a save cut off halfway leaves the previous checkpoint whole. `restore` reads it
# back into the structure you give it, and refuses, naming the leaf, if anything differs.
#
# Resuming gives the same bits as never stopping only if each update's key depends on the run's
# key and the update's index, never on where the run was cut. `checkpoint.run_chunk(step_fn, state,
# key, start, num_steps, total_steps)` runs updates `start` to `start + num_steps - 1` with exactly
# the keys `ppo.make_train` would give them. So: train one seed for 32 updates without stopping;
# then train it 16 updates, save, throw the state away, restore it, and train the other 16.

# %% tags=["nbval-ignore-output"]
run_config = sweep_config  # lambda 0.95, 32 updates
parts = ppo.make_parts(run_config)
run_key = jax.random.key(3)
never_stopped = jax.jit(ppo.make_train(run_config))(run_key)

init_key, loop_key = jax.random.split(run_key)  # as make_train splits it
chunk = jax.jit(checkpoint.run_chunk, static_argnums=(0, 4, 5))
update = partial(ppo.update, parts)  # (state, key) -> (state, metrics)
HALF, TOTAL = 16, run_config.num_updates
state = jax.jit(ppo.init_state, static_argnums=0)(parts, init_key)
state, first_half = chunk(update, state, loop_key, 0, HALF, TOTAL)
path = checkpoint.save(
    folder / "ppo.ckpt", {"state": state, "key": loop_key, "updates": HALF}
)
print(f"saved after {HALF} updates: {path.stat().st_size:,} bytes")
del state  # the laptop sleeps

like = {  # the structure to restore into: shapes only, nothing computed
    "state": jax.eval_shape(partial(ppo.init_state, parts), init_key),
    "key": loop_key,
    "updates": 0,
}
saved = checkpoint.restore(path, like)
state, second_half = chunk(
    update, saved["state"], saved["key"], saved["updates"], TOTAL - HALF, TOTAL
)
same_params = all(
    np.array_equal(a, b)
    for a, b in zip(
        jax.tree.leaves(state.params), jax.tree.leaves(never_stopped.params)
    )
)
resumed_returns = np.concatenate(
    [np.asarray(m.episode_return_sum) for m in (first_half, second_half)]
)
same_returns = np.array_equal(
    resumed_returns, np.asarray(never_stopped.metrics.episode_return_sum)
)
print("parameters bit for bit equal to never stopping:", same_params)
print("every update's returns equal to never stopping:", same_returns)
assert same_params and same_returns

# %% [markdown]
# Bit for bit: every parameter of the resumed run equals the uninterrupted run's, and so does
# every update's return. A fresh process restores the file the same way (the course's tests do
# exactly that, in a subprocess). What a checkpoint does not hold is the code and the
# configuration: resume with the same `PPOConfig` and the same library versions, on the same kind
# of CPU, or the run continues correctly but not identically.
#
# ## Pitfalls
#
# * **Reading an order into overlapping intervals.** "Overlap" is *not shown*, not *equal*, and not
#   "the higher mean wins".
# * **Too few seeds, decided after the fact.** Choose the number of seeds from the difference you
#   want to detect, before training; adding seeds until a difference appears is a way to find noise.
# * **A sweep that compiles per point.** A Python loop of `make_train(config)` over a grid
#   compiles once per point; traced fields and `vmap` compile once.
# * **Setting `XLA_FLAGS` after importing JAX.** The device count is read once, when JAX starts.
# * **`jit` where `shard_map` is meant.** Independent seeds need no communication; let the compiler
#   partition them and it may add some on every step.
# * **Keys drawn per chunk.** A run resumed with keys split afresh per chunk is another run. Make
#   each step's key a function of the run's key and the step's index.
#
# ## Summary
#
# You swept GAE's $\lambda$ over 3 values × 32 seeds in one compiled program, and measured that it
# compiles once instead of once per point. You wrote the IQM and a percentile bootstrap, and read
# the sweep with them: with 32 seeds, $\lambda = 0.95$ learns faster than 1.0 on this budget, a
# difference that 2 seeds could not show. Profiles and the probability of improvement looked past
# one number. Then the same `train` ran on 2 devices and on 2 processes with `shard_map`, with no
# communication until the gather, and a run stopped halfway resumed bit for bit.
#
# ## Further reading
#
# * Agarwal, R., Schwarzer, M., Castro, P. S., Courville, A. & Bellemare, M. G. (2021). Deep
#   reinforcement learning at the edge of the statistical precipice. *NeurIPS*.
# * Efron, B. (1979). Bootstrap methods: another look at the jackknife. *The Annals of Statistics*
#   7(1).
# * Henderson, P. et al. (2018). Deep reinforcement learning that matters. *AAAI*.
# * Patterson, A., Neumann, S., White, M. & White, A. (2024). Empirical design in reinforcement
#   learning. *JMLR* 25.
# * The JAX documentation: "Distributed arrays and automatic parallelization", "Manual
#   parallelism with shard_map" and "Multi-process environments".
