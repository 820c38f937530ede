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
# # 03 · Replay buffers
#
# By the end of this chapter you will have written a **replay buffer in pure JAX**, seen why DQN
# needs one, and compared uniform and prioritized replay on CartPole, 8 seeds of each trained at once.
#
# ## Before you start
#
# **You will learn to**
#
# 1. explain what learning from consecutive transitions does to a network, and measure the correlation;
# 2. keep a buffer as pre-allocated arrays with a circular write position, because XLA wants fixed
#    shapes;
# 3. sample uniformly from the filled part only;
# 4. prioritize by TD error, and correct the bias with importance-sampling weights;
# 5. run an honest comparison across seeds, and report it whichever way it goes.
#
# **You need** chapter 02 (the DQN loss, target networks, and the online agent that struggled).
#
# **Time and compute.** The notebook runs top to bottom in about 40 seconds on 2 CPU cores, kernel
# start included (measured with `make bench`); most of it is the three training experiments. No GPU
# needed.

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

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np

from course_lib import checking, plotting, rollouts, stats
from course_lib.agents import dqn
from course_lib.buffers import prioritized, uniform
from course_lib.envs import CartPole
from course_lib.exercises import ch03

np.set_printoptions(precision=3, suppress=True)

# %% [markdown]
# ## Why replay
#
# Chapter 02's online agent learned from each transition once, in the order they happened. Two things
# are wrong with that order. Consecutive states are nearly the same, so a stretch of updates fits the
# network to one small region of the state space and overwrites what it knew elsewhere; and each
# transition, paid for with a step of the environment, teaches the network only once.
#
# How similar are consecutive states? Here are 5,000 steps of CartPole under a random policy:

# %%
observations = np.asarray(  # (5,000, 4), in the order they happened
    jax.jit(rollouts.random_observations, static_argnums=(0, 2))(
        CartPole(), jax.random.key(0), 5_000
    )
)
shuffled = observations[np.random.default_rng(0).permutation(len(observations))]


def lag_one_correlation(series):
    """Correlation between each value and the next, per column."""
    return np.array(
        [np.corrcoef(column[:-1], column[1:])[0, 1] for column in series.T]
    )


names = ["x", "x_dot", "theta", "theta_dot"]
in_order, at_random = lag_one_correlation(observations), lag_one_correlation(
    shuffled
)
for name, a, b in zip(names, in_order, at_random):
    print(
        f"{name:10} next-step correlation: in order {a:5.2f}, shuffled {b:5.2f}"
    )

fig, ax = plotting.new_axes(9, 2.8)
ax.plot(np.degrees(observations[:200, 2]), label="200 consecutive steps")
ax.plot(
    np.degrees(shuffled[:200, 2]),
    ".",
    markersize=3,
    label="200 random draws from the same steps",
)
ax.set(
    xlabel="position in the batch",
    ylabel="θ (degrees)",
    title="What the network is fed",
)
ax.legend(fontsize="small")
plt.show()
assert in_order.min() > 0.8 and np.abs(at_random).max() < 0.1

# %% [markdown]
# In order, each state strongly predicts the next (a correlation near 0.9, although random play ends an
# episode every 20 steps or so, and a new episode breaks the chain): a batch of consecutive transitions
# is in effect a few transitions repeated. Drawn at random from a store of past experience, a batch covers
# many situations at once, as supervised learning assumes. That store is the **replay buffer**
# (Lin 1992; Mnih et al. 2015): add every transition, and learn from random batches of old and new
# ones, so each transition is used many times.
#
# ## A replay buffer in pure JAX
#
# In Python you would append to a list. Under `jit`, XLA compiles for fixed shapes, and a growing list
# would mean a new program at every size. So the buffer is **pre-allocated**: one array per field of the
# transition, each with a leading axis of `capacity` slots, and two counters:
#
# * `position`: the slot the next transition goes to; it wraps around to 0 at the end, so once the
#   buffer is full each new transition overwrites the oldest (a **circular** buffer);
# * `size`: how many slots hold a transition (at most `capacity`); sampling must stay below it, because
#   the slots above are still zeros.
#
# `course_lib.buffers.uniform` keeps that state as a NamedTuple, a pytree, so it can live in a `scan`
# carry and be `vmap`-ed over seeds:

# %%
example = dqn.Transition(
    obs=jnp.zeros(4),
    action=jnp.int32(0),
    reward=jnp.float32(0.0),
    next_obs=jnp.zeros(4),
    terminated=jnp.array(False),
)
state = uniform.init(capacity=10_000, example_transition=example)
print(jax.tree.map(jnp.shape, state))

