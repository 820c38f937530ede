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
# # 01 · Q-tables: tabular Q-learning, vectorised
#
# By the end of this chapter you will have trained **32 Q-learning agents through a maze at once in
# a fraction of a second**, drawn what they learned, and watched a greedy agent walk into a trap that
# a little exploration avoids.
#
# ## Before you start
#
# **You will learn to**
#
# 1. name the parts of the reinforcement-learning loop: state, action, reward, return, discount,
#    episode, and the two ways an episode ends (*terminated* and *truncated*);
# 2. state the Bellman optimality equation for Q-values, and turn it into the Q-learning update;
# 3. balance exploration and exploitation with ε-greedy actions, and see what goes wrong without it;
# 4. train a whole run as one jitted `lax.scan`, then hundreds of runs at once with `vmap`, and
#    measure what each step buys;
# 5. read a Q-table as a picture, and explain why tables stop working on larger problems.
#
# **You need** chapter 00 (keys, `jit`, `lax.scan`, `vmap`, returns).
#
# **Time and compute.** The notebook runs top to bottom in about 30 seconds on 2 CPU cores, kernel
# start included (measured with `make bench`); more than half of that is compiling. No GPU needed.

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

import ipywidgets as widgets
import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
from jax import lax

from course_lib import checking, plotting, rollouts, tabular
from course_lib.envs import CartPole, GridWorld, auto_reset
from course_lib.exercises import ch01
from course_lib.timing import time_call

np.set_printoptions(precision=3, suppress=True)

# %% [markdown]
# ## The reinforcement-learning loop
#
# In chapter 00 every pull of an arm was independent of the last. Now the **agent**'s actions change
# the **state** of its **environment**, and so what it can do next. At each time step $t$ the agent
# sees the state $s_t$, picks an action $a_t$, and the environment answers with a reward $r_t$ and the
# next state $s_{t+1}$. A run from a start state to the end is an **episode**, and the agent's goal is
# to collect as much **return** as it can: the discounted sum of rewards
# $G_t = r_t + \gamma r_{t+1} + \gamma^2 r_{t+2} + \dots$ from chapter 00.
#
# Our environment is a maze, `course_lib`'s `GridWorld`. The agent starts at `S` and moves up, right,
# down or left; walls (`#`) and the edge block it. Each step costs 0.01, except the step that reaches
# the goal `G`: that one pays 1.0 instead, and ends the episode.

# %%
maze = GridWorld()  # the default layout: 6 rows, 8 columns
print(maze.render_text())
print(
    f"{maze.num_states} states (one per cell, walls included), {maze.num_actions} actions"
)

# %% [markdown]
# An episode can end in two different ways, and the difference matters in every chapter from here on:
#
# * **terminated**: the task itself is over (the agent reached the goal). Nothing follows, so the
#   value of what comes next is zero.
# * **truncated**: we stopped the episode from outside, here after 100 steps. The agent was not
#   done; had we let it go on, more rewards would have followed.
#
# Environments in `course_lib` follow the interface of gymnax, gymnasium's functional cousin in JAX:
# gymnasium keeps the environment's state inside an object, while here it is passed in and returned.
# `reset(key, params)` returns the first observation and the state, and
# `step(key, state, action, params)` returns `(obs, state, reward, terminated, truncated, info)`. You
# may leave out `params` (here the layout, the rewards and the time limit): it defaults to
# `env.default_params`. One difference from gymnax: our `step` never starts a new episode by itself
# (more on that below). Here is one episode of a random agent, in a plain Python loop (with the
# environment's `step` compiled by `jax.jit`, so the loop is quick):

# %%
maze_step = jax.jit(maze.step)
key = jax.random.key(0)
obs, env_state = maze.reset(key)
episode_return, steps = 0.0, 0
while True:
    key, action_key, env_key = jax.random.split(key, 3)  # fresh keys each step
    action = jax.random.randint(action_key, (), 0, maze.num_actions)
    obs, env_state, reward, terminated, truncated, info = maze_step(
        env_key, env_state, action
    )
    episode_return += float(reward)
    steps += 1
    if terminated or truncated:
        break
