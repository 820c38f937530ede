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
# # 02 · Deep Q-networks: a network instead of a table
#
# By the end of this chapter you will have written the three pieces of a deep Q-network (DQN):
# **acting from a network, the DQN loss, and the target network**, and you will have trained 16
# agents on CartPole at once to see what a target network is for, and what it cannot fix alone.
#
# ## Before you start
#
# **You will learn to**
#
# 1. build a Q-network with Haiku, keeping its parameters outside the model (`init` and `apply`);
# 2. act greedily and ε-greedily from a network's Q-values;
# 3. write the DQN loss: the TD target, the Huber loss, `vmap` over a batch, `jax.value_and_grad`
#    and an Optax update;
# 4. explain why DQN learns towards a *target network*, and write its hard and soft updates;
# 5. recognise a diverging Q-network from its values.
#
# **You need** chapter 01 (Q-learning, ε-greedy, `vmap` over seeds), and some idea of what a neural
# network and gradient descent are.
#
# **Time and compute.** The notebook runs top to bottom in about 25 seconds on 2 CPU cores, kernel
# start included (measured with `make bench`). No GPU needed.

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
import functools
import time
from typing import NamedTuple

import haiku as hk
import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
import optax
from jax import lax

from course_lib import checking, nets, plotting, rollouts, tabular
from course_lib.agents import dqn
from course_lib.envs import CartPole, auto_reset
from course_lib.exercises import ch02

np.set_printoptions(precision=3, suppress=True)

# %% [markdown]
# ## Why: from a table to a function
#
# Chapter 01 ended with a count: a Q-table for CartPole, with each of its four state variables cut
# into 20 bins, needs 160,000 rows, most of which an agent never visits, and it learns each row on
# its own. Instead we let a function with parameters $\theta$ compute the Q-values of every action
# from the state,
#
# $$
# Q(s, \cdot\,; \theta) : \mathbb{R}^4 \to \mathbb{R}^2, \qquad \text{obs: } (4,) \;\mapsto\;
# \text{q\_values: } (2,),
# $$
#
# a small neural network. Nearby states produce nearby outputs, so what the network learns about one
# state carries over to the states around it: it **generalises**. The price: a change of $\theta$ made
# for one state also moves the values of all the others. Most of this chapter is about living with that.
#
# Our environment from here on is **CartPole**: push a cart left or right to keep a pole upright.
# Each step the pole stays up pays 1; the episode *terminates* when the pole tilts past 12° or the cart
# leaves the track, and is *truncated* after 500 steps. Chapter 04 builds it in JAX line by line; today
# we just use `course_lib.envs.CartPole`.

# %%
cartpole = CartPole()
obs, env_state = cartpole.reset(jax.random.key(0))
print("observation (x, x_dot, theta, theta_dot):", np.asarray(obs))
print("actions: 0 = push left, 1 = push right")

# %% [markdown]
# ## Haiku: a model without hidden state
#
# A PyTorch module owns its weights. JAX transformations want pure functions, so Haiku splits a model
# in two: you write the forward pass as if the weights were inside, and `hk.transform` turns it into a
# pair of pure functions:
#
# * `init(key, example_obs) -> params`: runs the forward pass once to create every weight, and
#   returns them as a pytree (nested dicts of arrays);
# * `apply(params, obs) -> q_values`: the forward pass, with the weights passed in.
#
# (`hk.transform` also gives `apply` a PRNG-key argument, for layers such as dropout; our networks
# use no randomness, so `hk.without_apply_rng` removes it.) Here is the network `course_lib.nets`
# builds:


# %%
def forward(obs):
    mlp = hk.nets.MLP([64, 64, 2], activation=jax.nn.relu, name="q_network")
    return mlp(obs)


q_network = hk.without_apply_rng(hk.transform(forward))
params = q_network.init(jax.random.key(0), obs)

print(jax.tree.map(jnp.shape, params))
num_params = sum(leaf.size for leaf in jax.tree.leaves(params))
print(f"{num_params:,} parameters (a 20-bin table would have 320,000 entries)")
print("Q-values of one observation:", q_network.apply(params, obs))
print(
    "a batch of 3 observations:",
    q_network.apply(params, jnp.stack([obs] * 3)).shape,
)

