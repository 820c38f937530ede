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
# # 06 · PPO with GAE, every detail, on CartPole in JAX
#
# By the end of this chapter you will have written **generalized advantage estimation** and **the PPO
# loss**, and trained PPO on CartPole: one seed in a few seconds, then 16 seeds at once, every one of
# them solving it. Then you will take PPO apart, one detail at a time, and measure what each does.
#
# ## Before you start
#
# **You will learn to**
#
# 1. estimate a policy gradient from sampled episodes (REINFORCE), and measure why its variance calls
#    for a critic;
# 2. build an actor-critic with orthogonal initialisation, and say why each scale;
# 3. collect trajectories with `lax.scan` over time and `vmap` over environments, as a named pytree;
# 4. compute GAE backwards, stopping at terminations and bootstrapping at truncations;
# 5. write PPO's clipped loss with the signs right, and the update as nested scans;
# 6. run ablations across seeds and report what they show.
#
# **You need** chapter 00 (`lax.scan`, `vmap`, keys), chapter 04 (CartPole, `auto_reset`,
# terminated vs truncated) and chapter 05 (a training run as one pure function).
#
# **Time and compute.** The notebook runs top to bottom in about 85 seconds on 2 CPU cores, kernel
# start included (`make bench`: 87 s on an Intel Xeon, 82 s on an AMD EPYC; one machine drifts by
# 10-35 % between sittings); 25 to 46 of them are 16 PPO runs of 250,000 steps each, and about 20
# the ablations' 40 runs. No GPU needed.

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
import time
from functools import partial

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
import optax
from IPython.display import HTML

from course_lib import checking, plotting, returns, rollouts, stats
from course_lib.agents import ppo
from course_lib.compile_options import QUICK_COMPILE
from course_lib.curves import first_at_least, trailing_mean
from course_lib.envs import CartPole
from course_lib.envs.rendering import animate_episode
from course_lib.exercises import ch06
from course_lib.progress import ProgressBar

np.set_printoptions(precision=3, suppress=True)
# QUICK_COMPILE: programs vmapped over many runs compile about twice as fast at
# LLVM's optimisation level 1 without its most expensive passes, and run as
# fast; "Sixteen seeds at once" below shows the measurement.

# %% [markdown]
# ## From values to policies
#
# DQN learned values and acted greedily on them. A *policy-gradient* method learns the policy
# itself: a network that outputs a probability for each action, $\pi_\theta(a \mid s)$, trained to make
# good actions more likely. The gradient of the expected return $J(\theta)$ has a form we can
# sample (Williams 1992; Sutton & Barto 2018, §13.3):
#
# $$\nabla_\theta J(\theta) = \mathbb{E}\Big[\sum_t \nabla_\theta \log \pi_\theta(a_t \mid s_t)\, G_t\Big],$$
#
# where $G_t$ is the return from step $t$ on. Raise the log-probability of every action taken, in
# proportion to what followed it. That is **REINFORCE**. In JAX it is a loss whose gradient is that
# estimate: `-(log_prob * G).mean()`.
#
# We reuse pieces that this chapter builds properly later: `ppo.collect_rollout` plays 8 CartPoles
# for 256 steps with the current policy, and `returns.gae` with zero values and $\lambda = 1$ is
# exactly the return-to-go $G_t$, cut where an episode ends (and at the rollout's end, a small bias we
# accept here). The settings start from `ppo.PUREJAXRL_CONFIG`, the CartPole configuration of
# PureJaxRL (Lu et al. 2022), a library that writes a whole PPO training run as one jitted JAX
# function; you meet it properly below. For REINFORCE we change the rollout's size, and use a larger
# step size that does not decay.

# %% tags=["nbval-ignore-output"]
reinforce_config = dataclasses.replace(
    ppo.PUREJAXRL_CONFIG,
    num_envs=8,
    num_steps=256,
    learning_rate=2e-3,
    anneal_lr=False,
)
reinforce_parts = ppo.make_parts(reinforce_config)


def returns_to_go(rollout, gamma=0.99):
    ended = rollout.terminated | rollout.truncated
    zeros = jnp.zeros_like(rollout.reward)
    g, _ = returns.gae(rollout.reward, zeros, zeros, ended, ended, gamma, 1.0)
    return g