print(
    f"random agent: {steps} steps, return {episode_return:.2f}, "
    f"terminated={bool(terminated)}, truncated={bool(truncated)}"
)

# %% [markdown]
# The random agent wanders for 100 steps and is cut off: truncated, not terminated. The shortest path
# takes 21 steps: 20 that cost 0.01 each and a last one that pays 1.0, for a return of
# $1 - 20 \times 0.01 = 0.80$. Let us learn it.
#
# ## Q-values and the Bellman optimality equation
#
# A **policy** $\pi$ says which action to take in each state. The **action value** $Q_\pi(s, a)$ is
# the expected return if the agent takes action $a$ in state $s$ and follows $\pi$ afterwards. The best
# policy's action values $Q_*$ satisfy the **Bellman optimality equation** (Sutton & Barto 2018,
# §3.6):
#
# $$
# Q_*(s, a) = \mathbb{E}\Big[\, r + \gamma \max_{a'} Q_*(s', a') \;\Big|\; s, a \Big],
# $$
#
# where $s'$ is the next state, and the max term is dropped when the episode terminates in $s'$.
# In words: the value of an action is its reward plus the discounted value of acting as well as
# possible afterwards. Once you know $Q_*$, acting well is easy: in each state, pick
# $\arg\max_a Q_*(s, a)$.
#
# A small maze has few enough states that $Q$ fits in a table: `q_table` of shape
# `(num_states, num_actions)`, here `(48, 4)`, one row per state.
#
# ## Q-learning: temporal-difference learning towards the Bellman target
#
# We do not know the environment's probabilities, so we cannot solve the equation directly. Instead,
# after each step $(s, a, r, s')$ the agent takes the right-hand side, *with its own current table
# inside*, as a target, and moves its estimate a little towards it (Watkins & Dayan 1992):
#
# $$
# \begin{aligned}
# \text{target} &= r + \gamma\,(1 - \text{terminated}) \max_{a'} Q(s', a'), \\
# Q(s, a) &\leftarrow Q(s, a) + \alpha \big(\text{target} - Q(s, a)\big).
# \end{aligned}
# $$
#
# The difference $\text{target} - Q(s, a)$ is the **temporal-difference (TD) error**, and $\alpha$ is
# the step size. Two things make Q-learning special:
#
# * It **bootstraps**: the target uses the table's own estimate of the next state, so the agent
#   learns after every step instead of waiting for the episode's end.
# * It is **off-policy**: the target assumes the *best* action in $s'$, whatever the agent actually
#   does next. The agent can explore freely and still learn the values of the greedy policy.
#
# Only `terminated` removes the bootstrap term. On a *truncated* step the future was cut off by us,
# not by the task, so the target keeps $\gamma \max_{a'} Q(s', a')$.
#
# ## Acting: greedy, ties, and ε-greedy
#
# Acting greedily means taking $\arg\max_a Q(s, a)$. One detail trips people up: at the start the
# table is all zeros, and `jnp.argmax` returns the *first* of tied actions, so the agent would always
# go up. `tabular.greedy` breaks ties at random instead:

# %%
zeros = jnp.zeros(4)
keys = jax.random.split(jax.random.key(1), 1000)
greedy_actions = jax.jit(jax.vmap(tabular.greedy, in_axes=(0, None)))(
    keys, zeros
)
print("jnp.argmax of a zero row:   ", int(jnp.argmax(zeros)))
print("tabular.greedy, 1,000 keys: ", np.bincount(greedy_actions, minlength=4))

# %% [markdown]
# A purely greedy agent only ever does what currently looks best, so it may never find something
# better. The simplest fix is **ε-greedy**: with probability $\varepsilon$ take a uniformly random
# action (any of the four, the greedy one included), otherwise act greedily. Each action's probability
# is then $\varepsilon / 4$, plus $1 - \varepsilon$ for the greedy one (shared equally when several
# actions tie for the best value).
#
# ### Exercise 1.1: ε-greedy
#
# Write `epsilon_greedy(key, q_values, epsilon)`: `q_values` has shape `(num_actions,)`; return one
# action as an integer scalar. Split `key` and use each part once (a key gives one draw); break ties
# with `tabular.greedy(key, q_values)`; no Python `if` on arrays. The check runs your function under
# `jit` and `vmap` over 20,000 keys, compares how often each action comes up with the reference, and
# asks JAX whether any key was used twice.


