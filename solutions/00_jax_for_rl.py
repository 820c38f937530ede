# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 00 · JAX for reinforcement learning
#
# By the end of this chapter you will have run **2,000 ten-armed bandit experiments of 1,000 steps
# each in about a second** on your laptop's CPU, and you will know the JAX tools that every later
# chapter is built from.
#
# ## Before you start
#
# **You will learn to**
#
# 1. handle randomness with explicit PRNG keys, and split them so that no two draws share a key;
# 2. write pure functions over immutable arrays and compile them with `jax.jit`;
# 3. keep an agent's state in a pytree and carry it through a loop with `jax.lax.scan`;
# 4. run thousands of agents at once with `jax.vmap`, and choose between `jnp.where` and `lax.cond`;
# 5. take gradients with `jax.grad`, here of a policy's log-probability.
#
# **You need** Python and NumPy. No reinforcement learning yet: this chapter introduces the words as
# it goes.
#
# **Time and compute.** The whole notebook runs top to bottom in about 30 seconds on 2 CPU cores,
# kernel start included (measured with `make bench`). No GPU needed.

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
import time
from typing import NamedTuple

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
from jax import lax

from course_lib import bandits, checking, plotting, tabular
from course_lib.exercises import ch00
from course_lib.timing import time_call

np.set_printoptions(precision=3, suppress=True)  # print float32 arrays readably

# %% [markdown]
# ## Why JAX for reinforcement learning?
#
# A reinforcement-learning (RL) experiment is a loop of millions of tiny steps: the **agent** looks at
# the **state** of its **environment**, picks an **action**, and receives a **reward** and the next
# state. In plain Python each step pays the interpreter's overhead, again and again, and the
# environment (often a separate library) runs on the CPU one step at a time.
#
# JAX takes a different route. You write the agent *and* the environment as pure functions on arrays;
# JAX compiles the whole loop into one program with XLA, and runs hundreds or thousands of copies of it
# side by side. That is how the later chapters train a CartPole agent in seconds.
#
# We will meet each tool on the smallest RL problem there is: the **multi-armed bandit**.
#
# ## The ten-armed bandit
#
# A bandit has one state and $k$ actions, called *arms* (think of $k$ slot machines). Pulling arm $a$
# pays a noisy reward whose mean $q_*(a)$ the agent does not know. In the ten-armed testbed of
# Sutton & Barto (2018, §2.3) the true values are drawn once per problem, $q_*(a) \sim
# \mathcal{N}(0, 1)$, and every pull pays $R \sim \mathcal{N}(q_*(a), 1)$. The agent's goal is to
# collect as much reward as it can, so it must find the best arm while it is still collecting.
#
# ## Randomness with explicit keys
#
# NumPy hides a global random state that every call silently advances. JAX has none: every random
# function takes a **key**, and the same key always gives the same numbers. That makes every result
# reproducible, and it makes random functions pure, which `jit` and `vmap` need.

# %%
key = jax.random.key(0)
arm_means = bandits.make_testbed(key, num_arms=10)  # q*(a), shape (10,)
print("true arm values q*(a):", np.asarray(arm_means))
print("the best arm is", int(jnp.argmax(arm_means)))

same_again = bandits.make_testbed(jax.random.key(0), num_arms=10)
assert jnp.array_equal(
    arm_means, same_again
), "the same key must give the same numbers"

# %% [markdown]
# The price of purity is that *you* must never use a key twice. To get fresh randomness, **split** a
# key into new ones and use each exactly once:

# %%
key = jax.random.key(42)
key, reward_key = jax.random.split(key)  # a new key to pass on, and one to use

reused = [float(bandits.pull(reward_key, arm_means, 3)) for _ in range(3)]
print(
    "the same key three times:", np.array(reused)
)  # three identical 'random' rewards

key, pulls_key = jax.random.split(key)
pull_keys = jax.random.split(pulls_key, 3)  # shape (3,) of keys
fresh = [float(bandits.pull(k, arm_means, 3)) for k in pull_keys]
print("three split keys:        ", np.array(fresh))

