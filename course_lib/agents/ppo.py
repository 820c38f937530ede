"""Proximal policy optimisation (Schulman et al. 2017) with GAE (Schulman et al. 2015), the whole run as one
pure function, ``make_train(config)`` (chapter 06).

One *update* of PPO: collect ``num_steps`` steps from ``num_envs`` environments with the current policy
(:func:`collect_rollout`), compute advantages with GAE (:func:`course_lib.returns.gae`), then take
``update_epochs`` passes over the rollout in ``num_minibatches`` shuffled minibatches, each a gradient
step on the clipped objective (:func:`ppo_loss`). ``make_train`` scans that update
``total_timesteps // (num_envs * num_steps)`` times.

Every piece is a module-level function of explicit arguments, so each can be read, tested and swapped
on its own; the chapter's exercises are :func:`course_lib.returns.gae` and :func:`ppo_loss`, and
``make_train(config, gae_fn=..., loss_fn=...)`` trains with the learner's own.

Every setting lives in :class:`PPOConfig`, and only there. The fields in :data:`TRACED` are pytree
leaves: ``train(key, config)`` may take them as arrays, so ``vmap`` runs variants side by side in one
compilation (chapter 06's ablations); every other field shapes the program and is fixed when
``make_train`` builds it. (rejax marks its config fields the same way.)
"""

from __future__ import annotations

from collections.abc import Callable
import dataclasses
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

import haiku as hk
import jax
import jax.numpy as jnp
import numpy as np
import optax

from course_lib import _validate, nets, returns, rollouts
from course_lib.agents.dqn import _validate_common
from course_lib import progress as progress_lib
from course_lib.envs import CartPole, Environment, auto_reset


TRACED = ("gae_lambda", "clip_eps", "bootstrap_truncation")
"""The fields of :class:`PPOConfig` that ``train(key, config)`` may receive as arrays (traced under jit),
so runs that differ only in them share one compiled program. Every other field is fixed at
``make_train``."""


@dataclass(frozen=True)
class PPOConfig:
    """Every setting of a PPO run. The defaults are PureJaxRL's CartPole-v1 settings (Lu et al. 2022), so
    the two can be compared like for like; ``bootstrap_truncation`` is the one deliberate difference
    (PureJaxRL treats the time limit as a termination).

    A pytree: the :data:`TRACED` fields are its leaves, all others its fixed structure. Values are checked
    whenever they are concrete (also arrays of variants); under ``jit`` they are tracers and were checked
    when the config was made."""

    num_envs: int = 4  # environments stepped side by side (vmap)
    num_steps: int = 128  # steps per environment per update: a rollout is (num_steps, num_envs)
    total_timesteps: int = 500_000  # environment steps in all, over all environments
    update_epochs: int = 4  # passes over each rollout
    num_minibatches: int = 4  # minibatches per pass; each has num_envs * num_steps / num_minibatches steps
    gamma: float = 0.99  # discount
    gae_lambda: float = 0.95  # traced. GAE's bias-variance dial: 0 is one-step TD, 1 is Monte Carlo
    clip_eps: float = 0.2  # traced. Ratio clipped to [1 - eps, 1 + eps], value to old +- eps; inf: none
    clip_value: bool = True  # clip the value update around the rollout's values, as PureJaxRL does
    ent_coef: float = 0.01  # weight of the entropy bonus
    vf_coef: float = 0.5  # weight of the value loss
    max_grad_norm: float = 0.5  # clip each update's gradient to this global norm
    learning_rate: float = 2.5e-4  # Adam's step size ...
    anneal_lr: bool = True  # ... decayed linearly to 0 over the updates
    normalize_advantages: bool = True  # standardise advantages within each minibatch
    bootstrap_truncation: bool = True  # traced. On a time limit, bootstrap from V(final obs); False: as end
    hidden_sizes: tuple[int, ...] = (64, 64)  # actor and critic hidden layers (separate networks)
    activation: str = "tanh"  # "tanh" or "relu"

    def __post_init__(self) -> None:
        _validate_common(self)
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
        for name, low, high in (("gamma", 0.0, 1.0), ("gae_lambda", 0.0, 1.0)):
            _validate.in_range(name, getattr(self, name), low, high)
        _validate.in_range("clip_eps", self.clip_eps, 0.0, float("inf"), low_open=True)  # 0 would freeze the policy
        for name in ("ent_coef", "vf_coef"):
            _validate.in_range(name, getattr(self, name), 0.0, float(jnp.finfo(jnp.float32).max))
        for name in ("clip_value", "anneal_lr", "normalize_advantages"):
            _validate.boolean(name, getattr(self, name))
        _validate.one_of("activation", self.activation, nets.ACTIVATIONS)
        if _validate.is_concrete(self.bootstrap_truncation) and jnp.asarray(self.bootstrap_truncation).dtype != bool:
            raise ValueError(f"bootstrap_truncation must be True or False, got {self.bootstrap_truncation!r}")

    def fixed_part(self) -> tuple:
        """The values of every field but the :data:`TRACED` ones: what one compiled program is built for."""
        return tuple(getattr(self, field.name) for field in dataclasses.fields(self) if field.name not in TRACED)

    @property
    def num_updates(self) -> int:
        """How many collect-then-learn updates the run makes."""
        return self.total_timesteps // (self.num_envs * self.num_steps)

    @property
    def env_steps_per_update(self) -> int:
        """Environment steps collected per update: one rollout, ``num_envs * num_steps``."""
        return self.num_envs * self.num_steps

    @property
    def gradient_steps_per_update(self) -> int:
        """Gradient steps per update: ``update_epochs * num_minibatches``."""
        return self.update_epochs * self.num_minibatches

    @property
    def minibatch_size(self) -> int:
        return self.env_steps_per_update // self.num_minibatches