# %%
def epsilon_greedy(key, q_values, epsilon):
    # YOUR CODE HERE: with probability epsilon a uniformly random action, else
    #   tabular.greedy; jax.random.split, jax.random.uniform, jax.random.randint and
    #   jnp.where help
    raise NotImplementedError("Exercise not started: replace this line with your code")


# %%
epsilon_greedy = ch01.check_epsilon_greedy(epsilon_greedy)

# %% [markdown]
# ### Exercise 1.2: the Q-learning update
#
# Write `q_learning_update(q_table, state, action, reward, next_state, terminated, alpha, gamma)`
# from the two equations above. `q_table` has shape `(num_states, num_actions)`; `state`, `action` and
# `next_state` are integer scalars; `terminated` is a boolean scalar. Return the new table, changed in
# the one entry `(state, action)`. Training runs it inside `jax.jit` and `jax.vmap`, so use `jnp.where`
# (or arithmetic with `terminated`), not `if`.


# %%
def q_learning_update(
    q_table, state, action, reward, next_state, terminated, alpha, gamma
):
    # YOUR CODE HERE: the target from the equations above (no bootstrap after
    #   termination), then move Q(state, action) a step alpha towards it; jnp.where and
    #   the .at[...] update syntax help
    raise NotImplementedError("Exercise not started: replace this line with your code")


# %%
q_learning_update = ch01.check_q_learning_update(q_learning_update)

# %% [markdown]
# ## Training, the slow and obvious way
#
# Everything is in place: act ε-greedily, step, update the table, and start a new episode when one
# ends. First as a plain Python loop, one step at a time, with
# $\varepsilon = 0.1$, $\alpha = 0.5$, $\gamma = 0.95$:


# %%
def train_python_loop(key, num_steps, epsilon=0.1, alpha=0.5, gamma=0.95):
    q_table = jnp.zeros((maze.num_states, maze.num_actions))
    obs, env_state = maze.reset(key)
    for _ in range(num_steps):
        key, action_key, env_key, reset_key = jax.random.split(key, 4)
        action = epsilon_greedy(action_key, q_table[obs], epsilon)
        next_obs, env_state, reward, terminated, truncated, _ = maze.step(
            env_key, env_state, action
        )
        q_table = q_learning_update(
            q_table, obs, action, reward, next_obs, terminated, alpha, gamma
        )
        obs = next_obs
        if terminated or truncated:
            obs, env_state = maze.reset(reset_key)
    return q_table


PYTHON_STEPS = 100
start = time.perf_counter()
train_python_loop(jax.random.key(0), PYTHON_STEPS)
python_seconds = time.perf_counter() - start
python_rate = PYTHON_STEPS / python_seconds
print(f"Python loop: {PYTHON_STEPS} steps in {python_seconds:.1f} s")

# %% [markdown]
# Under a hundred steps per second: every step runs a few dozen small JAX operations, each dispatched
# separately from Python. The 20,000 steps we are about to train for would take minutes.
#
# ## Training as one jitted `lax.scan`
#
# Inside `lax.scan` there is no Python `if terminated: reset()`. `course_lib.envs.auto_reset` wraps the
# environment so that `step` resets a finished episode branch-free with `jnp.where`, and returns the
# first observation of the new episode. The true last observation of the old one comes back in
# `info["final_observation"]`, and that is the $s'$ the update needs.
#
# Everything that changes during training is one pytree, `TrainState`; the three knobs live in
# another, `Hyper`, so that `vmap` can later give each agent its own. Every `EVAL_EVERY` steps we record
# the return of one **greedy** episode (`jnp.argmax`, no exploration): the score of what the table has
# learned so far, not of the exploring agent. `course_lib.rollouts.run_episode(env, policy, key)` plays
# that episode inside a `lax.scan`, for any `policy(key, obs) -> action`; every later chapter evaluates
# its agents with it.