# %% [markdown]
# Reusing a key is the most common randomness bug in JAX code: an agent whose exploration reuses the
# key of its environment explores in lock-step with the noise it should be averaging out. The rule in
# this course: **split, use each key once, pass the rest on.** Above, `key, reward_key =
# jax.random.split(key)` does just that: `reward_key` gets used, and the new `key` is only ever split
# again. Every cell below that needs randomness starts the same way.
#
# Let us look at the testbed: ten arms, each a distribution of rewards around its true value. To draw
# 500 rewards from every arm at once we use `jax.vmap`, which the section on many agents below explains
# in full. `jax.vmap(f, in_axes=...)` turns a function of one input into a function of a batch, as if it
# looped over the batch's first axis; `in_axes` says, for each argument, whether it carries the batch
# (`0`) or is shared by the whole batch (`None`). Here each of the 5,000 pulls gets its own key.

# %%
key, violin_key = jax.random.split(key)
arms = jnp.tile(jnp.arange(10), 500)  # (5000,): arms 0 to 9, 500 times over
sample_keys = jax.random.split(
    violin_key, arms.shape[0]
)  # (5000,): one key per pull
samples = jax.vmap(bandits.pull, in_axes=(0, None, 0))(
    sample_keys, arm_means, arms
)
samples = samples.reshape(
    500, 10
)  # (500, 10): column a holds the rewards of arm a
fig, ax = plotting.new_axes(7, 3)
ax.violinplot(np.asarray(samples), positions=np.arange(10), showmeans=True)
ax.set(
    xlabel="arm a",
    ylabel="reward",
    title="The ten-armed testbed: rewards ~ N(q*(a), 1)",
)
ax.set_xticks(range(10))
plt.show()

# %% [markdown]
# ## Pure functions and immutable arrays
#
# An agent that keeps **action-value estimates** $Q(a)$ can learn them as sample averages: after the
# $n$-th pull of arm $a$ with reward $R$,
#
# $$
# N(a) \leftarrow N(a) + 1, \qquad Q(a) \leftarrow Q(a) + \frac{1}{N(a)} \big(R - Q(a)\big).
# $$
#
# JAX arrays are immutable: `estimates[a] += 1` is an error. Instead, `estimates.at[a].add(x)` returns
# a *new* array with one entry changed (inside `jit`, XLA turns this into an in-place update when it
# can, so it costs nothing extra). A function that returns new arrays instead of changing its inputs is
# **pure**: same inputs, same outputs, no side effects. `jit`, `vmap` and `grad` all need pure functions.
#
# ### Exercise 0.1: the sample-average update
#
# Write `sample_average_update(estimates, counts, action, reward)`. It takes `estimates: (k,)` float,
# `counts: (k,)` int, an arm `action` and a float `reward`, and returns the new `(estimates, counts)`
# after the update above. Use `.at[...]`; do not modify the inputs. The agent below runs it inside
# `jax.jit` and `jax.vmap`, and so does the check.


# %%
def sample_average_update(estimates, counts, action, reward):
    """Incremental sample average of one arm. Returns (new_estimates, new_counts)."""
    ### BEGIN SOLUTION: count this pull, then move the pulled arm's estimate towards the reward with step size 1 / N(a); the .at[...] update syntax helps
    new_counts = counts.at[action].add(1)
    new_estimates = estimates.at[action].add(
        (reward - estimates[action]) / new_counts[action]
    )
    return new_estimates, new_counts
    ### END SOLUTION


# %%
# Check your answer. Until it passes, the rest of the chapter uses course_lib's
# reference.
sample_average_update = ch00.check_sample_average_update(sample_average_update)

# %% [markdown]
# ## Choosing an action: `jnp.where` and `lax.cond`
#
# A greedy agent always pulls the arm with the highest estimate. It never tries the others, so it can
# lock onto a mediocre arm forever. An **ε-greedy** agent explores: with probability ε it pulls a
# random arm, otherwise the greedy one. We break ties between equal estimates at random, so that an
# agent whose estimates all start at zero does not always favour arm 0.
#
# A Python `if` cannot decide between the two, because inside `jit` the coin flip is not a number yet
# but an abstract *tracer*. JAX traces the function once, with abstract values that know only their
# shape and dtype, and compiles one program that must work for every value. (It traces and compiles
# again only for a new shape or dtype, or a new value of a *static* argument, which you meet below.)
# There are two branch-free ways to choose:
#
# * `jnp.where(condition, x, y)` computes both `x` and `y` and picks elementwise. Cheap branches, any shape.
# * `lax.cond(condition, f, g)` calls only one of `f()` or `g()`. Worth it when a branch is expensive.
#   (Under `vmap` it becomes a `where` again: a batch may need both.)