def reinforce_loss(params, rollout, weights):
    logits, _ = reinforce_parts.network.apply(params, rollout.obs)
    return -(ppo.log_prob(logits, rollout.action) * weights).mean()


def reinforce_update(state, key):
    state, rollout, finished = ppo.collect_rollout(reinforce_parts, state, key)
    grads = jax.grad(reinforce_loss)(
        state.params, rollout, returns_to_go(rollout)
    )
    updates, opt_state = reinforce_parts.optimizer.update(
        grads, state.opt_state
    )
    params = optax.apply_updates(state.params, updates)
    ended = rollout.terminated | rollout.truncated
    mean_return = finished.sum() / jnp.maximum(ended.sum(), 1)
    return state._replace(params=params, opt_state=opt_state), mean_return


def train_reinforce(key, num_updates=64):
    init_key, loop_key = jax.random.split(key)
    state = ppo.init_state(reinforce_parts, init_key)
    keys = jax.random.split(loop_key, num_updates)
    return jax.lax.scan(reinforce_update, state, keys)[1]


reinforce_curves = np.asarray(
    jax.jit(jax.vmap(train_reinforce), compiler_options=QUICK_COMPILE)(
        jax.random.split(jax.random.key(0), 4)
    )
)
reinforce_steps = np.arange(1, reinforce_curves.shape[1] + 1) * 8 * 256
fig, ax = plotting.new_axes(7, 3)
for curve in reinforce_curves:
    ax.plot(reinforce_steps, curve, color="0.6", linewidth=0.7)
plotting.learning_curve(
    ax, reinforce_curves, x=reinforce_steps, label="mean of 4 seeds"
)
ax.set(
    xlabel="environment steps", ylabel="mean episode return", title="REINFORCE"
)
ax.legend()
plt.show()
print("final mean return per seed:", reinforce_curves[:, -10:].mean(1).round())
assert (
    reinforce_curves[:, -10:].mean() > 5 * reinforce_curves[:, 0].mean()
), "REINFORCE should learn: the last updates' returns several times the first's"

# %% [markdown]
# It learns: from about 20 steps to a few hundred in the first 80,000 steps. Then it stalls and swings, single
# seeds jumping between 200 and 500 from one update to the next, and the seeds drift apart. The
# gradient estimate is the culprit. Every action in an episode is credited with the whole return that
# followed, luck included, so two rollouts from the *same* policy give
# different gradients. Measure it: 32 rollouts from one fixed policy, the gradient of each, and how
# much they scatter around their mean.


# %%
def baseline_subtracted(rollout):
    g = returns_to_go(rollout)
    return g - g.mean()


@partial(jax.jit, compiler_options=QUICK_COMPILE)
def gradient_scatter(key, num_rollouts=32):
    """Total variance of the per-rollout gradients, relative to the squared norm of their mean, for
    the returns as they are and for the returns minus their mean; the same rollouts for both."""
    state = ppo.init_state(reinforce_parts, jax.random.key(42))

    def gradients(key):
        _, rollout, _ = ppo.collect_rollout(reinforce_parts, state, key)
        flat = []
        for weights in (returns_to_go(rollout), baseline_subtracted(rollout)):
            grads = jax.grad(reinforce_loss)(state.params, rollout, weights)
            flat.append(
                jnp.concatenate([leaf.ravel() for leaf in jax.tree.leaves(grads)])
            )
        return jnp.stack(flat)

    grads = jax.vmap(gradients)(
        jax.random.split(key, num_rollouts)
    )  # (rollouts, 2, params)
    return grads.var(0).sum(-1) / (grads.mean(0) ** 2).sum(-1)


raw, centred = gradient_scatter(jax.random.key(1))
print(f"relative gradient variance, returns as they are: {float(raw):.4f}")
print(f"relative gradient variance, minus their mean:    {float(centred):.4f}")
print(f"the baseline divides the variance by {float(raw / centred):.1f}")
assert centred < raw