same = nets.make_q_network(num_actions=2, hidden_sizes=(64, 64))
assert jax.tree.all(
    jax.tree.map(jnp.array_equal, params, same.init(jax.random.key(0), obs))
), "course_lib's network is the same model"

# %% [markdown]
# Because the parameters are an ordinary pytree, everything from chapter 00 applies: `jax.grad` of a
# loss with respect to `params` gives a pytree of the same shape, `vmap` over a stack of `params` trains
# many networks at once, and the same key always gives the same network.
#
# ### Jitting a method: a static `self`
#
# You will often keep the network in an object and want to jit its methods. `jax.jit` traces its
# arguments into abstract arrays, and `self` is not an array, so you mark it **static**: jit hashes it,
# uses it as a constant while tracing, and compiles once per object.


# %%
class GreedyAgent:
    def __init__(self, network, temperature=1.0):
        self.network = network
        self.temperature = temperature

    @functools.partial(jax.jit, static_argnums=0)
    def greedy_action(self, params, obs):
        return jnp.argmax(self.network.apply(params, obs) / self.temperature)


agent = GreedyAgent(q_network)
print("greedy action:", int(agent.greedy_action(params, obs)))

# %% [markdown]
# One catch. A static argument is part of the compiled program, looked up by its hash, which for a
# plain object is its identity. Change an attribute afterwards and the cached program does not notice:
# `agent.temperature = -1.0` would still run the version compiled with `1.0`. Treat such objects as
# frozen (a frozen dataclass makes that explicit), and pass anything that changes as an argument.
#
# ## Acting from a network
#
# Acting is as in chapter 01, with the table row replaced by the network's output:
# `q_values = q_network.apply(params, obs)`, then ε-greedy on those values.
#
# ### Exercise 2.1: select an action
#
# Write `select_action(key, params, obs, epsilon)`: `obs` is one observation `(4,)`; return an integer
# action, ε-greedy with respect to the online network's Q-values. Use `q_network` from above and
# `tabular.epsilon_greedy` (chapter 01's exercise, kept in `course_lib`). The check draws 20,000 actions
# per case, for several ε and observations, and compares how often each action comes up; it passes
# other parameters than the chapter's `params`, so use the ones you are given.


# %%
def select_action(key, params, obs, epsilon):
    # YOUR CODE HERE: compute the network's Q-values for this one observation and choose
    #   from them ε-greedily; q_network.apply and chapter 01's tabular.epsilon_greedy do
    #   the work
    raise NotImplementedError("Exercise not started: replace this line with your code")


# %%
select_action = ch02.check_select_action(select_action, q_network)

# %% [markdown]
# ## The DQN loss
#
# Q-learning moved $Q(s, a)$ towards the target $r + \gamma \max_{a'} Q(s', a')$. With a network we
# cannot set one value; we change $\theta$ by gradient descent on a loss that measures how far
# $Q(s, a; \theta)$ is from the target. For one transition $(s, a, r, s', \text{terminated})$:
#
# $$
# \begin{aligned}
# y &= r + \gamma\,(1 - \text{terminated}) \max_{a'} Q(s', a'; \theta^-), \\
# \delta &= y - Q(s, a; \theta), \qquad \mathcal{L}(\theta) = \ell(\delta).
# \end{aligned}
# $$
#
# $\theta^-$ are the **target network**'s parameters, a slowly updated copy of $\theta$; the next
# section explains why. We differentiate only with respect to $\theta$: the target $y$ counts as a
# constant (a *semi-gradient*), because we want to move the estimate towards the target, not the target
# towards the estimate. In JAX this falls out naturally: `jax.grad` differentiates with respect to its
# first argument only, so $y$, computed from `target_params`, carries no gradient.
# `course_lib.agents.dqn` also wraps it in `lax.stop_gradient`, so the rule holds even when you pass the
# same parameters twice.
#
# A batch of transitions is a `Transition` NamedTuple whose fields carry a leading batch axis:

# %%
print(dqn.Transition._fields)

# %% [markdown]
# ### Squared or Huber?
#
# The obvious $\ell(\delta) = \tfrac{1}{2}\delta^2$ has gradient $\delta$: a transition with a
# surprising reward (a large $\delta$) pushes the network as hard as its error is large. Early in
# training, when the targets are wild, a few such transitions can throw the network far off. Mnih
# et al. (2015) clipped the error's gradient to $[-1, 1]$, which is the gradient of the **Huber loss**:
# quadratic for $|\delta| \le 1$, linear beyond. We take it from **Optax**, DeepMind's library of
# optimisers and losses for JAX: `optax.huber_loss`.