# %%
class Hyper(NamedTuple):
    epsilon: float | jax.Array = 0.1
    alpha: float | jax.Array = 0.5
    gamma: float | jax.Array = 0.95


class TrainState(NamedTuple):
    q_table: jax.Array  # (num_states, num_actions)
    obs: jax.Array  # () int32, the current state index
    env_state: NamedTuple


def greedy_return(env, q_table):
    """Return of one episode that always takes argmax_a Q(s, a) (ties: the first action)."""
    greedy = lambda key, obs: jnp.argmax(q_table[obs])
    return rollouts.run_episode(env, greedy, jax.random.key(0)).rewards.sum()


def make_train(env, num_steps, eval_every):
    """A pure train(key, hyper) -> (q_table, curve), for one GridWorld layout."""
    looping_env = auto_reset(env)

    def train_step(hyper, state, key):
        action_key, env_key = jax.random.split(key)
        action = epsilon_greedy(
            action_key, state.q_table[state.obs], hyper.epsilon
        )
        obs, env_state, reward, terminated, truncated, info = looping_env.step(
            env_key, state.env_state, action
        )
        q_table = q_learning_update(
            state.q_table,
            state.obs,
            action,
            reward,
            info["final_observation"],  # s', not the reset observation
            terminated,  # only termination stops bootstrapping
            hyper.alpha,
            hyper.gamma,
        )
        return TrainState(q_table, obs, env_state), None

    def train_and_evaluate(hyper, state, key):
        step = lambda state, key: train_step(hyper, state, key)
        state, _ = lax.scan(step, state, jax.random.split(key, eval_every))
        return state, greedy_return(env, state.q_table)

    def train(key, hyper):
        reset_key, loop_key = jax.random.split(key)
        obs, env_state = looping_env.reset(reset_key)
        q_table = jnp.zeros((env.num_states, env.num_actions))
        chunk = lambda state, key: train_and_evaluate(hyper, state, key)
        num_chunks = num_steps // eval_every
        state, curve = lax.scan(
            chunk,
            TrainState(q_table, obs, env_state),
            jax.random.split(loop_key, num_chunks),
        )
        return state.q_table, curve  # curve: (num_chunks,) greedy returns

    return train


NUM_STEPS, EVAL_EVERY = 20_000, 250
train_maze = jax.jit(make_train(maze, NUM_STEPS, EVAL_EVERY))

start = time.perf_counter()
q_table, curve = jax.block_until_ready(train_maze(jax.random.key(0), Hyper()))
first_call_one = time.perf_counter() - start
print(f"first call (compile + train): {first_call_one:.1f} s")
print(f"greedy return after {NUM_STEPS:,} steps: {float(curve[-1]):.2f}")
print(
    checking.whose_code(
        epsilon_greedy=(epsilon_greedy, tabular.epsilon_greedy),
        q_learning_update=(q_learning_update, tabular.q_learning_update),
    )
)
assert (
    abs(float(curve[-1]) - 0.80) < 1e-5
), "the agent should find the 21-step shortest path"

# %% [markdown]
# The learned table, drawn as a picture: the colour of each cell is its value $\max_a Q(s, a)$, and the
# arrow is the greedy action. Values grow towards the goal, because each step away costs reward and
# discounts what is left.

# %%
fig, ax = plotting.new_axes(7, 4.5)
params = maze.default_params
plotting.q_table_heatmap(
    ax,
    q_table,
    maze.height,
    maze.width,
    walls=params.walls,
    goal=tuple(np.asarray(params.goal)),
)
ax.set_title("Q-table after 20,000 steps: value and greedy action per cell")
plt.show()
print(maze.render_text(q_table=q_table))