# %%
def greedy_action(key, estimates):
    """The arm with the highest estimate, ties broken at random. estimates: (k,)."""
    is_best = estimates == estimates.max()
    return jax.random.categorical(key, jnp.where(is_best, 0.0, -jnp.inf))


def epsilon_greedy_action(key, estimates, epsilon):
    """A random arm with probability epsilon, else a greedy one. Returns an int."""
    coin_key, random_key, greedy_key = jax.random.split(key, 3)
    explore = jax.random.uniform(coin_key) < epsilon
    random_arm = jax.random.randint(random_key, (), 0, estimates.shape[0])
    return jnp.where(explore, random_arm, greedy_action(greedy_key, estimates))


def epsilon_greedy_action_cond(key, estimates, epsilon):
    """The same choice with lax.cond: only the chosen branch runs."""
    coin_key, random_key, greedy_key = jax.random.split(key, 3)
    explore = jax.random.uniform(coin_key) < epsilon
    return lax.cond(
        explore,
        lambda: jax.random.randint(random_key, (), 0, estimates.shape[0]),
        lambda: greedy_action(greedy_key, estimates),
    )


def epsilon_greedy_with_if(key, estimates, epsilon):
    coin_key, random_key, greedy_key = jax.random.split(key, 3)
    if jax.random.uniform(coin_key) < epsilon:  # a Python if on a traced value
        return jax.random.randint(random_key, (), 0, estimates.shape[0])
    return greedy_action(greedy_key, estimates)


estimates = jnp.array([0.2, 1.5, -0.3, 1.5])
key, choice_key, if_key = jax.random.split(key, 3)
choice_keys = jax.random.split(
    choice_key, 10_000
)  # the same keys for both versions
for name, choose in [
    ("jnp.where", epsilon_greedy_action),
    ("lax.cond", epsilon_greedy_action_cond),
]:
    actions = jax.jit(jax.vmap(choose, in_axes=(0, None, None)))(
        choice_keys, estimates, 0.1
    )
    print(
        f"{name:9s} action frequencies: {np.bincount(actions, minlength=4) / 10_000}"
    )

try:
    jax.jit(epsilon_greedy_with_if)(if_key, estimates, 0.1)
except jax.errors.TracerBoolConversionError as error:
    print("Python if under jit fails:", type(error).__name__)

# %% [markdown]
# `greedy_action` breaks ties with one draw. `jax.random.categorical(key, logits)` picks arm $a$ with
# probability proportional to $e^{\text{logit}_a}$. Every best arm gets the logit 0 ($e^0 = 1$) and every
# other arm $-\infty$ ($e^{-\infty} = 0$), so the draw is uniform among the best arms and never picks
# another.
#
# Both versions pull arms 1 and 3 (the tied best) about 47.5 % of the time each, and arms 0 and 2
# 2.5 % each: exploration picks any of the four arms with probability ε/4. The two rows are identical,
# not just close, because both functions got the same keys, on purpose, and split them in the same way.
# Handing two functions the same keys is how you compare them: it is the one kind of key reuse that is
# fine.
#
# You will need these two functions again from chapter 01 on, so `course_lib` keeps a tested copy:
# `course_lib.tabular.greedy` and `course_lib.tabular.epsilon_greedy`. The copy of ε-greedy makes other
# choices from the same keys, on purpose. ε-greedy is one distribution over the arms: every arm has
# probability ε/k, and each of the tied best arms $(1 - ε)/\text{(number of best arms)}$ on top.
# `tabular.epsilon_greedy` computes those probabilities and makes a single `jax.random.categorical` draw,
# where ours splits its key and makes three draws (the coin, the random arm, the tie-break): six calls
# of JAX's random-number generator, since `randint` makes three of its own. On a CPU every call compiles
# to a loop of its own, so an agent that acts at every step of a compiled training loop compiles faster
# with one call than with six: about half a second of chapter 05's compile.
#
# Two functions that draw differently cannot be compared key by key. Compare what defines them, the
# distribution: how often each arm comes up over 10,000 draws, against the probabilities above. A
# frequency $\hat p$ from $n$ independent draws has standard error $\sqrt{p(1-p)/n}$, about 0.0016 for
# the rare arms and 0.005 for the best ones; four standard errors leave a correct function a chance
# below 1 in 10,000 per arm of failing by bad luck.