# %% [markdown]
# Subtracting a *baseline* (here the batch's mean return) leaves the expected gradient unchanged,
# because $\mathbb{E}[\nabla \log \pi(a \mid s)] = 0$, and it cuts the scatter: here it divides the
# variance by about 1.4 (the last line above), with the crudest baseline there is, one number for
# all states. The best baseline depends on the state: how good is it to be *here*? That is a value function $V(s)$, learned by a
# second network, the **critic**. Weighting each action by how much better it did than the critic
# expected, the **advantage** $A_t$, is the idea behind actor-critic methods, and behind PPO.
#
# ## An actor and a critic
#
# `course_lib.nets.make_actor_critic` builds two separate MLPs (64-64, tanh): the actor maps an
# observation to logits, one per action; the critic maps it to a value. Their initialisation is one of
# the details that matter (Andrychowicz et al. 2021; Huang et al. 2022). Weights start **orthogonal**,
# scaled:
#
# * `sqrt(2)` on hidden layers. An orthogonal matrix preserves the length of what goes through it, and
#   a gain can make up for what the nonlinearity takes away. `sqrt(2)` is the gain for ReLU, which
#   zeroes half its inputs (He et al. 2015); for tanh the usual gain is 5/3 (PyTorch's
#   `calculate_gain` convention). PureJaxRL and CleanRL use orthogonal `sqrt(2)` on their tanh hidden
#   layers all the same, a convention inherited from OpenAI Baselines, and with two layers it works
#   well; we keep it so that our runs compare like for like with theirs;
# * `0.01` on the policy head: the first logits are nearly equal, so the first policy is nearly uniform
#   and explores both actions alike, instead of committing to whichever a random init favoured;
# * `1.0` on the value head: values start at the scale of the inputs.

# %%
parts = ppo.make_parts(ppo.PUREJAXRL_CONFIG)
state = jax.jit(ppo.init_state, static_argnums=0)(parts, jax.random.key(0))
hidden = state.params["policy_hidden_1"]["w"]
print(
    "hidden layer, W^T W / 2 = identity?",
    bool(jnp.allclose(hidden.T @ hidden / 2, jnp.eye(64), atol=1e-5)),
)
logits, value = jax.jit(parts.network.apply)(state.params, state.obs)
print("first logits:\n", logits)
print(
    "first policy entropy:",
    ppo.entropy(logits),
    " (uniform over 2 actions: log 2 =",
    f"{np.log(2):.4f})",
)

# %% [markdown]
# The policy is a categorical distribution over actions, from the logits: `log_softmax` gives the
# log-probabilities, `jax.random.categorical(key, logits)` samples, and the entropy
# $-\sum_a \pi(a)\log\pi(a)$ measures how undecided it is (`ppo.log_prob`, `ppo.entropy`).
#
# ## Collecting trajectories
#
# One PPO update starts by playing `num_envs` environments for `num_steps` steps with the current
# policy. Inside a step, `vmap` steps the 4 environments at once; `lax.scan` runs the steps. What comes
# out is a `ppo.Rollout`, a named tuple of arrays shaped `(time, env, ...)`: named fields, not a tuple
# of tuples, so `rollout.terminated` says what it is.

# %%
_, rollout, finished = jax.jit(ppo.collect_rollout, static_argnums=0)(
    parts, state, jax.random.key(1)
)
for name, leaf in rollout._asdict().items():
    print(f"{name:11} {leaf.shape} {leaf.dtype}")
print(
    "episodes ended in this rollout:",
    int((rollout.terminated | rollout.truncated).sum()),
)