# %% [markdown]
# ## Thirty-two agents at once with `vmap`
#
# One run is an anecdote. `train` is a pure function of its key, so `vmap` turns it into 32 runs
# with 32 seeds, compiled together into one program.

# %%
NUM_SEEDS = 32
seed_keys = jax.random.split(jax.random.key(2026), NUM_SEEDS)
train_maze_many = jax.jit(
    jax.vmap(make_train(maze, NUM_STEPS, EVAL_EVERY), in_axes=(0, None))
)
start = time.perf_counter()
q_tables, curves = jax.block_until_ready(train_maze_many(seed_keys, Hyper()))
first_call_many = time.perf_counter() - start

x = EVAL_EVERY * np.arange(1, curves.shape[1] + 1)
fig, ax = plotting.new_axes()
plotting.learning_curve(
    ax, np.asarray(curves), x=x, label="ε = 0.1, α = 0.5, γ = 0.95"
)
ax.axhline(
    0.80, color="0.3", linestyle="--", linewidth=1, label="shortest path (0.80)"
)
ax.set(
    xlabel="training step",
    ylabel="greedy return",
    title=f"Q-learning on the maze: mean of {NUM_SEEDS} seeds, 95% CI",
)
ax.legend()
plt.show()

solved = np.asarray(curves[:, -1]) > 0.80 - 1e-5
first_solved = x[np.argmax(np.asarray(curves) > 0.80 - 1e-5, axis=1)]
print(
    f"{solved.sum()} of {NUM_SEEDS} agents follow the shortest path at the end"
)
print(
    f"median step at which the greedy policy first reached it: {np.median(first_solved):,.0f}"
)
assert solved.all(), "every seed should learn the shortest path in 20,000 steps"

# %% [markdown]
# Now the three ways of running the same training, measured side by side (the numbers are from the
# machine that built this page; yours will differ):

# %% tags=["nbval-ignore-output"]
one = time_call(train_maze, jax.random.key(0), Hyper())
many = time_call(train_maze_many, seed_keys, Hyper())
rows = [
    ("Python loop, 1 agent", python_rate, None),
    ("jit(scan), 1 agent", NUM_STEPS / one.median, first_call_one - one.median),
    (
        f"jit(vmap(scan)), {NUM_SEEDS} agents",
        NUM_SEEDS * NUM_STEPS / many.median,
        first_call_many - many.median,
    ),
]
print(f"{'':32}{'steps per second':>18}{'compile (s)':>14}")
for name, rate, compile_seconds in rows:
    compiled = "" if compile_seconds is None else f"{compile_seconds:.1f}"
    print(f"{name:32}{rate:>18,.0f}{compiled:>14}")
print(
    f"jit(vmap(scan)) is {rows[2][1] / python_rate:,.0f} times the Python loop"
)
print(
    f"jit(scan), one agent, is {rows[1][1] / python_rate:,.0f} times the Python loop"
)
print(
    f"{NUM_SEEDS} agents take {many.median / one.median:.1f} times as long as one"
)

# %% [markdown]
# Compiling costs a few seconds at most, once. After that, a single jitted agent runs a few
# thousand times as fast as the Python loop, and 32 agents take only about twice as long as
# one, not 32 times: the CPU's vector units do the 32 table updates side by side. (The last lines of the
# table print both factors for the machine that ran it. Those steps include the greedy evaluation
# episodes.)
#
# ## Exploration: a greedy agent gets stuck
#
# Here is a surprise first. Set $\varepsilon = 0$ on the maze, and the greedy agent learns the shortest
# path too:

# %%
_, greedy_curves = train_maze_many(seed_keys, Hyper(epsilon=0.0))
print(
    f"greedy agents on the maze: {int((greedy_curves[:, -1] > 0.80 - 1e-5).sum())} "
    f"of {NUM_SEEDS} learn the shortest path"
)