# %% [markdown]
# ### Exercise 3.1: add a transition
#
# Write `buffer_add(state, transition)`: write every field of `transition` into slot `state.position`,
# advance the position with wrap-around, and grow the size up to the capacity. Return a new
# `uniform.UniformBufferState(data, position, size)`, and leave the `state` you were given unchanged.
# The capacity is the length of the leading axis of the data arrays. A transition can be any pytree of
# arrays (the DQN run below uses `dqn.Transition`; the check also tries dicts, with leaves of other
# shapes), so don't rely on field names. The DQN run compiles your function and trains several seeds
# at once, so the check runs it under `jax.jit` and `jax.vmap` too.


# %%
def buffer_add(state, transition):
    ### BEGIN SOLUTION: write the transition into slot state.position of every data array (jax.tree.map and the .at[...].set update syntax), then move the position on with wrap-around and grow the size up to the capacity (jnp.minimum).
    capacity = jax.tree.leaves(state.data)[0].shape[0]
    data = jax.tree.map(
        lambda buffer, value: buffer.at[state.position].set(value),
        state.data,
        transition,
    )
    return uniform.UniformBufferState(
        data=data,
        position=(state.position + 1) % capacity,
        size=jnp.minimum(state.size + 1, capacity),
    )
    ### END SOLUTION


# %%
buffer_add = ch03.check_buffer_add(buffer_add)

# %% [markdown]
# ### Exercise 3.2: sample a batch
#
# Write `buffer_sample(state, key, batch_size)`: draw `batch_size` slot indices uniformly, with
# replacement, from the filled slots only, and return the transitions at those slots (every field
# gains a leading `(batch_size,)` axis). The draws within a batch must be independent. Random draws
# differ from key to key, so the check judges a distribution: over 20,000 keys, it counts how often
# each pair of slots comes up first and last in a batch, and compares with the reference.


# %%
def buffer_sample(state, key, batch_size):
    ### BEGIN SOLUTION: draw batch_size indices at once from the filled slots (jax.random.randint with a shape), then gather every field of state.data at those same indices (jax.tree.map).
    indices = jax.random.randint(key, (batch_size,), 0, state.size)
    return jax.tree.map(lambda leaf: leaf[indices], state.data)
    ### END SOLUTION


# %%
buffer_sample = ch03.check_buffer_sample(buffer_sample)

# %% [markdown]
# Under `jit`, `.at[position].set` on a buffer carried through a `scan` becomes an in-place write, so
# adding costs the size of one transition, not of the buffer. (One trap: under `vmap` a `lax.cond`
# turns into a select of *both* branches' outputs; if a branch returns the whole buffer, every step
# copies it. `course_lib.agents.dqn.train_step` keeps the buffer out of its `cond` for that reason.)
#
# ## Experiment: the chapter-02 agent, with and without replay
#
# `course_lib.agents.dqn.make_train` is the whole DQN training run as one pure function (chapter 05
# takes it apart). We configure it like chapter 02's agent (a 64-64 network, γ = 0.99, a target copied
# every 250 steps, ε from 1 to 0.05 over 10,000 steps, Adam at 1e-3 with gradients clipped to norm 10)
# and change only the replay, on a smaller budget than chapter 02's: 15,000 steps instead of 25,000,
# with a greedy evaluation every 1,000 steps instead of every 1,250. So compare the agents here with
# each other, not with chapter 02's plot, whose online agent had 10,000 more steps to learn. The two
# agents:
#
# * **online**: a buffer of one transition and batches of one: learn from the latest step only;
# * **uniform replay**: a buffer of 10,000, batches of 32 drawn uniformly, learning from step 1,000.
#
# Eight seeds of each, trained at once with `jax.vmap`, 15,000 steps, a greedy evaluation
# (4 episodes) every 1,000 steps. Both agents store and sample with *your* buffer:
# `dqn.make_train(config, buffer_add=buffer_add, buffer_sample=buffer_sample)` puts your two
# functions where the uniform buffer's would be (the first line the cell prints says whose code ran).
#
# **Predict before you run:** how much better will replay do? Will it be stable?

# %%
print(
    checking.whose_code(
        buffer_add=(buffer_add, uniform.add),
        buffer_sample=(buffer_sample, uniform.sample),
    )
)
NUM_SEEDS = 8
seed_keys = jax.random.split(jax.random.key(2026), NUM_SEEDS)
common = dict(
    num_steps=15_000,
    hidden_sizes=(64, 64),
    gamma=0.99,
    target_update_period=250,
    learning_rate=1e-3,
    epsilon_decay_steps=10_000,
    eval_every=1_000,
    eval_episodes=4,
)
configs = {
    "online": dqn.DQNConfig(
        **common, buffer_size=1, batch_size=1, learning_starts=1
    ),
    "uniform replay": dqn.DQNConfig(
        **common, buffer_size=10_000, batch_size=32, learning_starts=1_000
    ),
}