# %% [markdown]
# `final_obs` is the true next observation of each step, before any auto-reset: where an episode
# continues it equals the next row's `obs`; where it was *truncated* at 500 steps, it is what the critic
# must value to bootstrap.
#
# ## Generalized advantage estimation
#
# The critic gives a one-step estimate of the advantage, the TD error
# $\delta_t = r_t + \gamma V(s_{t+1}) - V(s_t)$: low variance, but biased by the critic's errors.
# The sampled return $G_t - V(s_t)$ is unbiased, with REINFORCE's variance. GAE (Schulman et al.
# 2015) blends them with one dial, $\lambda$:
#
# $$A_t = \delta_t + \gamma\lambda\,\delta_{t+1} + (\gamma\lambda)^2\,\delta_{t+2} + \dots
#       = \delta_t + \gamma\lambda\,A_{t+1}.$$
#
# $\lambda = 0$ is the TD error; $\lambda = 1$ is the return minus the value. The recursion runs
# backwards, a reverse `lax.scan`. Two episode ends, two different rules:
#
# * **terminated** (the pole fell): nothing follows, so $V(s_{t+1})$ is 0 in $\delta_t$;
# * **truncated** (the time limit): the pole is still up; $\delta_t$ bootstraps from $V$ of the final
#   observation;
# * at **either** end, the next step belongs to another episode: $A_{t+1}$ must not flow back, so
#   multiply it by $(1 - \text{done}_t)$.
#
# ## Exercise 6.1: GAE
#
# Write `gae(rewards, values, next_values, terminated, done, gamma, lam)`. All arrays are
# `(T, ...)`, time first; `next_values[t]` is $V$ of the true next observation. Return
# `(advantages, targets)` with `targets = advantages + values`, the critic's regression targets.


# %%
def gae(rewards, values, next_values, terminated, done, gamma, lam):
    # YOUR CODE HERE: the TD errors first (which end drops the bootstrap?), then the
    #   recursion backwards in time with jax.lax.scan (reverse=True); return
    #   (advantages, targets)
    raise NotImplementedError("Exercise not started: replace this line with your code")


# %%
gae = ch06.check_gae(gae)

# %% [markdown]
# The check tries a rollout with a termination in one environment and a truncation in the other, with
# a large $V$ at each final observation so each rule shows if it is wrong, then random rollouts with
# $\gamma$ and $\lambda$ varied, each also compiled and batched (`jax.jit`, `jax.vmap`): the training
# runs below call your `gae` that way.
#
# ## Exercise 6.2: the PPO loss
#
# With advantages in hand, PPO (Schulman et al. 2017) takes several gradient steps on the same
# rollout. The policy moves away from the one that collected the data, so each sample is reweighted by
# the **probability ratio** $r_t(\theta) = \pi_\theta(a_t \mid s_t) / \pi_{\text{old}}(a_t \mid s_t)$
# (computed as `exp(log_prob - old_log_prob)`). Left alone, the optimiser would push ratios far from
# 1 and trust advantages that no longer apply. PPO's **clipped surrogate** takes the pessimistic of two
# terms:
#
# $$L^{\text{clip}} = \mathbb{E}\big[\min\big(r_t A_t,\ \mathrm{clip}(r_t, 1-\epsilon, 1+\epsilon)\,A_t\big)\big],$$
#
# so there is no gain in moving a ratio beyond $1 \pm \epsilon$ in the direction the advantage favours.
# The details:
#
# * **advantage normalisation**: standardise $A$ within each minibatch, `(A - mean) / (std + 1e-8)`;
# * **the value loss**, clipped like the ratio: with `V_clipped = old_value + clip(V - old_value, -eps,
#   eps)`, take `0.5 * mean(max((V - target)^2, (V_clipped - target)^2))`;
# * **the entropy bonus**, to keep exploring;
# * **signs**: optimisers *minimise*, PPO *maximises* the surrogate, so the loss is
#   `-L_clip + vf_coef * value_loss - ent_coef * entropy`.
#
# Write `ppo_loss(params, apply, batch, config)`; `apply(params, obs)` returns `(logits, values)`,
# `batch` is a `ppo.Minibatch` with fields `obs, action, old_log_prob, old_value, advantage, target`,
# and `config` is a `ppo.PPOConfig`: read `config.clip_eps`, `config.vf_coef` and `config.ent_coef`
# from it. Return the scalar loss. `ppo.log_prob` and `ppo.entropy` may help. Keep every step a JAX
# operation on arrays: the training runs compile your loss and differentiate it, and the ablations
# pass a `clip_eps` that is an array.


# %%
def ppo_loss(params, apply, batch, config):
    # YOUR CODE HERE: the probability ratio, the normalised advantages, the clipped
    #   surrogate, the clipped value loss and the entropy bonus, combined with the right
    #   signs
    raise NotImplementedError("Exercise not started: replace this line with your code")


# %%
ppo_loss = ch06.check_ppo_loss(ppo_loss)