# %% [markdown]
# Why? The table starts at zero, and every step costs 0.01, so each action the agent tries drops
# below zero, while the untried ones still show 0. The greedy agent therefore always prefers what it has
# not tried yet, and sweeps the maze systematically. This is **optimistic initial values** (Sutton &
# Barto 2018, §2.6): exploration by accident of the starting table.
#
# Optimism only lasts until something looks good. Here is a room with two exits: `g`, a lesser goal
# two steps to the left that pays 0.3, and `G`, four steps to the right, that pays 1.0. With
# $\gamma = 0.95$ the right-hand goal is worth more from the start: about $0.95^3 - 0.03 \approx 0.83$
# against $0.95 \times 0.3 - 0.01 \approx 0.28$.
#
# **Predict before you run:** which exit will greedy agents learn to take? And with $\varepsilon = 0.1$?

# %%
trap = GridWorld(("#######", "g.S...G", "#.....#"))
print(trap.render_text())

EPSILONS = jnp.array([0.0, 0.05, 0.1, 0.2, 0.3, 0.5])
TRAP_STEPS = 10_000
train_trap_many = jax.jit(
    jax.vmap(make_train(trap, TRAP_STEPS, EVAL_EVERY), in_axes=(0, None))
)
# One call per epsilon would work too. vmap over epsilon runs all 6 x 32 agents
# in one program: in_axes is a pytree like Hyper that says which fields carry a
# batch axis.
over_epsilon = Hyper(epsilon=0, alpha=None, gamma=None)
trap_q, trap_curves = jax.vmap(train_trap_many, in_axes=(None, over_epsilon))(
    seed_keys, Hyper(epsilon=EPSILONS)
)
print("trap_curves:", trap_curves.shape, "(epsilon, seed, evaluation)")

found_big_goal = np.asarray(
    trap_curves[:, :, -1] > 0.9
)  # the return via G is 0.97
x_trap = EVAL_EVERY * np.arange(1, trap_curves.shape[2] + 1)
fig, (ax_curve, ax_share) = plt.subplots(1, 2, figsize=(11, 3.5))
for i in (0, 2, 4, 5):
    plotting.learning_curve(
        ax_curve,
        np.asarray(trap_curves[i]),
        x=x_trap,
        label=f"ε = {float(EPSILONS[i]):.2f}",
    )
ax_curve.set(
    xlabel="training step",
    ylabel="greedy return",
    title="The room with two exits",
)
ax_curve.legend()
ax_share.bar(
    [f"{float(e):.2f}" for e in EPSILONS], 100 * found_big_goal.mean(axis=1)
)
ax_share.set(
    xlabel="ε",
    ylabel=f"% of {NUM_SEEDS} seeds",
    title=f"Greedy policy heads for G after {TRAP_STEPS:,} steps",
)
plt.show()
for eps, share in zip(np.asarray(EPSILONS), found_big_goal.mean(axis=1)):
    print(f"ε = {eps:.2f}: {share:.0%} of seeds learned to take G")

assert found_big_goal[0].sum() == 0, "greedy agents should all be stuck at g"
assert found_big_goal[4].mean() >= 0.8, "ε = 0.3 should find G in most seeds"

# %% [markdown]
# Every greedy agent takes the lesser goal. Its optimistic sweep happened to reach `g` first (it is
# closer), the path there now has positive values, and the untried actions, at zero, never look better
# again. The agent has stopped exploring, and nothing in its experience tells it that it is wrong.
#
# With ε-greedy the agent keeps trying random actions, and some runs of random steps reach `G`; once
# they do, Q-learning carries that value back to the start. More exploration finds it sooner. But
# notice the cost: ε-greedy explores by *dithering*, one random step at a time, and ε = 0.1 still
# misses `G` in about half the seeds after 10,000 steps, though it is only four steps away.
# Directed exploration is a research field of its own; for the rest of this course ε-greedy, often
# with ε decaying over training, will do.
#
# ## A small grid of hyper-parameters
#
# Because the knobs are arrays in `Hyper`, a whole grid of them is one more `vmap`. Here are 6 values
# of ε times 4 of α, 32 seeds each: 768 agents and 7.7 million steps in one call.