def train_seeds(config):
    # Uniform replay runs on your buffer_add and buffer_sample (or the
    # reference, if a check failed).
    own = (
        {}
        if config.prioritized
        else dict(buffer_add=buffer_add, buffer_sample=buffer_sample)
    )
    start = time.perf_counter()
    results = jax.block_until_ready(
        jax.jit(jax.vmap(dqn.make_train(config, **own)))(seed_keys)
    )
    print(
        f"{NUM_SEEDS} seeds x {config.num_steps:,} steps: {time.perf_counter() - start:.1f} s"
    )
    return np.asarray(results.eval_returns)  # (seeds, evaluations)


curves = {name: train_seeds(config) for name, config in configs.items()}

# %% [markdown]
# ## Prioritized replay
#
# Uniform sampling treats every stored transition as equally worth learning from. Many are not: the
# network already predicts them well. **Prioritized experience replay** (Schaul et al. 2016) samples
# transition $i$ more often when its last TD error $\delta_i$ was large:
#
# $$
# p_i = |\delta_i| + \epsilon, \qquad P(i) = \frac{p_i^{\alpha}}{\sum_k p_k^{\alpha}}.
# $$
#
# $\alpha$ sets how strongly to prioritize ($\alpha = 0$ is uniform); $\epsilon$ keeps a transition
# with a zero error from never being drawn again. New transitions enter with the largest priority seen
# so far, so each is likely to be drawn soon after it arrives (likely, not certain: sampling is still
# random); after a transition is replayed, its priority is set to its new $|\delta|$.
#
# ### Exercise 3.3: sampling probabilities from TD errors
#
# Write `td_error_probabilities(td_errors, alpha, epsilon)`: `td_errors` has shape `(n,)`; return
# $P(i)$ for each, shape `(n,)`.


# %%
def td_error_probabilities(td_errors, alpha, epsilon):
    ### BEGIN SOLUTION: P(i) from the formula above, for all TD errors at once: a priority per error, raised to alpha, then normalised to sum to 1 (jnp.abs and .sum() help).
    scaled = (jnp.abs(td_errors) + epsilon) ** alpha
    return scaled / scaled.sum()
    ### END SOLUTION


# %%
td_error_probabilities = ch03.check_td_error_probabilities(
    td_error_probabilities
)

# %%
td_errors = jnp.array([2.0, 1.0, 0.5, 0.1, 0.0])
for alpha in (0.0, 0.6, 1.0):
    probs = td_error_probabilities(td_errors, alpha, 1e-6)
    print(
        f"alpha = {alpha}: P =",
        probs,
        f"(the zero error: {float(probs[-1]):.1e})",
    )

# %% [markdown]
# ### Correcting the bias: importance-sampling weights
#
# Sampling some transitions more often changes the *expected* gradient: the network now fits the
# surprising transitions more than their share, and the values it converges to are biased. Each sampled
# transition's loss is therefore weighted by
#
# $$
# w_i = \frac{\left(N \cdot P(i)\right)^{-\beta}}{\max_j w_j},
# $$
#
# where $N$ is the number of stored transitions. At $\beta = 1$ this exactly undoes the non-uniform
# sampling; dividing by the largest weight keeps every weight at most 1, so the step size never grows.
# Early in training the bias matters little, so $\beta$ starts near 0.4 and is annealed to 1 by the
# end. `course_lib.buffers.prioritized.sample` returns the batch, the slots drawn (to update their
# priorities) and the weights:

# %%
small = prioritized.init(8, jnp.float32(0.0), alpha=0.6)
for value in range(8):
    small = prioritized.add(small, jnp.float32(value))
small = prioritized.update_priorities(
    small, jnp.arange(8), jnp.array([4.0, 2.0, 1.0, 1.0, 0.5, 0.5, 0.1, 0.1])
)
_, slots, weights = prioritized.sample(small, jax.random.key(0), 6, beta=0.4)
print("P(i) per slot:      ", prioritized.probabilities(small))
print("slots drawn:        ", slots)
print("their weights (β=.4):", weights)

# %% [markdown]
# The often-drawn slot 0 gets the smallest weight; rare slots count fully. Now the same experiment with
# prioritized replay (α = 0.6, β annealed from 0.4 to 1), everything else as for uniform replay:

# %% tags=["nbval-ignore-output"]
configs["prioritized replay"] = dqn.DQNConfig(
    **common,
    buffer_size=10_000,
    batch_size=32,
    learning_starts=1_000,
    prioritized=True,
)
curves["prioritized replay"] = train_seeds(configs["prioritized replay"])

x = common["eval_every"] * np.arange(1, curves["online"].shape[1] + 1)
fig, ax = plotting.new_axes(8, 3.8)
for name, curve in curves.items():
    plotting.learning_curve(ax, curve, x=x, label=name)
ax.set(
    xlabel="training step",
    ylabel="greedy return (4 episodes)",
    title=f"DQN on CartPole: {NUM_SEEDS} seeds each, mean and 95% CI",
)
ax.legend()
plt.show()

# One number per seed (its mean over the second half), then a mean and 95 %
# interval over seeds.
second_half = {
    name: stats.mean_interval(curve[:, curve.shape[1] // 2 :].mean(axis=1))
    for name, curve in curves.items()
}
print(
    "mean greedy return over the second half of training, 8 seeds, 95% interval:"
)
for name, interval in second_half.items():
    print(f"  {name:20} {interval}")
assert stats.separated(
    second_half["uniform replay"], second_half["online"]
), "replay should beat learning online, with intervals that do not overlap"
verdict = stats.compare(
    second_half["prioritized replay"], second_half["uniform replay"]
)
print(
    f"prioritized against uniform replay: {verdict}"
    + (" (8 seeds cannot tell them apart)" if verdict == "overlap" else "")
)

# %% [markdown]
# Replay helps, and by more than the seeds' spread: the same agent, learning from random batches of
# its past, balances the pole several times longer than the online agent over the second half of
# training (four to six times, in the book's runs), and the two intervals do not overlap (the cell
# asserts it). Between uniform and prioritized
# replay, read the printed verdict rather than the curves' order: on the machine this book was built on,
# prioritized replay climbed faster early and then ended level with uniform replay, and their intervals
# overlapped. With 8 seeds that is all this run can say, and Schaul et al. too found prioritization's
# gain varied a lot from game to game. Note also what it costs: each sample scans all priorities and
# each update writes some back; compare the two times printed above (on the machine that built this
# page prioritized replay took roughly one and a half times as long as uniform replay; the ratio
# depends on the machine and on what else it is running).
#
# Your numbers will differ from the book's in the last digits, and one seed's curve may differ a lot:
# chapter 05 explains why the same seed gives a different run on another CPU. The claims above are made
# over 8 seeds with intervals, so they hold on your machine too.
#
# And look at the shape of the curves: none of them climbs to 500 and stays there. A greedy policy
# that balances for 200 steps at one evaluation may drop to 100 at the next. Replay has fixed the
# correlation; what remains is DQN's own instability, from a target that keeps moving and a greedy
# policy that flips when two Q-values cross. Chapter 05 tunes the rest (a larger buffer, the discount,
# a decaying step size) until CartPole is solved.
#
# ## Pitfalls
#
# * **Sampling empty slots.** Draw from `[0, size)`, not `[0, capacity)`: until the buffer is full the
#   upper slots are zeros, fake transitions with reward 0 that look terminal-free.
# * **A Python list as a buffer inside `jit`.** Its length is part of the shape; every append would
#   compile a new program (or fail). Pre-allocate.
# * **Returning the buffer from a `lax.cond` under `vmap`.** Both branches run and are selected, which
#   copies the whole buffer each step.
# * **Storing the reset observation.** With auto-reset, store `info["final_observation"]` as `next_obs`.
# * **Forgetting the IS weights, or the priority update.** Without weights prioritized replay is biased;
#   without updating priorities after a replay it keeps drawing the same stale transitions.
# * **Judging a method from one seed.** Compare on several, and report what you measure.
#
# ## Summary
#
# You measured how correlated consecutive transitions are, wrote a circular replay buffer as
# pre-allocated JAX arrays, sampled it uniformly from the filled part, and computed prioritized replay's
# probabilities and weights. Across 8 seeds, replay clearly beat learning online; prioritized replay
# learned faster early and ended level with uniform replay in this run.
#
# **Next:** chapter 04 builds the CartPole environment itself, and chapter 05 puts everything into one
# jitted training loop that solves it.
#
# ## Further reading
#
# * Lin, L.-J. (1992). Self-improving reactive agents based on reinforcement learning, planning and
#   teaching. *Machine Learning* 8, 293–321. (Experience replay.)
# * Mnih, V. et al. (2015). Human-level control through deep reinforcement learning. *Nature* 518.
# * Schaul, T., Quan, J., Antonoglou, I. & Silver, D. (2016). Prioritized experience replay. *ICLR*.