# %% [markdown]
# The check compares your loss's gradients with respect to `params` too, not only its value: a loss
# with the right number and a `stop_gradient` in the wrong place would train nothing. It accepts
# either standard-deviation convention for the normalisation (`std()` or `std(ddof=1)`).
#
# Every PPO run from here on trains with your `gae` and your `ppo_loss`, passed to
# `ppo.make_train(config, gae_fn=gae, loss_fn=ppo_loss)`. Where a check did not pass, the name holds
# the reference from `course_lib` instead, so the chapter runs either way. This line says which:

# %%
print(
    checking.whose_code(
        gae=(gae, returns.gae), ppo_loss=(ppo_loss, ppo.ppo_loss)
    )
)

# %% [markdown]
# ## The update, and the whole run
#
# One update: collect a rollout (512 steps), compute GAE, then `update_epochs = 4` passes over the
# rollout, each in `num_minibatches = 4` shuffled minibatches of 128 steps, one gradient step per
# minibatch. In JAX, each level is a scan: a `lax.scan` over minibatches inside a `lax.scan` over
# epochs inside the `lax.scan` over updates, and every level is a named function in
# `course_lib.agents.ppo` (`update_minibatch`, `update_epoch`, `update`). Gradients are clipped to a
# global norm of 0.5, and the step size decays linearly to 0 over the run.
#
# The defaults of `ppo.PPOConfig` are PureJaxRL's CartPole settings (Lu et al. 2022), so the two can
# be compared like for like:

# %%
config = ppo.PUREJAXRL_CONFIG
print(
    f"{config.num_envs} environments x {config.num_steps} steps per update, "
    f"{config.num_updates} updates = {config.num_updates * config.num_envs * config.num_steps:,} steps; "
    f"{config.update_epochs} epochs x {config.num_minibatches} minibatches of {config.minibatch_size}"
)
print(
    f"gamma {config.gamma}, lambda {config.gae_lambda}, clip {config.clip_eps}, entropy {config.ent_coef}, "
    f"value {config.vf_coef}, max grad norm {config.max_grad_norm}, lr {config.learning_rate} annealed"
)

# %% [markdown]
# One difference, on purpose: PureJaxRL's environments report the time limit as an ordinary `done`,
# so its GAE treats truncation as termination. Ours bootstraps (`bootstrap_truncation=True`). The
# ablations below measure what that changes.
#
# One seed, one call:

# %% tags=["nbval-ignore-output"]
train = jax.jit(ppo.make_train(config, gae_fn=gae, loss_fn=ppo_loss))
started = time.perf_counter()
one_seed = jax.block_until_ready(train(jax.random.key(0)))
one_seed_seconds = time.perf_counter() - started
steps_total = config.num_updates * config.num_envs * config.num_steps
print(f"{steps_total:,} steps in {one_seed_seconds:.1f} s, compile included")

# %% tags=["nbval-ignore-output"]
one_curve = np.asarray(one_seed.mean_returns)
print(
    "mean return of the episodes in the last 20 updates:",
    np.nanmean(one_curve[-20:]).round(1),
)
over_10 = trailing_mean(one_curve, 10)  # the mean over the last 10 updates
first_solved = first_at_least(over_10, 475)  # an update's index, or None
assert (
    first_solved is not None
), "one seed of PPO should reach a mean return of 475"
print(
    f"first at 475 or more (mean over 10 updates) after "
    f"{(first_solved + 1) * config.num_envs * config.num_steps:,} of {steps_total:,} steps"
)
clip_fraction = np.asarray(one_seed.metrics.clip_fraction)
print(
    f"share of samples whose ratio left [0.8, 1.2]: {clip_fraction.mean():.3f} on average, "
    f"{clip_fraction.max():.3f} at most"
)

# %% [markdown]
# ## Sixteen seeds at once
#
# `jax.vmap(train)` over 16 keys, jitted: 16 independent runs in one call. One change first.
# PureJaxRL's step size, 2.5e-4, is cautious for CartPole: in the book's run, the seed above reached
# 475 after about 152,000 of its 500,000 steps (your printout has your machine's figure). Four times
# the step size on half the budget, still annealed to 0, solves it as reliably (80 of 80 runs, on
# five sets of 16 seeds, when we chose it) and halves the wait: 16 runs of about 250,000 steps,
# 4 million environment steps, about 25 seconds of arithmetic on the book's machine. All else is
# PureJaxRL's configuration (`ppo.FAST_CARTPOLE_CONFIG`). A larger step is not free in general: it
# is what PPO's clip guards against, and on a harder task it is the first thing to make
# training unstable.