# %%
key, compare_key = jax.random.split(key)
action_keys = jax.random.split(compare_key, 10_000)
expected = np.array([0.025, 0.475, 0.025, 0.475])  # ε/4 each, plus (1 - ε)/2 for arms 1 and 3
tolerance = 4 * np.sqrt(expected * (1 - expected) / 10_000)
for name, choose in [
    ("ours", epsilon_greedy_action),
    ("course_lib", tabular.epsilon_greedy),
]:
    actions = jax.vmap(choose, in_axes=(0, None, None))(action_keys, estimates, 0.1)
    frequencies = np.bincount(actions, minlength=4) / 10_000
    print(f"{name:10s} action frequencies: {frequencies}")
    assert np.all(np.abs(frequencies - expected) <= tolerance), name

# %% [markdown]
# ## An agent's state as a pytree
#
# The agent carries two arrays from step to step. Rather than a loose tuple, we give them names in a
# `NamedTuple`. JAX treats a `NamedTuple` (like tuples, lists, dicts and dataclasses registered with
# it) as a **pytree**: a container whose leaves are arrays. `jit`, `vmap`, `grad` and `scan` accept and
# return pytrees, and `jax.tree.map` applies a function to every leaf.


# %%
class AgentState(NamedTuple):
    estimates: jax.Array  # (k,) float: Q(a)
    counts: jax.Array  # (k,) int: N(a)


def initial_state(num_arms: int) -> AgentState:
    return AgentState(
        estimates=jnp.zeros(num_arms),
        counts=jnp.zeros(num_arms, dtype=jnp.int32),
    )


state = initial_state(10)
print(jax.tree.map(jnp.shape, state))
print("number of leaves:", len(jax.tree.leaves(state)))

# %% [markdown]
# One step of the agent: choose, pull, learn. The function returns the new state and what we want to
# record about the step (the reward, and whether the best arm was pulled).


# %%
def bandit_step(state: AgentState, key, arm_means, epsilon):
    """Act epsilon-greedily, pull, learn. Returns (new_state, (reward, pulled_best))."""
    action_key, reward_key = jax.random.split(key)
    action = epsilon_greedy_action(action_key, state.estimates, epsilon)
    reward = bandits.pull(reward_key, arm_means, action)
    estimates, counts = sample_average_update(
        state.estimates, state.counts, action, reward
    )
    return AgentState(estimates, counts), (
        reward,
        action == jnp.argmax(arm_means),
    )


# %% [markdown]
# ## The loop: from Python to `jit` to `lax.scan`
#
# The obvious version is a Python loop. It works, but every one of its small array operations is sent
# to the CPU on its own.


# %%
def run_python_loop(key, arm_means, epsilon, num_steps, step_fn):
    state = initial_state(arm_means.shape[0])
    rewards = []
    for step_key in jax.random.split(key, num_steps):
        state, (reward, _) = step_fn(state, step_key, arm_means, epsilon)
        rewards.append(reward)
    return jnp.stack(rewards)


# %% [markdown]
# `jax.jit` compiles a function the first time it is called with new shapes, and reuses the compiled
# program afterwards. Jitting `bandit_step` fuses its operations into one program, but the loop is still
# Python. `lax.scan` moves the loop itself into the compiled program: it calls a function
# `f(carry, x) -> (carry, y)` once for every `x`, threads the `carry` (here the agent's state) through,
# and stacks the `y`s:
#
# ```python
# def scan(f, carry, xs):          # what lax.scan computes, as a Python loop
#     ys = []
#     for x in xs:
#         carry, y = f(carry, x)
#         ys.append(y)
#     return carry, stack(ys)
# ```
#
# `num_steps` sets how many steps the scan runs, so the compiled program depends on its value: it must
# be a plain Python number while JAX traces, not a tracer. `static_argnames="num_steps"` marks it
# **static**: `jit` uses its value as a constant, and compiles again for each new value.