def _flatten_config(config: PPOConfig) -> tuple[tuple, tuple]:
    children = tuple((jax.tree_util.GetAttrKey(name), getattr(config, name)) for name in TRACED)
    return children, config.fixed_part()


def _unflatten_config(fixed: tuple, traced: tuple) -> PPOConfig:
    # Built without __init__: JAX rebuilds configs with tracers or placeholders as leaves, which cannot
    # be checked. Every config a user makes goes through __init__ and is checked there.
    config = object.__new__(PPOConfig)
    fixed_names = [field.name for field in dataclasses.fields(PPOConfig) if field.name not in TRACED]
    for name, value in (*zip(fixed_names, fixed), *zip(TRACED, traced)):
        object.__setattr__(config, name, value)
    return config


jax.tree_util.register_pytree_with_keys(
    PPOConfig, _flatten_config, _unflatten_config, flatten_func=lambda c: (tuple(getattr(c, n) for n in TRACED), c.fixed_part())
)


def stack_configs(configs: list[PPOConfig]) -> PPOConfig:
    """One config whose :data:`TRACED` fields are arrays ``(len(configs),)``, one value per variant, to
    ``vmap`` ``train(key, config)`` over. The configs must agree on every other field."""
    if isinstance(configs, PPOConfig) or not configs:
        raise ValueError("configs must be a non-empty list of PPOConfig")
    for index, config in enumerate(configs):
        if not isinstance(config, PPOConfig):
            raise TypeError(f"configs[{index}] must be a PPOConfig, got {type(config).__name__}")
    for other in configs[1:]:
        if other.fixed_part() != configs[0].fixed_part():
            differ = [
                field.name for field in dataclasses.fields(PPOConfig)
                if field.name not in TRACED and getattr(other, field.name) != getattr(configs[0], field.name)
            ]  # fmt: skip
            raise ValueError(
                f"configs may differ only in {', '.join(TRACED)} to share one compiled program; "
                f"these differ: {', '.join(differ)}"
            )
    return jax.tree.map(lambda *values: jnp.stack([jnp.asarray(v) for v in values]), *configs)


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
    _check_logits(logits)
    _validate.integer("action", action)  # a float action would be truncated to another action
    if np.shape(action) != np.shape(logits)[:-1]:
        raise ValueError(f"action must have shape {np.shape(logits)[:-1]} (logits without their last axis), got shape {np.shape(action)}")
    _validate.index("action", action, np.shape(logits)[-1], "one of the logits' actions")
    log_probs = jax.nn.log_softmax(logits)
    return jnp.take_along_axis(log_probs, action[..., None].astype(jnp.int32), axis=-1)[..., 0]