# %%
ALPHAS = jnp.array([0.1, 0.25, 0.5, 1.0])
eps_grid, alpha_grid = jnp.meshgrid(
    EPSILONS, ALPHAS, indexing="ij"
)  # (6, 4) each
grid_hyper = Hyper(epsilon=eps_grid.ravel(), alpha=alpha_grid.ravel())
start = time.perf_counter()
_, grid_curves = jax.block_until_ready(
    jax.vmap(train_trap_many, in_axes=(None, Hyper(0, 0, None)))(
        seed_keys, grid_hyper
    )
)
grid_seconds = time.perf_counter() - start
found = (
    np.asarray(grid_curves[:, :, -1] > 0.9).mean(axis=1).reshape(eps_grid.shape)
)
print(
    f"{grid_curves.shape[0] * NUM_SEEDS} agents trained in {grid_seconds:.1f} s"
)

fig, ax = plotting.new_axes(6, 3.5)
image = ax.imshow(100 * found, cmap="viridis", vmin=0, vmax=100, aspect="auto")
plt.colorbar(image, ax=ax, label="% of seeds that take G")
ax.set_xticks(range(len(ALPHAS)), [f"{a:.2f}" for a in np.asarray(ALPHAS)])
ax.set_yticks(range(len(EPSILONS)), [f"{e:.2f}" for e in np.asarray(EPSILONS)])
ax.set(
    xlabel="α (step size)",
    ylabel="ε (exploration)",
    title="The room with two exits",
)
for (row, col), share in np.ndenumerate(found):
    ax.text(
        col,
        row,
        f"{share:.0%}",
        ha="center",
        va="center",
        color="w" if share < 0.6 else "k",
    )
plt.show()
assert found[0].max() == 0, "without exploration no step size finds G"

# %% [markdown]
# Both knobs matter. More exploration helps at every step size. A larger step size helps too, here:
# the room has no randomness, so there is no noise to average out, and a large α carries the value of
# `G` back to the start in fewer visits. (In a world with slippery floors, α = 1 would chase every
# lucky or unlucky outcome.) But no step size rescues a greedy agent.
#
# ### Try it yourself
#
# Move the sliders: each change retrains 32 agents on the room with two exits and redraws, in about a
# second. Things to try: $\varepsilon$ from 0 upwards; a small $\gamma$ (below about 0.6, the lesser goal
# is worth *more*, because the far reward is discounted away); $\alpha = 1$ (fine here, since this room
# has no randomness). The sliders need a running notebook; on the book's web page you see the figure
# for the default values.


# %%
def retrain_and_draw(epsilon=0.1, alpha=0.5, gamma=0.95):
    start = time.perf_counter()
    q_tables, curves = jax.block_until_ready(
        train_trap_many(seed_keys, Hyper(epsilon, alpha, gamma))
    )
    seconds = time.perf_counter() - start
    fig, (ax_curve, ax_table) = plt.subplots(1, 2, figsize=(11, 3))
    plotting.learning_curve(ax_curve, np.asarray(curves), x=x_trap)
    ax_curve.set(
        xlabel="training step",
        ylabel="greedy return",
        ylim=(-1.05, 1.0),
        title=f"{NUM_SEEDS} seeds; {int((curves[:, -1] > 0.9).sum())} take G ({seconds:.2f} s)",
    )
    params = trap.default_params
    plotting.q_table_heatmap(
        ax_table,
        q_tables[0],
        trap.height,
        trap.width,
        walls=params.walls,
        goal=tuple(np.asarray(params.goal)),
        lesser_goals=params.lesser_goals,
    )
    ax_table.set_title("seed 0's Q-table")
    plt.show()


train_trap_many(
    seed_keys, Hyper()
)  # compile once for scalar knobs, so redraws are quick
retrain_and_draw()

# %% tags=["nbval-ignore-output"]
slider = dict(continuous_update=False, readout_format=".2f")
_ = widgets.interact(
    retrain_and_draw,
    epsilon=widgets.FloatSlider(
        value=0.1, min=0.0, max=1.0, step=0.05, **slider
    ),
    alpha=widgets.FloatSlider(
        value=0.5, min=0.05, max=1.0, step=0.05, **slider
    ),
    gamma=widgets.FloatSlider(
        value=0.95, min=0.0, max=0.99, step=0.01, **slider
    ),
)
# `_ =` keeps interact's return value (the function) out of the output