# %%
def run_bandit(key, arm_means, epsilon, num_steps: int):
    """One agent on one testbed. Returns rewards and pulled_best, each (num_steps,)."""
    step_keys = jax.random.split(key, num_steps)
    step = lambda state, step_key: bandit_step(
        state, step_key, arm_means, epsilon
    )
    _, (rewards, pulled_best) = lax.scan(
        step, initial_state(arm_means.shape[0]), step_keys
    )
    return rewards, pulled_best


run_bandit_jit = jax.jit(run_bandit, static_argnames="num_steps")

# All three give the same numbers from the same key: only the speed differs.
key, run_key = jax.random.split(key)
python_rewards = run_python_loop(run_key, arm_means, 0.1, 50, bandit_step)
jit_step_rewards = run_python_loop(
    run_key, arm_means, 0.1, 50, jax.jit(bandit_step)
)
scan_rewards, _ = run_bandit_jit(run_key, arm_means, 0.1, num_steps=50)
assert np.allclose(python_rewards, scan_rewards, atol=1e-5) and np.allclose(
    jit_step_rewards, scan_rewards, atol=1e-5
)
print("Python loop, jitted step and lax.scan agree on all 50 rewards.")
print(
    checking.whose_code(
        sample_average_update=(
            sample_average_update,
            bandits.sample_average_update,
        )
    )
)

# %% [markdown]
# ## Many agents at once with `vmap`
#
# `jax.vmap`, which you used above to draw rewards and choose actions for many keys at once, turns a
# function of one example into a function of a batch, without a loop: it adds a batch axis to every
# array the function touches. `in_axes` says which arguments carry that axis. Here every run gets its
# own key *and* its own testbed, so one call runs 2,000 independent experiments. (`static_argnums=2`
# marks the third argument, `num_steps`, static, as `static_argnames` did above.)


# %%
def run_testbed(key, epsilon, num_steps: int):
    """A fresh testbed, one agent. Returns rewards and pulled_best, (num_steps,) each."""
    testbed_key, run_key = jax.random.split(key)
    return run_bandit(
        run_key, bandits.make_testbed(testbed_key, 10), epsilon, num_steps
    )


run_many = jax.jit(
    jax.vmap(run_testbed, in_axes=(0, None, None)), static_argnums=2
)
NUM_RUNS, NUM_STEPS = 2_000, 1_000
run_keys = jax.random.split(
    jax.random.key(1), NUM_RUNS
)  # (2000,) keys: one per experiment

# %% [markdown]
# Before you run the next cell, predict: how much faster per step is the compiled scan than the Python
# loop? And 2,000 agents at once, compared with one?

# %% tags=["nbval-ignore-output"]
eager_steps, jit_steps = 100, 1_000
key, timing_key = jax.random.split(key)
eager = time_call(
    run_python_loop,
    timing_key,
    arm_means,
    0.1,
    eager_steps,
    bandit_step,
    repeats=1,
)
jitted_step = time_call(
    run_python_loop,
    timing_key,
    arm_means,
    0.1,
    jit_steps,
    jax.jit(bandit_step),
    repeats=1,
)
scanned = time_call(
    run_bandit_jit, timing_key, arm_means, 0.1, num_steps=NUM_STEPS, repeats=5
)
batched = time_call(run_many, run_keys, 0.1, NUM_STEPS, repeats=3)

rows = [
    ("Python loop, one op at a time", eager_steps, eager.median),
    ("Python loop over a jitted step", jit_steps, jitted_step.median),
    ("jit(scan), one agent", NUM_STEPS, scanned.median),
    ("jit(vmap(scan)), 2,000 agents", NUM_RUNS * NUM_STEPS, batched.median),
]
print(f"{'version':34s} {'steps':>10s} {'seconds':>9s} {'steps/s':>13s}")
for name, steps, seconds in rows:
    print(f"{name:34s} {steps:>10,d} {seconds:>9.4f} {steps / seconds:>13,.0f}")