# %%
seeds_config = ppo.FAST_CARTPOLE_CONFIG
for field in dataclasses.fields(
    config
):  # what differs from PureJaxRL's configuration
    ours, theirs = getattr(seeds_config, field.name), getattr(
        config, field.name
    )
    if ours != theirs:
        print(f"{field.name}: {ours:,} (PureJaxRL: {theirs:,})")
seeds_steps = (
    seeds_config.num_updates * seeds_config.num_envs * seeds_config.num_steps
)

# %% [markdown]
# A word on the `compiler_options=QUICK_COMPILE` we have been passing to `jax.jit` since REINFORCE,
# and a lesson about wall time: compiling is part of it. XLA compiles in two stages, its own
# optimisations of the whole program, then LLVM turning each piece into machine code, at an
# optimisation level of its own. At the default level, compiling the 16-seed program took two to
# three times as long as at level 1 whenever we measured it (several seconds against a few; the
# times depend on the machine and on what else it is running), and the program runs as fast.
# REINFORCE's 4 seeds compiled and ran in 3 seconds instead of 6, the gradient scatter in 2 instead
# of 3. `course_lib.compile_options.QUICK_COMPILE` also skips LLVM's most expensive passes, which
# cut chapter 05's DQN compile by a further third at no measurable cost. We measured
# each: for the one-seed program above, `make bench` finds `QUICK_COMPILE` saving about 0.6 s of a
# 3.5 s compile, with the run as fast on one machine and 6 % slower on another; too little to
# matter either way, so it keeps the default. The setting applies to one compilation only. It can also change the last bits of
# a result, since LLVM may order floating-point arithmetic differently, and over thousands of updates
# those bits grow into a different run: in an earlier version of this chapter, the "no clipping"
# ablation's mean over 2 seeds was 234 at the default level and 321 at level 1, which says how little
# two seeds can tell (the ablations below use 8). Runs stay reproducible for a given machine, library
# version and setting; chapter 05 explains why another CPU gives another run from the same seed.
#
# Now the sixteen seeds, with a progress bar like chapter 05's, reported every 50 updates:

# %% tags=["nbval-ignore-output"]
NUM_SEEDS = 16
bar = ProgressBar(
    seeds_steps
)  # all 16 runs are at the same step; each reports it
train_seeds = jax.jit(
    jax.vmap(
        ppo.make_train(seeds_config, gae_fn=gae, loss_fn=ppo_loss, progress=bar)
    ),
    compiler_options=QUICK_COMPILE,
)
started = time.perf_counter()
results = jax.block_until_ready(
    train_seeds(jax.random.split(jax.random.key(2026), NUM_SEEDS))
)
seeds_seconds = time.perf_counter() - started
print(
    f"{NUM_SEEDS} x {seeds_steps:,} steps in {seeds_seconds:.0f} s, compile included "
    f"({NUM_SEEDS * seeds_steps / seeds_seconds:,.0f} steps per second)"
)

# %% tags=["nbval-ignore-output"]
curves = np.asarray(
    results.mean_returns
)  # (seeds, updates); NaN where no episode ended
WINDOW = 10  # a trailing mean over 10 updates (5,120 steps), to read the trend
smoothed = trailing_mean(curves, WINDOW)  # (seeds, updates), NaNs skipped
update_steps = (
    np.arange(1, curves.shape[1] + 1)
    * seeds_config.num_envs
    * seeds_config.num_steps
)
fig, ax = plotting.new_axes(8, 3.5)
for curve in smoothed:
    ax.plot(update_steps, curve, color="0.6", linewidth=0.5)
plotting.learning_curve(
    ax, smoothed, x=update_steps, label="mean of 16 seeds, 95% CI"
)
ax.axhline(475, color="0.3", linestyle="--", linewidth=1)
ax.set(xlabel="environment steps", ylabel="mean episode return", ylim=(0, 520))
ax.set_title(
    "PPO on CartPole-v1: every seed (grey) and the mean, over 10 updates"
)
ax.legend(loc="lower right")
plt.show()