# %%
errors = jnp.linspace(-4, 4, 201)
huber = optax.huber_loss(errors, delta=1.0)
fig, (ax_loss, ax_grad) = plt.subplots(1, 2, figsize=(10, 3))
ax_loss.plot(errors, 0.5 * errors**2, label="squared: ½δ²")
ax_loss.plot(errors, huber, label="Huber (δ = 1)")
ax_grad.plot(errors, errors, label="squared")
ax_grad.plot(
    errors, jax.vmap(jax.grad(optax.huber_loss))(errors), label="Huber"
)
ax_loss.set(xlabel="TD error δ", ylabel="loss", title="The loss")
ax_grad.set(
    xlabel="TD error δ",
    ylabel="dloss / dδ",
    title="Its gradient: how hard it pushes",
)
ax_loss.legend()
ax_grad.legend()
plt.show()

# %% [markdown]
# ### Exercise 2.2: the DQN loss of one transition
#
# Write `dqn_loss(online_params, target_params, transition, gamma)` for *one* transition (fields
# without a batch axis): compute $y$ with the target network, $\delta$ with the online network at the
# action taken (`q_values[transition.action]`), and return `optax.huber_loss(delta, delta=1.0)`, a
# float scalar. Read everything from the arguments (the check passes other parameters than the
# chapter's `params`), and use no Python `if` on the transition's fields: the chapter compiles this
# loss with `jit`, so the check runs it under `jit` and `vmap` too, and compares its gradient with
# respect to `online_params` as well as its value.


# %%
def dqn_loss(online_params, target_params, transition, gamma):
    # YOUR CODE HERE: the target y from the target network (the reward alone after a
    #   termination: jnp.where), the TD error against the online network's value of the
    #   action taken, and its Huber loss (optax.huber_loss)
    raise NotImplementedError("Exercise not started: replace this line with your code")


# %%
dqn_loss = ch02.check_dqn_loss(dqn_loss, q_network)

# %% [markdown]
# A batch is one `vmap` away, and `jax.value_and_grad` gives the loss and its gradient in one pass.
# An Optax optimiser is, like a Haiku model, a pair of pure functions: `optimizer.init(params)` creates
# its state (for Adam, running averages of the gradients) as a pytree, and
# `optimizer.update(grads, opt_state, params)` turns a gradient into an update and returns the new state;
# `optax.apply_updates(params, updates)` then adds the update to the parameters. `optax.chain` applies
# several such steps one after the other. Ours is Adam behind gradient clipping by global norm: if the
# gradient pytree's overall length exceeds 10, it is scaled down to 10, a second guard against wild
# targets.


# %%
def batch_loss(online_params, target_params, batch, gamma):
    losses = jax.vmap(dqn_loss, in_axes=(None, None, 0, None))(
        online_params, target_params, batch, gamma
    )
    return losses.mean()


optimizer = optax.chain(optax.clip_by_global_norm(10.0), optax.adam(1e-3))


@jax.jit
def update(online_params, target_params, opt_state, batch, gamma):
    loss, grads = jax.value_and_grad(batch_loss)(
        online_params, target_params, batch, gamma
    )
    updates, opt_state = optimizer.update(grads, opt_state, online_params)
    return optax.apply_updates(online_params, updates), opt_state, loss


# A batch of 32 random transitions, to see the update work.
keys = jax.random.split(jax.random.key(1), 4)
batch = dqn.Transition(
    obs=jax.random.normal(keys[0], (32, 4)) * 0.1,
    action=jax.random.randint(keys[1], (32,), 0, 2),
    reward=jnp.ones(32),
    next_obs=jax.random.normal(keys[2], (32, 4)) * 0.1,
    terminated=jax.random.uniform(keys[3], (32,)) < 0.1,
)
online_params, target_params = params, params
opt_state = optimizer.init(online_params)
losses = []
for _ in range(200):
    online_params, opt_state, loss = update(
        online_params, target_params, opt_state, batch, 0.99
    )
    losses.append(float(loss))