print(
    f"\nCompiling jit(vmap(scan)) took {batched.first - batched.median:.2f} s, once."
)
vmap_gain = (NUM_RUNS * NUM_STEPS / batched.median) / (
    NUM_STEPS / scanned.median
)
print(
    f"vmap over 2,000 agents: {vmap_gain:.0f} times the steps per second of one scan"
)

# %% [markdown]
# On our 2-core test machine the Python loop managed a few hundred steps per second, the jitted step
# a few thousand, the scan around a hundred thousand, and 2,000 agents under `vmap` over two million:
# the whole experiment below, two million agent steps, takes about a second. The jitted step pays for
# every call from Python: about 250 microseconds here, most of it JAX's dispatch. A compiled program
# that can call back into Python (course_lib's input checks do, to raise their error on bad input)
# takes JAX's slower dispatch path, about 50 microseconds a call on our machine against 5 for one
# that cannot. Inside a scan there are no calls to pay for. Your numbers will differ;
# the ratios are what matter. Notice that `vmap` multiplies the steps per second of one scan by well
# over ten (the last line above prints the factor for the machine that ran the cell), with only 2
# cores: the gain comes from doing each operation on 2,000 numbers at once, not from more cores.
#
# ## Experiment: how much should an agent explore?
#
# Now the classic comparison (Sutton & Barto 2018, Figure 2.2): greedy (ε = 0) against ε = 0.01 and
# ε = 0.1, each averaged over 2,000 testbeds. Predict first: which one earns the most reward after
# 1,000 steps, and which one is ahead after 100?

# %%
EPSILONS = [0.0, 0.01, 0.1]
results = {
    eps: run_many(run_keys, eps, NUM_STEPS) for eps in EPSILONS
}  # each: rewards, pulled_best (2000, 1000)

fig, (ax_reward, ax_best) = plt.subplots(1, 2, figsize=(11, 3.5))
for eps, (rewards, pulled_best) in results.items():
    plotting.learning_curve(ax_reward, np.asarray(rewards), label=f"ε = {eps}")
    plotting.learning_curve(
        ax_best, 100 * np.asarray(pulled_best, dtype=float), label=f"ε = {eps}"
    )
ax_reward.set(
    xlabel="step",
    ylabel="average reward",
    title="Reward (mean of 2,000 runs, 95% CI)",
)
ax_best.set(
    xlabel="step",
    ylabel="% best arm pulled",
    title="How often the best arm is pulled",
)
ax_reward.legend()
plt.show()

final = {
    eps: float(rewards[:, -100:].mean())
    for eps, (rewards, _) in results.items()
}
best_share = {
    eps: float(pulled_best[:, -100:].mean())
    for eps, (_, pulled_best) in results.items()
}
for eps in EPSILONS:
    print(
        f"ε = {eps:<5}: mean reward over the last 100 steps {final[eps]:.3f}, "
        f"best arm {best_share[eps]:.1%}"
    )

assert (
    final[0.1] > final[0.0] + 0.1
), "exploring with ε = 0.1 should clearly beat the greedy agent"
assert (
    best_share[0.1] > 0.75
), "with ε = 0.1 the agent should find the best arm in most runs"

# %% [markdown]
# The greedy agent climbs fastest at first and then stalls: in most runs it locks onto an arm that is
# not the best, and pulls the best arm only about 37 % of the time, because it never looks again. ε = 0.1 finds the best arm soonest but
# keeps wasting 10 % of its pulls on random arms; ε = 0.01 learns more slowly but, given enough steps,
# would overtake it. This trade-off between **exploration** and **exploitation** runs through the
# whole course.
#
# ## Looking back from the end: discounted returns
#
# A bandit rewards each action at once. In the problems ahead, an action also changes what happens
# next, so we judge it by the **return**: the sum of the rewards that follow it, with rewards $k$ steps
# away weighted by $\gamma^k$. The **discount** $\gamma \in [0, 1]$ sets how far ahead the agent looks.
# For an episode with rewards $r_0, \dots, r_{T-1}$:
#
# $$
# G_t = r_t + \gamma r_{t+1} + \gamma^2 r_{t+2} + \dots = r_t + \gamma \, G_{t+1}, \qquad G_T = 0.
# $$
#
# The second form says how to compute every $G_t$ in one sweep: start at the end and walk backwards.
# `lax.scan(f, init, xs, reverse=True)` does exactly that: it visits `xs` from last to first and stacks
# the outputs back in the original order.
#
# ### Exercise 0.2: discounted returns with a reverse scan
#
# Write `discounted_returns(rewards, gamma)`. `rewards` has shape `(T, ...)`, time first (any further
# axes, such as a batch of episodes, ride along). Return every $G_t$, same shape as `rewards`, using
# `lax.scan(..., reverse=True)` with the carry being $G_{t+1}$. It must work under `jax.jit`.