final = np.nanmean(curves[:, -20:], axis=1)
print("final mean return per seed (last 20 updates):", final.round(1))
print(f"seeds at 475 or more: {(final >= 475).sum()} of {NUM_SEEDS}")
# 80 of 80 runs solved when this configuration was chosen: the rate is at least
# 0.96 (95 % confidence), and at that rate 14 or more of 16 happens 98 % of the
# time, on any machine.
assert (
    final >= 475
).sum() >= 14, "PPO should solve CartPole on at least 14 of 16 seeds"

# %% [markdown]
# The "final return" is the mean return of the training episodes that ended in the last 20 updates
# (about 10,000 steps), played by the stochastic policy itself, exploration included.
#
# ## Ablations: take one detail away
#
# Each variant below changes one thing against the baseline, on a small budget of 48,000 steps
# (PureJaxRL's step size), where differences in learning speed show. How many seeds? This chapter's
# first version ran 2 per variant, and read a difference of 321 against 236 as "spread, not a gain";
# a compiler setting alone moved one of those means by 90. So: 8 seeds per variant, and a 95 %
# interval for each mean (`course_lib.stats.mean_interval`, Student's t over the 8 per-seed numbers).
# $\lambda$, the clip range and the truncation rule are the config's *traced* fields
# (`ppo.TRACED`): `train(key, config)` takes them as arrays, so configs that differ only in them
# share one compiled program. `ppo.stack_configs` turns the five variants, each a checked
# `PPOConfig`, into one config whose traced fields have one entry per run, and all 40 runs go
# through `vmap` in one call:

# %% tags=["nbval-ignore-output"]
SEEDS_EACH = 8
small = dataclasses.replace(config, total_timesteps=48_000)
variants = {
    "baseline (lambda 0.95, clip 0.2)": small,
    "lambda = 0 (TD errors)": dataclasses.replace(small, gae_lambda=0.0),
    "lambda = 1 (Monte Carlo)": dataclasses.replace(small, gae_lambda=1.0),
    "no clipping": dataclasses.replace(small, clip_eps=float("inf")),
    "truncation as termination": dataclasses.replace(
        small, bootstrap_truncation=False
    ),
}
runs = ppo.stack_configs(  # every traced field (40,): 5 variants x 8 seeds
    [variant for variant in variants.values() for _ in range(SEEDS_EACH)]
)
keys = jnp.concatenate(  # (40,): the same 8 seeds for every variant
    [jax.random.split(jax.random.key(7), SEEDS_EACH)] * len(variants)
)
train_ablations = jax.jit(
    jax.vmap(ppo.make_train(small, gae_fn=gae, loss_fn=ppo_loss)),
    compiler_options=QUICK_COMPILE,
)
ablations = train_ablations(keys, runs)
ablation_curves = np.asarray(ablations.mean_returns).reshape(
    len(variants), SEEDS_EACH, -1
)
# One number per run (the mean return over its last 20 updates), then an
# interval over the 8 seeds.
interval_of = {
    name: stats.mean_interval(np.nanmean(curves_of_variant[:, -20:], axis=1))
    for name, curves_of_variant in zip(variants, ablation_curves)
}
baseline = interval_of["baseline (lambda 0.95, clip 0.2)"]
print(
    f"{'variant':34} mean return, last 20 updates, 8 seeds [95% interval]   vs baseline"
)
for name, interval in interval_of.items():
    verdict = "" if interval is baseline else stats.compare(interval, baseline)
    print(f"{name:34} {str(interval):22} {verdict}")
slowest = interval_of["lambda = 0 (TD errors)"]
assert all(
    stats.separated(other, slowest)
    for other in interval_of.values()
    if other is not slowest
), "lambda = 0 should learn slowest on this small budget, with an interval below every other"