def entropy(logits: jax.Array) -> jax.Array:
    """``-sum_a pi(a) log pi(a)`` of the categorical distribution, ``(...)``. A ``-inf`` logit (an action
    masked out) has probability 0 and adds 0, as ``0 log 0 = 0``."""
    _check_logits(logits)
    log_probs = jax.nn.log_softmax(logits)
    probs = jnp.exp(log_probs)
    return -jnp.where(probs > 0, probs * log_probs, 0.0).sum(-1)


def _check_logits(logits: jax.Array) -> None:
    _validate.floating("logits", logits)
    if np.ndim(logits) < 1:
        raise ValueError(f"logits must have shape (..., num_actions), got shape {np.shape(logits)}")
    _validate.not_nan("logits", logits)


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


GaeFn = Callable[..., tuple[jax.Array, jax.Array]]
LossFn = Callable[[Any, Callable, "Minibatch", PPOConfig], jax.Array]


@dataclass(frozen=True)
class PPOParts:
    """The fixed pieces, built once from a config by :func:`make_parts`."""

    config: PPOConfig  # inside train, the config it was called with (its TRACED fields may be tracers)
    env: Environment  # auto-resetting (auto_reset), for training
    network: hk.Transformed  # apply(params, obs) -> (logits, value)
    optimizer: optax.GradientTransformation
    gae: GaeFn  # (rewards, values, next_values, terminated, done, gamma, lam) -> (advantages, targets)
    loss: LossFn | None  # (params, apply, batch, config) -> scalar; None: ppo_loss, with its diagnostics