# %% [markdown]
# ## Why tables stop working
#
# A table needs one row per state and learns each row separately. The maze has 48 cells. CartPole,
# the problem of chapters 02 to 06, has four *continuous* state variables: cart position and velocity,
# pole angle and angular velocity. To use a table, you would cut each variable into bins. How many rows
# would you need, and how many of them does an agent ever see? Let us count, with 100 random agents
# playing CartPole for 1,000 steps each.

# %%
sample_keys = jax.random.split(jax.random.key(3), 100)
play = jax.vmap(rollouts.random_observations, in_axes=(None, 0, None))
observations = jax.jit(play, static_argnums=(0, 2))(
    CartPole(), sample_keys, 1000
)
observations = observations.reshape(-1, 4)  # (100 agents * 1,000 steps, 4)
# ranges: where the episode ends for x and theta; typical random-play extremes
# for the velocities
low = np.array([-2.4, -3.0, -0.21, -3.5])
high = -low
print(
    f"{'bins per variable':>18}{'table rows':>12}{'Q-values':>12}{'rows visited':>14}"
)
for bins in (6, 10, 20, 50):
    cells = np.clip(
        ((np.asarray(observations) - low) / (high - low) * bins).astype(int),
        0,
        bins - 1,
    )
    visited = len(np.unique(np.ravel_multi_index(cells.T, (bins,) * 4)))
    print(
        f"{bins:>18}{bins**4:>12,}{2 * bins**4:>12,}{visited / bins**4:>14.1%}"
    )

# %% [markdown]
# With 20 bins per variable (still coarse: a bin of the pole angle is 1.2°) the table has 160,000 rows,
# and 100,000 steps of random play visit only a small fraction of them. Worse, learning in one cell
# tells the agent nothing about its neighbour, although two nearly equal states surely call for the
# same action. We need a function that **generalises**: one that maps a state to Q-values with far
# fewer parameters than there are states, so that learning about one state changes its neighbours too.
# That function will be a neural network, in chapter 02.
#
# ## Pitfalls
#
# * **`jnp.argmax` on ties.** A zero-initialised table makes every action tie; `argmax` always picks
#   the first one. Break ties at random when acting.
# * **Bootstrapping on truncation, or not bootstrapping on termination.** Drop the
#   $\gamma \max_{a'} Q(s', a')$ term only when the episode *terminated*. A time limit is not a goal.
# * **Learning from the reset observation.** With auto-reset, the `obs` that `step` returns after an
#   episode ends is the start of the next one. The update needs `info["final_observation"]`.
# * **Judging the policy by the exploring agent's returns.** With ε = 0.3 the agent acts randomly
#   30 % of the time; the greedy policy it has learned can be much better than its training returns
#   suggest. Evaluate greedily, as we did.
# * **Reading too much into one seed.** Exploration makes runs differ a lot (compare seeds in the room
#   with two exits). Run many; with `vmap` it is almost free.
#
# ## Summary
#
# You wrote ε-greedy action selection and the Q-learning update, and trained with them in three ways:
# a Python loop (under a hundred steps per second), one jitted `lax.scan`, and `vmap` over seeds and
# hyper-parameters (millions of steps per second). You saw optimistic initial values explore a maze by
# themselves, a greedy agent settle for the lesser goal, and ε-greedy find the better one.
#
# **Next:** chapter 02 replaces the table with a neural network: deep Q-networks.
#
# ## Further reading
#
# * Watkins, C. J. C. H. & Dayan, P. (1992). Q-learning. *Machine Learning* 8, 279–292.
# * Sutton, R. S. & Barto, A. G. (2018). *Reinforcement Learning: An Introduction*, 2nd ed.
#   §2.6 (optimistic initial values), §3.6 (the Bellman optimality equation), §6.5 (Q-learning).