# %% [markdown]
# Read the verdicts, not the order of the means: a variant whose interval overlaps the baseline's
# has not been shown to differ from it, by this budget and these seeds.
#
# * **$\lambda = 0$** is far behind every other variant, its interval well below theirs (the cell
#   asserts it). With one-step TD errors, the advantage is only as good as the critic, which starts
#   knowing nothing; credit travels back one step per update.
# * **$\lambda = 1$** learned somewhat slower than 0.95 in the book's run. Monte Carlo returns are
#   unbiased but noisy, and GAE's $\lambda = 0.95$ trades a little bias for less of that noise.
#   Whether the intervals separate on your machine, the printout says.
# * **No clipping** did no harm here; in the book's run it was, if anything, faster. At this step size
#   and 4 epochs the ratios rarely stray far from 1 (in the one-seed run above, under 8 % of
#   samples per update at most), so the clip rarely acts, and when it does it only slows learning.
#   Clipping is insurance against destructive updates (larger steps, more epochs, harder tasks), and
#   this small test does not exercise it; Andrychowicz et al. (2021) found it matters across tasks.
# * **Truncation as termination** changes nothing measurable here, and for a plain reason: in the
#   first 48,000 steps almost no episode reaches the 500-step limit, so there is almost nothing to
#   truncate. Late in the full run every episode is truncated; treating those as failures teaches the
#   critic that step 500 is worth nothing, and PureJaxRL, which does so, still solves CartPole. The fix
#   costs nothing and is right by construction, which is reason enough to keep it.
#
# ## Watching the trained policy

# %% tags=["nbval-ignore-output"]
trained = jax.tree.map(lambda leaf: leaf[0], results.params)


def sample_action(key, obs):
    logits, _ = parts.network.apply(trained, obs)
    return jax.random.categorical(key, logits)


episode = jax.jit(rollouts.run_episode, static_argnums=(0, 1))(
    CartPole(), sample_action, jax.random.key(3)
)
print(
    f"the trained policy (sampling its actions) balances for {int(episode.length)} steps"
)
assert int(episode.length) >= 475

# %% tags=["nbval-ignore-output"]
HTML(
    animate_episode(
        episode.states,
        CartPole().default_params,
        every=8,
        max_frames=63,
        title="PPO",
    )
)

# %% [markdown]
# ## Pitfalls
#
# * **Treating truncation as termination**, or bootstrapping from the reset observation. Store the final
#   observation; zero the bootstrap only on termination; stop GAE's sum at either end.
# * **The sign of the loss.** Optimisers minimise; the surrogate is to be maximised; the entropy is a
#   bonus.
# * **`max` instead of `min`** in the clipped surrogate: the bound becomes optimistic and clipping
#   stops protecting anything.
# * **Normalising advantages over the whole rollout, or not at all**, when the implementation you
#   compare with does it per minibatch: results differ.
# * **Reusing a key.** Every rollout step, shuffle and action sample takes its own split.
# * **One seed.** PPO is more reliable than DQN on CartPole, and you only know that from many seeds.
#
# ## Summary
#
# You saw REINFORCE learn with a noisy gradient and a baseline reduce the noise; built an actor-critic
# with orthogonal initialisation; collected rollouts as a named pytree with `scan` and `vmap`; wrote GAE,
# with termination and truncation handled apart, and the clipped PPO loss; and trained PPO on 16 seeds
# in one call, every detail in a named function of `course_lib.agents.ppo`. The ablations measured
# which details matter on CartPole and which do not.
#
# ## Further reading
#
# * Williams, R. J. (1992). Simple statistical gradient-following algorithms for connectionist
#   reinforcement learning. *Machine Learning* 8.
# * Schulman, J., Moritz, P., Levine, S., Jordan, M. & Abbeel, P. (2016). High-dimensional continuous
#   control using generalized advantage estimation. *ICLR*.
# * Schulman, J., Wolski, F., Dhariwal, P., Radford, A. & Klimov, O. (2017). Proximal policy
#   optimization algorithms. arXiv:1707.06347.
# * Andrychowicz, M. et al. (2021). What matters for on-policy deep actor-critic methods? A large-scale
#   study. *ICLR*.
# * He, K., Zhang, X., Ren, S. & Sun, J. (2015). Delving deep into rectifiers. *ICCV*.
# * Huang, S. et al. (2022). The 37 implementation details of proximal policy optimization. *ICLR
#   Blog Track*.
# * Lu, C. et al. (2022). Discovered policy optimisation. *NeurIPS* (PureJaxRL).