# %%
def discounted_returns(rewards, gamma):
    """G_t = r_t + gamma * G_{t+1} for every t. rewards: (T, ...). Returns (T, ...)."""

    ### BEGIN SOLUTION: every G_t in one backward sweep with lax.scan(..., reverse=True); the carry is the return from the next step, zero at first, shaped like one step's rewards
    def backwards(future_return, reward):
        current_return = reward + gamma * future_return
        return current_return, current_return

    _, returns = lax.scan(
        backwards, jnp.zeros_like(rewards[0]), rewards, reverse=True
    )
    return returns
    ### END SOLUTION


# %%
# Check your answer. Until it passes, the rest of the chapter uses course_lib's
# reference.
discounted_returns = ch00.check_discounted_returns(discounted_returns)

# %%
rewards = jnp.array([0.0, 0.0, 0.0, 1.0])  # a reward only at the very end
for gamma in [1.0, 0.9, 0.5]:
    print(
        f"gamma = {gamma}: G = {np.asarray(discounted_returns(rewards, gamma))}"
    )
assert jnp.allclose(
    discounted_returns(rewards, 0.9), jnp.array([0.729, 0.81, 0.9, 1.0])
)

# %% [markdown]
# With γ = 0.9 the final reward is worth 0.729 three steps earlier; with γ = 0.5, only 0.125. A small γ
# makes an agent short-sighted.
#
# ## Gradients with `jax.grad`: learning a policy directly
#
# Instead of estimating values, an agent can learn a **policy** $\pi(a)$, the probability of each
# action, directly. The gradient bandit algorithm (Sutton & Barto 2018, §2.8) keeps a preference $H(a)$
# per arm, acts with $\pi = \mathrm{softmax}(H)$, and after each reward $R$ nudges the preferences along
# the gradient of the log-probability of the action it took:
#
# $$
# H \leftarrow H + \alpha \, (R - \bar R) \, \nabla_H \log \pi(A),
# $$
#
# where $\bar R$ is the average reward so far (a **baseline**: rewards above average make the action
# more likely, rewards below make it less). This is the policy-gradient idea that chapter 06 scales up
# to PPO. `jax.grad(f)` returns a function that computes the gradient of a scalar function `f` with
# respect to its first argument. Let us check it against the closed form
# $\nabla_H \log \pi(A) = \mathbb{1}_A - \pi$.


# %%
def log_policy(preferences, action):
    """log pi(action) for a softmax policy. preferences: (k,)."""
    return jax.nn.log_softmax(preferences)[action]


grad_log_policy = jax.grad(
    log_policy
)  # same arguments, returns d log_policy / d preferences: (k,)

preferences = jnp.array([0.5, -1.0, 2.0, 0.0])
by_jax = grad_log_policy(preferences, 2)
by_hand = jax.nn.one_hot(2, 4) - jax.nn.softmax(preferences)
print("jax.grad:  ", np.asarray(by_jax))
print("by hand:   ", np.asarray(by_hand))
assert jnp.allclose(by_jax, by_hand, atol=1e-6)


# %% [markdown]
# The agent's state is again a pytree, and the run is again a scan inside a `vmap`:


# %%
class GradientBanditState(NamedTuple):
    preferences: jax.Array  # (k,) float: H(a)
    mean_reward: jax.Array  # () float: the baseline R-bar
    steps: jax.Array  # () int: rewards seen so far