def make_parts(
    config: PPOConfig,
    env: Environment | None = None,
    *,
    gae_fn: GaeFn = returns.gae,
    loss_fn: LossFn | None = None,
) -> PPOParts:
    """The network, optimiser, auto-resetting environment, GAE and loss for ``config``.

    ``gae_fn`` and ``loss_fn`` replace :func:`course_lib.returns.gae` and :func:`ppo_loss` (chapter 06
    passes the learner's own). A ``loss_fn`` implements the chapter's objective, with advantage
    normalisation and value clipping, so ``config`` must have both on.
    """
    if not isinstance(config, PPOConfig):
        raise TypeError(f"config must be a PPOConfig instance such as PPOConfig(), got {config!r}")
    if env is not None:
        rollouts.check_env(env)
    if loss_fn is not None and not (config.normalize_advantages and config.clip_value):
        raise ValueError(
            "loss_fn: a learner's PPO loss normalises advantages and clips the value, as chapter 06 "
            "teaches; with loss_fn, config.normalize_advantages and config.clip_value must be True"
        )
    if not callable(gae_fn) or (loss_fn is not None and not callable(loss_fn)):
        raise ValueError("gae_fn and loss_fn must be functions")
    env = auto_reset(CartPole() if env is None else env)
    if config.anneal_lr:
        gradient_steps = config.gradient_steps_per_update

        # Constant within an update, decreasing linearly from one update to the next (as PureJaxRL).
        def learning_rate(count: jax.Array) -> jax.Array:
            return config.learning_rate * (1.0 - (count // gradient_steps) / config.num_updates)
    else:
        learning_rate = config.learning_rate
    # One flat vector for Adam instead of one per layer (see dqn.make_parts): compile 3.8 -> 3.5 s.
    optimizer = optax.flatten(
        optax.chain(optax.clip_by_global_norm(config.max_grad_norm), optax.adam(learning_rate, eps=1e-5))
    )
    network = nets.make_actor_critic(env.num_actions, config.hidden_sizes, config.activation)
    return PPOParts(config=config, env=env, network=network, optimizer=optimizer, gae=gae_fn, loss=loss_fn)


def init_state(parts: PPOParts, key: jax.Array) -> PPOState:
    reset_key, init_key = jax.random.split(key)
    obs, env_state = jax.vmap(parts.env.reset)(jax.random.split(reset_key, parts.config.num_envs))
    params = parts.network.init(init_key, obs[0])
    return PPOState(
        params=params,
        opt_state=parts.optimizer.init(params),
        env_state=env_state,
        obs=obs,
        episode_return=jnp.zeros(parts.config.num_envs),
    )


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


def advantages_and_targets(parts: PPOParts, params: Any, rollout: Rollout) -> tuple[jax.Array, jax.Array]:
    """GAE advantages and value targets, ``(num_steps, num_envs)`` each, from ``parts.gae``.

    ``V(s_{t+1})`` is the critic's value of the true next observation: the next step's observation
    within an episode, the final observation at an episode's end. Termination zeroes it (no future);
    truncation keeps it (the time limit is not part of the task), unless
    ``config.bootstrap_truncation`` is False.
    """
    config = parts.config
    _, next_values = parts.network.apply(params, rollout.final_obs)
    as_termination = rollout.terminated | rollout.truncated
    terminated = jnp.where(config.bootstrap_truncation, rollout.terminated, as_termination)
    return parts.gae(
        rollout.reward, rollout.value, next_values, terminated, as_termination, config.gamma, config.gae_lambda
    )


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


def loss_terms(params: Any, apply: Callable, batch: Minibatch, config: PPOConfig) -> tuple[jax.Array, LossInfo]:
    """The PPO objective to *minimise* on one minibatch, and its parts.

    ``policy_loss = -mean(min(ratio * A, clip(ratio, 1 - eps, 1 + eps) * A))``: gradient *descent* on the
    negative surrogate is ascent on the surrogate. ``value_loss = 0.5 * mean(max((V - target)^2,
    (V_clipped - target)^2))`` with ``V_clipped = old_V + clip(V - old_V, -eps, eps)`` (plain squared
    error unless ``config.clip_value``). Total: ``policy_loss + vf_coef * value_loss - ent_coef *
    entropy`` (minus: entropy is a bonus). ``A`` is standardised within the minibatch when
    ``config.normalize_advantages``. ``clip_eps = inf`` clips nothing.
    """
    clip_eps = config.clip_eps
    logits, value = apply(params, batch.obs)
    new_log_prob = log_prob(logits, batch.action)
    log_ratio = new_log_prob - batch.old_log_prob
    ratio = jnp.exp(log_ratio)
    advantage = batch.advantage
    if config.normalize_advantages:
        advantage = (advantage - advantage.mean()) / (advantage.std() + 1e-8)
    clipped_ratio = jnp.clip(ratio, 1.0 - clip_eps, 1.0 + clip_eps)
    policy_loss = -jnp.minimum(ratio * advantage, clipped_ratio * advantage).mean()
    squared_error = (value - batch.target) ** 2
    if config.clip_value:
        value_clipped = batch.old_value + jnp.clip(value - batch.old_value, -clip_eps, clip_eps)
        squared_error = jnp.maximum(squared_error, (value_clipped - batch.target) ** 2)
    value_loss = 0.5 * squared_error.mean()
    mean_entropy = entropy(logits).mean()
    total = policy_loss + config.vf_coef * value_loss - config.ent_coef * mean_entropy
    info = LossInfo(
        policy_loss=policy_loss,
        value_loss=value_loss,
        entropy=mean_entropy,
        clip_fraction=(jnp.abs(ratio - 1.0) > clip_eps).mean(),
        approx_kl=((ratio - 1.0) - log_ratio).mean(),
    )
    return total, info


def ppo_loss(params: Any, apply: Callable, batch: Minibatch, config: PPOConfig) -> jax.Array:
    """The PPO loss to minimise on one minibatch, a scalar (chapter 06's exercise): :func:`loss_terms`'s
    total. Reads ``clip_eps``, ``vf_coef``, ``ent_coef``, ``normalize_advantages`` and ``clip_value``
    from ``config``."""
    return loss_terms(params, apply, batch, config)[0]


def update_minibatch(parts: PPOParts, carry: tuple[Any, Any], batch: Minibatch) -> tuple[tuple[Any, Any], LossInfo]:
    """One gradient step on one minibatch, on ``parts.loss`` (the learner's) or :func:`ppo_loss`."""
    params, opt_state = carry
    apply, config = parts.network.apply, parts.config
    if parts.loss is None:
        grads, info = jax.grad(loss_terms, has_aux=True)(params, apply, batch, config)
    else:
        grads = jax.grad(parts.loss)(params, apply, batch, config)
        info = loss_terms(params, apply, batch, config)[1]  # the diagnostics, from the reference
    updates, opt_state = parts.optimizer.update(grads, opt_state, params)
    return (optax.apply_updates(params, updates), opt_state), info


def update_epoch(
    parts: PPOParts, carry: tuple[Any, Any], samples: Minibatch, key: jax.Array
) -> tuple[tuple[Any, Any], LossInfo]:
    """One pass over all samples ``(batch, ...)`` in shuffled minibatches, a ``lax.scan`` over them."""
    config = parts.config
    order = jax.random.permutation(key, config.env_steps_per_update)
    minibatches = jax.tree.map(
        lambda leaf: leaf[order].reshape(config.num_minibatches, config.minibatch_size, *leaf.shape[1:]), samples
    )

    def step(carry, batch):
        return update_minibatch(parts, carry, batch)

    return jax.lax.scan(step, carry, minibatches)


def update(parts: PPOParts, state: PPOState, key: jax.Array) -> tuple[PPOState, UpdateMetrics]:
    """Collect a rollout, compute GAE, and learn from it for ``update_epochs`` epochs."""
    rollout_key, epochs_key = jax.random.split(key)
    state, rollout, finished = collect_rollout(parts, state, rollout_key)
    advantage, target = advantages_and_targets(parts, state.params, rollout)
    samples = Minibatch(rollout.obs, rollout.action, rollout.log_prob, rollout.value, advantage, target)
    samples = jax.tree.map(lambda leaf: leaf.reshape(-1, *leaf.shape[2:]), samples)  # (T * N, ...)

    def epoch(carry, key):
        return update_epoch(parts, carry, samples, key)

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
    gae_fn: GaeFn = returns.gae,
    loss_fn: LossFn | None = None,
    progress: Callable[[object], None] | None = None,
    progress_every: int = 25_600,
) -> Callable[..., TrainResult]:
    """A pure ``train(key, config=None) -> TrainResult`` for ``config`` (CartPole unless ``env`` is given).

    Jit it, or ``jax.jit(jax.vmap(train))`` over a batch of keys to train many seeds at once. ``train``'s
    ``config`` (default: this one) may differ from this one only in its :data:`TRACED` fields, which may
    be arrays: ``vmap`` over :func:`stack_configs` runs variants side by side, compiled once.

    Args:
        gae_fn, loss_fn: replace GAE and the PPO loss (see :func:`make_parts`); chapter 06 passes the
            learner's own.
        progress: called on the host with the number of environment steps done, at the first update at
            or past every ``progress_every`` environment steps, while the compiled loop runs (a
            :class:`course_lib.progress.ProgressBar`, for example); under ``vmap``, once per run.
    """
    parts = make_parts(config, env, gae_fn=gae_fn, loss_fn=loss_fn)
    # No learner code inside: traced checks cannot fail, and are left out (see _validate.library_only).
    library_only = env is None and gae_fn is returns.gae and loss_fn is None
    if progress is not None:
        _validate.function("progress", progress)
    _validate.positive_int("progress_every", progress_every)
    steps_per_update = config.env_steps_per_update
    total_steps = config.num_updates * steps_per_update

    def train(key: jax.Array, run_config: PPOConfig | None = None) -> TrainResult:
        _validate.key("key", key)
        if run_config is None:
            run_config = config
        elif not isinstance(run_config, PPOConfig) or run_config.fixed_part() != config.fixed_part():
            raise ValueError(
                f"config: train's config may differ from make_train's only in {', '.join(TRACED)}; "
                "make another train with make_train for other values"
            )
        run_parts = replace(parts, config=run_config)
        with _validate.library_only(library_only):
            return run(run_parts, key)

    def run(run_parts: PPOParts, key: jax.Array) -> TrainResult:
        init_key, loop_key = jax.random.split(key)
        state = init_state(run_parts, init_key)

        def step(state: PPOState, key_and_index: tuple[jax.Array, jax.Array]):
            key, index = key_and_index
            state, metrics = update(run_parts, state, key)
            progress_lib.report(
                progress, (index + 1) * steps_per_update, progress_every, last=total_steps, stride=steps_per_update
            )
            return state, metrics

        xs = (jax.random.split(loop_key, config.num_updates), jnp.arange(config.num_updates))
        state, metrics = jax.lax.scan(step, state, xs)
        return TrainResult(state.params, metrics)

    return train
