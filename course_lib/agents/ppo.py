"""Proximal policy optimisation (Schulman et al. 2017) with GAE (Schulman et al. 2015), the whole run as one
pure function, ``make_train(config)`` (chapter 06).

One *update* of PPO: collect ``num_steps`` steps from ``num_envs`` environments with the current policy
(:func:`collect_rollout`), compute advantages with GAE (:func:`course_lib.returns.gae`), then take
``update_epochs`` passes over the rollout in ``num_minibatches`` shuffled minibatches, each a gradient
step on the clipped objective (:func:`ppo_loss`). ``make_train`` scans that update
``total_timesteps // (num_envs * num_steps)`` times.

Every piece is a module-level function of explicit arguments, so each can be read, tested and swapped
on its own; the chapter's exercises are :func:`course_lib.returns.gae` and :func:`ppo_loss`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

import haiku as hk
import jax
import jax.numpy as jnp
import optax

from course_lib import _validate, nets, returns
from course_lib import progress as progress_lib
from course_lib.envs import CartPole, Environment, auto_reset


class Knobs(NamedTuple):
    """The numbers of a config that ``train(key, knobs)`` takes as arrays, so that runs with different
    values can share one compilation under ``vmap`` (chapter 06's ablations)."""

    gae_lambda: float | jax.Array
    clip_eps: float | jax.Array  # inf: no clipping at all
    bootstrap_truncation: float | jax.Array  # 1.0: bootstrap on a time limit; 0.0: treat it as termination


@dataclass(frozen=True)
class PPOConfig:
    """Every knob of a PPO run. The defaults are PureJaxRL's CartPole-v1 settings (Lu et al. 2022), so the
    two can be compared like for like; ``bootstrap_truncation`` is the one deliberate difference (PureJaxRL
    treats the time limit as a termination)."""

    num_envs: int = 4  # environments stepped side by side (vmap)
    num_steps: int = 128  # steps per environment per update: a rollout is (num_steps, num_envs)
    total_timesteps: int = 500_000  # environment steps in all, over all environments
    update_epochs: int = 4  # passes over each rollout
    num_minibatches: int = 4  # minibatches per pass; each has num_envs * num_steps / num_minibatches steps
    gamma: float = 0.99  # discount
    gae_lambda: float = 0.95  # GAE's bias-variance dial: 0 is one-step TD, 1 is Monte Carlo
    clip_eps: float = 0.2  # ratio clipped to [1 - clip_eps, 1 + clip_eps], value to old +- clip_eps; inf: none
    clip_value: bool = True  # clip the value update around the rollout's values, as PureJaxRL does
    ent_coef: float = 0.01  # weight of the entropy bonus
    vf_coef: float = 0.5  # weight of the value loss
    max_grad_norm: float = 0.5  # clip each update's gradient to this global norm
    learning_rate: float = 2.5e-4  # Adam's step size ...
    anneal_lr: bool = True  # ... decayed linearly to 0 over the updates
    normalize_advantages: bool = True  # standardise advantages within each minibatch
    bootstrap_truncation: bool = True  # on a time limit, bootstrap from V(final obs); False: treat as end
    hidden_sizes: tuple[int, ...] = (64, 64)  # actor and critic hidden layers (separate networks)
    activation: str = "tanh"  # "tanh" or "relu"

    def __post_init__(self) -> None:
        for name in ("num_envs", "num_steps", "total_timesteps", "update_epochs", "num_minibatches"):
            _validate.positive_int(name, getattr(self, name))
        batch = self.num_envs * self.num_steps
        if batch % self.num_minibatches:
            raise ValueError(
                f"num_minibatches must divide num_envs * num_steps ({batch}), got {self.num_minibatches}"
            )
        if self.total_timesteps < batch:
            raise ValueError(
                f"total_timesteps must be at least num_envs * num_steps ({batch}), got {self.total_timesteps}"
            )
        for name, low, high in (("gamma", 0.0, 1.0), ("gae_lambda", 0.0, 1.0), ("clip_eps", 0.0, float("inf"))):
            _validate.in_range(name, getattr(self, name), low, high)
        _validate.one_of("activation", self.activation, nets.ACTIVATIONS)

    @property
    def knobs(self) -> Knobs:
        """This config's values of the knobs ``train(key, knobs)`` can vary without recompiling."""
        return Knobs(self.gae_lambda, self.clip_eps, float(self.bootstrap_truncation))

    @property
    def num_updates(self) -> int:
        """How many collect-then-learn updates the run makes."""
        return self.total_timesteps // (self.num_envs * self.num_steps)

    @property
    def minibatch_size(self) -> int:
        return self.num_envs * self.num_steps // self.num_minibatches


PUREJAXRL_CONFIG = PPOConfig()
"""PureJaxRL's CartPole-v1 configuration (``purejaxrl/ppo.py``), with truncation bootstrapped."""

FAST_CARTPOLE_CONFIG = replace(PUREJAXRL_CONFIG, learning_rate=1e-3, total_timesteps=250_000)
"""PureJaxRL's configuration at four times the step size on half the steps: chapter 06's 16 seeds. On
CartPole it solves as reliably in half the time (64 of 64 runs on four sets of 16 seeds when chosen;
PureJaxRL's own first reaches 475 after about 176,000 of its 500,000 steps). Not a general recipe: a
larger step is what PPO's clipping guards against, and on harder tasks it destabilises first."""


# --- The policy: a categorical distribution from logits. ---------------------------------------------------


def log_prob(logits: jax.Array, action: jax.Array) -> jax.Array:
    """``log pi(action | s)`` from unnormalised ``logits`` ``(..., num_actions)``; ``action`` ``(...)`` int."""
    log_probs = jax.nn.log_softmax(logits)
    return jnp.take_along_axis(log_probs, action[..., None].astype(jnp.int32), axis=-1)[..., 0]


def entropy(logits: jax.Array) -> jax.Array:
    """``-sum_a pi(a) log pi(a)`` of the categorical distribution, ``(...)``."""
    log_probs = jax.nn.log_softmax(logits)
    return -(jnp.exp(log_probs) * log_probs).sum(-1)


# --- Collecting a rollout. ---------------------------------------------------------------------------------


class Rollout(NamedTuple):
    """``num_steps`` steps of ``num_envs`` environments; every field ``(num_steps, num_envs, ...)``."""

    obs: jax.Array  # (T, N, obs_dim) the observation the action was chosen in
    action: jax.Array  # (T, N) int32
    log_prob: jax.Array  # (T, N) log pi_old(action | obs), for the ratio
    value: jax.Array  # (T, N) V_old(obs)
    reward: jax.Array  # (T, N)
    terminated: jax.Array  # (T, N) bool: the task ended; no bootstrap
    truncated: jax.Array  # (T, N) bool: the time limit cut the episode; bootstrap from final_obs
    final_obs: jax.Array  # (T, N, obs_dim) the true next observation, before any reset


class PPOState(NamedTuple):
    """Everything that changes during training, carried through ``lax.scan``."""

    params: Any
    opt_state: Any
    env_state: Any  # batched over num_envs
    obs: jax.Array  # (num_envs, obs_dim)
    episode_return: jax.Array  # (num_envs,) running return of each environment's current episode


class UpdateMetrics(NamedTuple):
    """What one update reports (stacked by scan to ``(num_updates,)``)."""

    episode_return_sum: jax.Array  # sum of the returns of episodes that ended during this rollout
    episodes: jax.Array  # how many ended (int32)
    policy_loss: jax.Array  # mean over the update's minibatches
    value_loss: jax.Array
    entropy: jax.Array
    clip_fraction: jax.Array  # share of samples whose ratio left [1 - eps, 1 + eps]
    approx_kl: jax.Array  # mean of (ratio - 1) - log ratio, an estimate of KL(old || new)


class TrainResult(NamedTuple):
    params: Any  # the final parameters (actor and critic)
    metrics: UpdateMetrics  # every leaf (num_updates,)

    @property
    def mean_returns(self) -> jax.Array:
        """Mean return of the episodes that ended in each update's rollout, ``(..., num_updates)``;
        NaN where none ended."""
        return self.metrics.episode_return_sum / jnp.where(self.metrics.episodes > 0, self.metrics.episodes, jnp.nan)


@dataclass(frozen=True)
class PPOParts:
    """The fixed pieces, built once from a config by :func:`make_parts`."""

    config: PPOConfig
    env: Environment  # auto-resetting (auto_reset), for training
    network: hk.Transformed  # apply(params, obs) -> (logits, value)
    optimizer: optax.GradientTransformation


def make_parts(config: PPOConfig, env: Environment | None = None) -> PPOParts:
    env = auto_reset(CartPole() if env is None else env)
    steps_per_update = config.update_epochs * config.num_minibatches
    if config.anneal_lr:
        # Constant within an update, decreasing linearly from one update to the next (as PureJaxRL).
        def learning_rate(count: jax.Array) -> jax.Array:
            return config.learning_rate * (1.0 - (count // steps_per_update) / config.num_updates)
    else:
        learning_rate = config.learning_rate
    optimizer = optax.chain(
        optax.clip_by_global_norm(config.max_grad_norm), optax.adam(learning_rate, eps=1e-5)
    )
    network = nets.make_actor_critic(env.num_actions, config.hidden_sizes, config.activation)
    return PPOParts(config, env, network, optimizer)


def init_state(parts: PPOParts, key: jax.Array) -> PPOState:
    reset_key, init_key = jax.random.split(key)
    obs, env_state = jax.vmap(parts.env.reset)(jax.random.split(reset_key, parts.config.num_envs))
    params = parts.network.init(init_key, obs[0])
    return PPOState(params, parts.optimizer.init(params), env_state, obs, jnp.zeros(parts.config.num_envs))


def env_step(parts: PPOParts, state: PPOState, key: jax.Array) -> tuple[PPOState, tuple[Rollout, jax.Array]]:
    """One step of every environment with actions sampled from the current policy.

    Returns the new state, this step's slice of the rollout, and each environment's finished episode
    return (0 where the episode goes on), to report learning progress.
    """
    action_key, step_key = jax.random.split(key)
    logits, value = parts.network.apply(state.params, state.obs)
    action = jax.random.categorical(action_key, logits)
    step_keys = jax.random.split(step_key, parts.config.num_envs)
    obs, env_state, reward, terminated, truncated, info = jax.vmap(parts.env.step)(
        step_keys, state.env_state, action
    )
    done = terminated | truncated
    episode_return = state.episode_return + reward
    transition = Rollout(
        state.obs, action, log_prob(logits, action), value, reward, terminated, truncated,
        info["final_observation"],
    )  # fmt: skip
    state = state._replace(env_state=env_state, obs=obs, episode_return=jnp.where(done, 0.0, episode_return))
    return state, (transition, jnp.where(done, episode_return, 0.0))


def collect_rollout(parts: PPOParts, state: PPOState, key: jax.Array) -> tuple[PPOState, Rollout, jax.Array]:
    """``num_steps`` steps of every environment: a ``lax.scan`` over time of a ``vmap`` over environments."""

    def step(state: PPOState, key: jax.Array):
        return env_step(parts, state, key)

    state, (rollout, finished) = jax.lax.scan(step, state, jax.random.split(key, parts.config.num_steps))
    return state, rollout, finished


def advantages_and_targets(
    parts: PPOParts, params: Any, rollout: Rollout, knobs: Knobs
) -> tuple[jax.Array, jax.Array]:
    """GAE advantages and value targets, ``(num_steps, num_envs)`` each.

    ``V(s_{t+1})`` is the critic's value of the true next observation: the next step's observation
    within an episode, the final observation at an episode's end. Termination zeroes it (no future);
    truncation keeps it (the time limit is not part of the task), unless ``knobs.bootstrap_truncation``
    is 0.
    """
    _, next_values = parts.network.apply(params, rollout.final_obs)
    as_termination = rollout.terminated | rollout.truncated
    terminated = jnp.where(knobs.bootstrap_truncation > 0.5, rollout.terminated, as_termination)
    return returns.gae(
        rollout.reward, rollout.value, next_values, terminated, as_termination, parts.config.gamma,
        knobs.gae_lambda,
    )  # fmt: skip


# --- The loss and the update. ------------------------------------------------------------------------------


class Minibatch(NamedTuple):
    """Flattened samples of a rollout, every field with a leading ``(batch,)`` axis."""

    obs: jax.Array
    action: jax.Array
    old_log_prob: jax.Array
    old_value: jax.Array
    advantage: jax.Array
    target: jax.Array  # value target: advantage + old value


class LossInfo(NamedTuple):
    policy_loss: jax.Array
    value_loss: jax.Array
    entropy: jax.Array
    clip_fraction: jax.Array
    approx_kl: jax.Array


def ppo_loss(
    params: Any,
    apply: Callable,
    batch: Minibatch,
    clip_eps: float | jax.Array = 0.2,
    vf_coef: float = 0.5,
    ent_coef: float = 0.01,
    normalize_advantages: bool = True,
    clip_value: bool = True,
) -> tuple[jax.Array, LossInfo]:
    """The PPO objective to *minimise* on one minibatch, and its parts.

    ``policy_loss = -mean(min(ratio * A, clip(ratio, 1 - eps, 1 + eps) * A))``: gradient *descent* on the
    negative surrogate is ascent on the surrogate. ``value_loss = 0.5 * mean(max((V - target)^2,
    (V_clipped - target)^2))`` with ``V_clipped = old_V + clip(V - old_V, -eps, eps)``. Total:
    ``policy_loss + vf_coef * value_loss - ent_coef * entropy`` (minus: entropy is a bonus).
    ``A`` is standardised within the minibatch when ``normalize_advantages``. ``clip_eps = inf`` clips
    nothing.
    """
    logits, value = apply(params, batch.obs)
    new_log_prob = log_prob(logits, batch.action)
    log_ratio = new_log_prob - batch.old_log_prob
    ratio = jnp.exp(log_ratio)
    advantage = batch.advantage
    if normalize_advantages:
        advantage = (advantage - advantage.mean()) / (advantage.std() + 1e-8)
    clipped_ratio = jnp.clip(ratio, 1.0 - clip_eps, 1.0 + clip_eps)
    policy_loss = -jnp.minimum(ratio * advantage, clipped_ratio * advantage).mean()
    squared_error = (value - batch.target) ** 2
    if clip_value:
        value_clipped = batch.old_value + jnp.clip(value - batch.old_value, -clip_eps, clip_eps)
        squared_error = jnp.maximum(squared_error, (value_clipped - batch.target) ** 2)
    value_loss = 0.5 * squared_error.mean()
    mean_entropy = entropy(logits).mean()
    total = policy_loss + vf_coef * value_loss - ent_coef * mean_entropy
    info = LossInfo(
        policy_loss,
        value_loss,
        mean_entropy,
        (jnp.abs(ratio - 1.0) > clip_eps).mean(),
        ((ratio - 1.0) - log_ratio).mean(),
    )
    return total, info


def update_minibatch(
    parts: PPOParts, carry: tuple[Any, Any], batch: Minibatch, clip_eps: float | jax.Array
) -> tuple[tuple[Any, Any], LossInfo]:
    """One gradient step on one minibatch."""
    params, opt_state = carry
    config = parts.config
    grads, info = jax.grad(ppo_loss, has_aux=True)(
        params, parts.network.apply, batch, clip_eps, config.vf_coef, config.ent_coef,
        config.normalize_advantages, config.clip_value,
    )  # fmt: skip
    updates, opt_state = parts.optimizer.update(grads, opt_state, params)
    return (optax.apply_updates(params, updates), opt_state), info


def update_epoch(
    parts: PPOParts, carry: tuple[Any, Any], samples: Minibatch, key: jax.Array, clip_eps: float | jax.Array
) -> tuple[tuple[Any, Any], LossInfo]:
    """One pass over all samples ``(batch, ...)`` in shuffled minibatches, a ``lax.scan`` over them."""
    config = parts.config
    order = jax.random.permutation(key, config.num_envs * config.num_steps)
    minibatches = jax.tree.map(
        lambda leaf: leaf[order].reshape(config.num_minibatches, config.minibatch_size, *leaf.shape[1:]), samples
    )

    def step(carry, batch):
        return update_minibatch(parts, carry, batch, clip_eps)

    return jax.lax.scan(step, carry, minibatches)


def update(parts: PPOParts, state: PPOState, key: jax.Array, knobs: Knobs) -> tuple[PPOState, UpdateMetrics]:
    """Collect a rollout, compute GAE, and learn from it for ``update_epochs`` epochs."""
    rollout_key, epochs_key = jax.random.split(key)
    state, rollout, finished = collect_rollout(parts, state, rollout_key)
    advantage, target = advantages_and_targets(parts, state.params, rollout, knobs)
    samples = Minibatch(rollout.obs, rollout.action, rollout.log_prob, rollout.value, advantage, target)
    samples = jax.tree.map(lambda leaf: leaf.reshape(-1, *leaf.shape[2:]), samples)  # (T * N, ...)

    def epoch(carry, key):
        return update_epoch(parts, carry, samples, key, knobs.clip_eps)

    (params, opt_state), info = jax.lax.scan(
        epoch, (state.params, state.opt_state), jax.random.split(epochs_key, parts.config.update_epochs)
    )
    ended = (rollout.terminated | rollout.truncated)
    means = info._asdict()  # LossInfo's fields by name, each (epochs, minibatches)
    metrics = UpdateMetrics(
        episode_return_sum=finished.sum(),
        episodes=ended.sum().astype(jnp.int32),
        **{name: means[name].mean() for name in LossInfo._fields},
    )
    return state._replace(params=params, opt_state=opt_state), metrics


def make_train(
    config: PPOConfig,
    env: Environment | None = None,
    *,
    progress: Callable[[object], None] | None = None,
    progress_every: int = 50,
) -> Callable[..., TrainResult]:
    """A pure ``train(key, knobs=None) -> TrainResult`` for ``config`` (CartPole unless ``env`` is given).

    Jit it, or ``jax.jit(jax.vmap(train))`` over a batch of keys to train many seeds at once. ``knobs``
    (default: ``config.knobs``) may be arrays, so ``vmap`` can also run different lambdas, clip ranges
    or truncation handling side by side, compiled once.

    Args:
        progress: called on the host with the number of environment steps done, every
            ``progress_every`` updates, while the compiled loop runs (a
            :class:`course_lib.progress.ProgressBar`, for example); under ``vmap``, once per run.
    """
    parts = make_parts(config, env)
    _validate.positive_int("progress_every", progress_every)
    steps_per_update = config.num_envs * config.num_steps
    total_steps = config.num_updates * steps_per_update

    def train(key: jax.Array, knobs: Knobs | None = None) -> TrainResult:
        knobs = config.knobs if knobs is None else knobs
        init_key, loop_key = jax.random.split(key)
        state = init_state(parts, init_key)

        def step(state: PPOState, key_and_index: tuple[jax.Array, jax.Array]):
            key, index = key_and_index
            state, metrics = update(parts, state, key, knobs)
            progress_lib.report(
                progress, (index + 1) * steps_per_update, progress_every * steps_per_update, last=total_steps
            )
            return state, metrics

        xs = (jax.random.split(loop_key, config.num_updates), jnp.arange(config.num_updates))
        state, metrics = jax.lax.scan(step, state, xs)
        return TrainResult(state.params, metrics)

    return train