print(
    f"loss on this batch: {losses[0]:.3f} before, {losses[-1]:.5f} after 200 updates"
)
assert losses[-1] < 0.01 * losses[0], "with a fixed target the loss should fall"

# %% [markdown]
# With the target held still, this is ordinary regression, and the loss falls. In reinforcement
# learning the target does not hold still.
#
# ## Target networks
#
# If the target used the online parameters $\theta$ themselves, every update would move the target
# too: raising $Q(s, a)$ also raises $Q(s', a')$ for the similar next state, so the target runs away
# from the estimate that chases it. With a discount close to 1 that loop can feed itself until the values
# diverge. DQN breaks the loop with a second copy of the parameters, $\theta^-$, that changes only now
# and then:
#
# * **Hard update** (Mnih et al. 2015): copy $\theta^- \leftarrow \theta$ every $C$ parameter updates
#   (they used $C = 10{,}000$ on Atari, with one update after every 4 actions). Between copies the
#   target is fixed, as in the regression above. Optax has it as
#   `optax.periodic_update(new, old, step, period)`. Below, the agent makes one update per environment
#   step, so the two counts agree. From chapter 03 on, `course_lib`'s `target_update_period` counts
#   environment steps, whether or not an update happened on them.
# * **Soft (Polyak) update** (Lillicrap et al. 2016): after every step,
#   $\theta^- \leftarrow \tau\,\theta + (1 - \tau)\,\theta^-$ with a small $\tau$ such as 0.005. The
#   target trails the online network smoothly, as an exponential moving average.
#
# ### Exercise 2.3: the Polyak update
#
# Write `polyak_update(online_params, target_params, tau)`, returning the new target parameters. Both
# parameter arguments are pytrees of the same structure: apply the formula leaf by leaf with
# `jax.tree.map`. Return new parameters and leave both arguments as they were (the check tries several
# τ, 0 and 1 included, and runs your function under `jit`).


# %%
def polyak_update(online_params, target_params, tau):
    # YOUR CODE HERE: move each leaf of target_params the fraction tau of the way
    #   towards the matching leaf of online_params; jax.tree.map walks the two pytrees
    #   side by side
    raise NotImplementedError("Exercise not started: replace this line with your code")


# %%
polyak_update = ch02.check_polyak_update(polyak_update, q_network)

# %% [markdown]
# Optax ships the same function as `optax.incremental_update(new, old, step_size)`; the check compares
# yours with it, and later chapters use Optax's.
#
# ## Experiment: online DQN, with and without a target network
#
# Let us put the pieces together in the simplest way: the agent learns from each transition once, right
# after it happens, one at a time, and throws it away. That is Q-learning with a network and nothing
# else. We train two kinds of agent, 8 seeds each, on CartPole for 25,000 steps:
#
# * **no target network**: the target uses the online parameters, updated every step;
# * **target network**: a hard copy every 250 steps.
#
# ε falls linearly from 1 to 0.05 over the first 10,000 steps (an Optax schedule), γ = 0.99. Every
# 1,250 steps we record the greedy return (4 episodes) and the largest Q-value the network predicts.
# Since each step pays 1, no Q-value can honestly exceed $\sum_k \gamma^k = 1 / (1 - \gamma) = 100$.
#
# **Predict before you run:** which agent learns to balance the pole? Will either reach the maximum
# return, 500?
#
# The training loop is one `lax.scan`, as in chapter 01, and the greedy evaluation uses
# `course_lib.rollouts.episode_returns`, chapter 01's `run_episode` for several episodes side by side.
# `course_lib.agents.dqn.td_target` and friends are the tested copies of your exercises.


# %%
class OnlineState(NamedTuple):
    params: hk.Params
    target_params: hk.Params
    opt_state: optax.OptState
    obs: jax.Array  # (4,)
    env_state: NamedTuple
    step: jax.Array  # () int32


GAMMA, NUM_STEPS, EVAL_EVERY = 0.99, 25_000, 1_250
epsilon_schedule = optax.linear_schedule(1.0, 0.05, transition_steps=10_000)
looping_env = auto_reset(cartpole)


def greedy_return(params, key, num_episodes=4):
    """Mean return of greedy episodes (up to 500 steps each) with these parameters."""
    greedy = lambda key, obs: jnp.argmax(q_network.apply(params, obs))
    return rollouts.episode_returns(cartpole, greedy, key, num_episodes).mean()