def gradient_bandit_step(state: GradientBanditState, key, arm_means, step_size):
    action_key, reward_key = jax.random.split(key)
    action = jax.random.categorical(
        action_key, state.preferences
    )  # sample from softmax(H)
    reward = bandits.pull(reward_key, arm_means, action)
    preferences = state.preferences + step_size * (
        reward - state.mean_reward
    ) * grad_log_policy(state.preferences, action)
    steps = state.steps + 1
    mean_reward = state.mean_reward + (reward - state.mean_reward) / steps
    return GradientBanditState(preferences, mean_reward, steps), (
        reward,
        action == jnp.argmax(arm_means),
    )


def run_gradient_testbed(key, step_size, num_steps: int):
    testbed_key, run_key = jax.random.split(key)
    arm_means = bandits.make_testbed(testbed_key, 10)
    start = GradientBanditState(
        jnp.zeros(10), jnp.zeros(()), jnp.zeros((), jnp.int32)
    )
    step = lambda state, step_key: gradient_bandit_step(
        state, step_key, arm_means, step_size
    )
    _, (rewards, pulled_best) = lax.scan(
        step, start, jax.random.split(run_key, num_steps)
    )
    return rewards, pulled_best


run_gradient_many = jax.jit(
    jax.vmap(run_gradient_testbed, in_axes=(0, None, None)), static_argnums=2
)
gradient_rewards, gradient_best = run_gradient_many(run_keys, 0.1, NUM_STEPS)

fig, ax = plotting.new_axes()
plotting.learning_curve(
    ax,
    100 * np.asarray(results[0.1][1], dtype=float),
    label="ε-greedy, ε = 0.1",
)
plotting.learning_curve(
    ax, 100 * np.asarray(results[0.0][1], dtype=float), label="greedy"
)
plotting.learning_curve(
    ax,
    100 * np.asarray(gradient_best, dtype=float),
    label="gradient bandit, α = 0.1",
)
ax.set(
    xlabel="step",
    ylabel="% best arm pulled",
    title="Values or preferences: 2,000 runs each",
)
ax.legend()
plt.show()

gradient_share = float(gradient_best[:, -100:].mean())
print(
    f"gradient bandit: best arm pulled in {gradient_share:.1%} of the last 100 steps"
)
assert (
    gradient_share > best_share[0.0]
), "the gradient bandit should beat the greedy agent"

# %% [markdown]
# ## Pitfalls
#
# * **Reusing a key.** Two draws from one key are identical, not independent. Split, and use each key
#   once. `jax.random.split(key, n)` gives `n` keys at once, ready for `vmap` or `scan`.
# * **A Python `if` on an array inside `jit`.** It raises `TracerBoolConversionError`. Use `jnp.where`
#   or `lax.cond`. (An `if` on a *static* value, such as a shape or a config flag, is fine.)
# * **Side effects inside `jit`.** A `print` in a jitted function runs once, while tracing, and then
#   never again; appending to a Python list from inside records tracers, not numbers. Return what you
#   want to keep (as `scan` returns `ys`), or use `jax.debug.print`.
# * **Recompiling without noticing.** `jit` compiles again for every new shape, dtype or static
#   argument. Keep shapes fixed (later chapters pre-allocate replay buffers for this reason) and
#   mark sizes such as `num_steps` as static.
# * **Timing without waiting.** JAX returns before the computation finishes. Call `block_until_ready()`
#   before you stop the clock, and time the second call, not the first, which includes compiling.
#   `course_lib.timing.time_call` does both.
#
# ## Summary
#
# You ran two million bandit steps in about a second with five tools: keys you split and use
# once, `jit` to compile pure functions, pytrees to carry state, `lax.scan` to move the loop into the
# compiled program, and `vmap` to run thousands of agents at once; and you used `grad` to learn a policy.
# You also met the words that the next chapters use: state, action, reward, return, discount,
# exploration.
#
# **Next:** chapter 01 adds states that change, and learns a table of values for them with Q-learning.
#
# ## Further reading
#
# * Sutton, R. S. & Barto, A. G. (2018). *Reinforcement Learning: An Introduction*, 2nd ed., MIT Press.
#   Chapter 2 (the testbed, ε-greedy, the gradient bandit).
# * Bradbury, J. et al. (2018). *JAX: composable transformations of Python+NumPy programs.*
#   The JAX documentation's "Thinking in JAX" and "Pseudorandom numbers" pages.