def online_step(state, key, target_period):
    action_key, env_key = jax.random.split(key)
    epsilon = epsilon_schedule(state.step)
    action = select_action(action_key, state.params, state.obs, epsilon)
    obs, env_state, reward, terminated, _, info = looping_env.step(
        env_key, state.env_state, action
    )
    transition = dqn.Transition(
        state.obs, action, reward, info["final_observation"], terminated
    )
    grads = jax.grad(dqn_loss)(
        state.params, state.target_params, transition, GAMMA
    )
    updates, opt_state = optimizer.update(grads, state.opt_state, state.params)
    params = optax.apply_updates(state.params, updates)
    step = state.step + 1
    # target_period = 1 copies every step: the same as having no target network.
    target_params = optax.periodic_update(
        params, state.target_params, step, target_period
    )
    return OnlineState(params, target_params, opt_state, obs, env_state, step)


def train_online(key, target_period):
    """Online DQN; returns (greedy returns, largest |Q|), one per evaluation."""
    reset_key, init_key, loop_key = jax.random.split(key, 3)
    obs, env_state = looping_env.reset(reset_key)
    params = q_network.init(init_key, obs)
    state = OnlineState(
        params, params, optimizer.init(params), obs, env_state, jnp.array(0)
    )

    def train_and_evaluate(state, key):
        train_key, eval_key = jax.random.split(key)
        step = lambda state, key: (online_step(state, key, target_period), None)
        state, _ = lax.scan(
            step, state, jax.random.split(train_key, EVAL_EVERY)
        )
        probe = (
            jax.random.normal(eval_key, (256, 4)) * 0.1
        )  # states near the start
        largest_q = jnp.abs(q_network.apply(state.params, probe)).max()
        return state, (greedy_return(state.params, eval_key), largest_q)

    chunk_keys = jax.random.split(loop_key, NUM_STEPS // EVAL_EVERY)
    _, (returns, largest_q) = lax.scan(train_and_evaluate, state, chunk_keys)
    return returns, largest_q


NUM_SEEDS = 8
seeds = jax.random.split(jax.random.key(2026), NUM_SEEDS)
# 16 agents in one program: every seed with target_period 1 (no target network)
# and 250.
periods = jnp.repeat(jnp.array([1, 250]), NUM_SEEDS)
start = time.perf_counter()
returns, largest_q = jax.block_until_ready(
    jax.jit(jax.vmap(train_online))(jnp.concatenate([seeds, seeds]), periods)
)
seconds = time.perf_counter() - start
print(f"16 agents x {NUM_STEPS:,} steps in {seconds:.1f} s, compile included")
returns = np.asarray(returns).reshape(2, NUM_SEEDS, -1)
largest_q = np.asarray(largest_q).reshape(2, NUM_SEEDS, -1)

# %%
print(
    checking.whose_code(
        select_action=(select_action, ch02.reference_select_action(q_network)),
        dqn_loss=(dqn_loss, ch02.reference_dqn_loss(q_network)),
    )
)

# %% tags=["nbval-ignore-output"]
x = EVAL_EVERY * np.arange(1, returns.shape[2] + 1)
labels = ["no target network", "target network, copied every 250 steps"]
fig, (ax_return, ax_q) = plt.subplots(1, 2, figsize=(11, 3.5))
for i, label in enumerate(labels):
    plotting.learning_curve(ax_return, returns[i], x=x, label=label)
    for seed_q in largest_q[i]:
        ax_q.plot(x, seed_q, color=f"C{i}", alpha=0.6, linewidth=1)
ax_q.axhline(
    100, color="0.3", linestyle="--", linewidth=1, label="1 / (1 - γ) = 100"
)
ax_return.set(
    xlabel="training step",
    ylabel="greedy return",
    title=f"Online DQN on CartPole ({NUM_SEEDS} seeds, 95% CI)",
)
ax_q.set(
    xlabel="training step",
    ylabel="largest |Q| (log scale)",
    yscale="log",
    title="Q-values, one line per seed",
)
ax_return.legend(fontsize="small")
ax_q.legend(fontsize="small")
plt.show()

for i, label in enumerate(labels):
    print(
        f"{label:40} final greedy return: mean {returns[i, :, -1].mean():5.1f}, "
        f"best seed {returns[i, :, -1].max():5.1f}; "
        f"largest |Q| at the end: median {np.median(largest_q[i, :, -1]):,.0f}"
    )

# Training results differ between CPUs (rounding differs in the last bits, and
# training amplifies it), so these checks leave a wide margin.
assert (
    largest_q[0, :, -1] > 1_000
).sum() >= 6, "without a target, Q should diverge"
assert (
    largest_q[1, :, -1] < 200
).all(), "with a target network, Q should stay bounded"
assert (
    returns[0, :, -1].mean() < 20
), "without a target network the pole should fall"
best_return = returns.max(
    axis=2
)  # (2, NUM_SEEDS): each seed's best greedy return
assert (
    best_return[1].mean() > 2 * best_return[0].mean()
), "with a target network the agent should learn something"

# %% [markdown]
# Without a target network the Q-values run away: within a few thousand steps they pass 100, the most
# any state can be worth, and keep growing by orders of magnitude. A network whose values are all
# nonsense has no useful greedy action, and the pole falls in about 10 steps.
#
# With a target network the values stay bounded: they climb towards $1 / (1 - \gamma) = 100$ and end
# close to it, often a little above. That is no surprise. The target takes a max over noisy
# estimates, and the max of noisy numbers is on average larger than the max of the true values, so
# Q-learning tends to overestimate a little (van Hasselt 2010). The agent does learn something, but
# look at the return curve: it rises, collapses, and rises again, and no seed holds on to a good
# policy. The target network fixed the runaway target; it did not fix the other problem with learning
# online:
#
# * consecutive transitions are **strongly correlated**: for hundreds of steps the agent sees almost
#   the same states, so each stretch of updates fits the network to one corner of the state space and
#   overwrites what it learned elsewhere;
# * each transition is used **once** and thrown away, although it could teach the network many times.
#
# Chapter 03 fixes both with a **replay buffer**: store transitions, and learn from random batches of
# old and new ones.
#
# ## Pitfalls
#
# * **Letting gradients flow into the target.** Differentiate with respect to the online parameters
#   only. When you compute the target from the same parameters (no target network), wrap it in
#   `lax.stop_gradient`.
# * **Bootstrapping past the end, or not past a time limit.** As in chapter 01:
#   `(1 - terminated)`, not `(1 - done)`, and `next_obs` must be the true final observation, not the
#   reset one.
# * **Taking the max over the wrong axis.** For a batch, `q_values` has shape `(batch, num_actions)`:
#   the max over actions is `.max(axis=-1)`, and the value of the actions taken is
#   `jnp.take_along_axis(q_values, actions[:, None], axis=-1)[:, 0]`. Writing the loss for one
#   transition and `vmap`-ing it, as we did, avoids both mistakes.
# * **Mutating a static `self`.** A jitted method keeps the attribute values it was compiled with.
# * **Trusting values you cannot check.** A quick bound, here $1 / (1 - \gamma)$, tells you at a glance
#   whether a Q-network is learning or diverging.
#
# ## Summary
#
# You replaced the Q-table with a Haiku network whose parameters live in a pytree, acted ε-greedily on
# its outputs, and wrote the DQN loss: a TD target from a target network, the Huber loss, `vmap` over a
# batch, `jax.value_and_grad` and an Optax update. Without a target network the values diverged; with
# one they stayed bounded, but learning online from one correlated transition at a time stayed erratic.
#
# **Next:** chapter 03 adds the replay buffer.
#
# ## Further reading
#
# * Mnih, V. et al. (2015). Human-level control through deep reinforcement learning. *Nature* 518,
#   529–533. (The target network, error clipping, and replay.)
# * Lillicrap, T. P. et al. (2016). Continuous control with deep reinforcement learning. *ICLR*.
#   (Soft target updates.)
# * van Hasselt, H. (2010). Double Q-learning. *NeurIPS*. (Why the max in the target overestimates.)
# * Sutton, R. S. & Barto, A. G. (2018). *Reinforcement Learning: An Introduction*, 2nd ed., §11.3
#   (the "deadly triad": function approximation, bootstrapping and off-policy learning).
# * The Haiku and Optax documentation: `hk.transform`, `optax.chain`, `optax.periodic_update`.
