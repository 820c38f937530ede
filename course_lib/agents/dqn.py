"""Deep Q-networks (Mnih et al. 2015): the whole training run as one pure function, ``make_train(config)``
(chapter 05). Acting and the loss (chapter 02's exercises) live in :mod:`course_lib.agents.dqn_loss` and
are re-exported here, so ``dqn.td_error`` is the one TD error both chapters use.

A Q-network maps an observation ``(obs_dim,)`` to Q-values ``(num_actions,)``; ``q_apply`` below is its
``apply(params, obs)`` (see :mod:`course_lib.nets`). The target network is the same function with other
parameters, ``target_params``. Soft (Polyak) and periodic hard target updates are
``optax.incremental_update`` and ``optax.periodic_update``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import haiku as hk
import jax
import jax.numpy as jnp
import optax

from course_lib import _validate, nets, rollouts
from course_lib import progress as progress_lib
from course_lib.buffers import replay as replay_lib
from course_lib.buffers import uniform
from course_lib.envs import CartPole, Environment, auto_reset

# The loss pieces live in dqn_loss (one job a module); re-exported so chapters write dqn.td_error etc.
from course_lib.agents.dqn_loss import (  # noqa: F401
    LOSSES,
    QApply,
    Transition,
    elementwise_loss,
    select_action,
    td_error,
    td_target,
    transition_loss,
)

# --- The whole training run: make_train(config) returns a pure train(key). ------------------------------


@dataclass(frozen=True)
class DQNConfig:
    """Every setting of a DQN run on one environment. Frozen, so a config is hashable and can be static under jit.

    The defaults are the configuration of the article this course grew from (see chapter 05).
    """

    num_steps: int = 20_000  # environment steps of training, counted over all environments
    num_envs: int = 1  # environments stepped side by side; each training step takes num_envs environment steps
    hidden_sizes: tuple[int, ...] = (64, 64, 64)  # the Q-network's hidden layers (ReLU MLP)
    batch_size: int = 32  # transitions per gradient update
    buffer_size: int = 512  # replay capacity in transitions; the oldest is overwritten first
    learning_starts: int = 32  # steps of experience to collect before the first update (>= batch_size)
    train_every: int = 1  # one gradient update every this many environment steps
    target_update_period: int = 10  # update the target network every this many environment steps
    tau: float = 1.0  # target update: 1.0 copies the online parameters; < 1 is a Polyak (soft) update
    gamma: float = 0.9  # discount
    learning_rate: float = 1e-3  # Adam's step size
    anneal_learning_rate: bool = False  # decay the step size linearly to 0 over training
    max_grad_norm: float = 10.0  # clip each update's gradient to this global norm
    epsilon_start: float = 1.0  # exploration at step 0 ...
    epsilon_end: float = 0.05  # ... decays linearly to this ...
    epsilon_decay_steps: int = 10_000  # ... over this many steps, then stays
    loss: str = "huber"  # "huber" (delta 1) or "squared" (half the squared TD error)
    double_dqn: bool = False  # pick a' with the online network, value it with the target (van Hasselt 2016)
    prioritized: bool = False  # proportional prioritized replay (Schaul et al. 2016) instead of uniform
    priority_alpha: float = 0.6  # prioritized only: P(i) proportional to p_i^alpha
    priority_beta_start: float = 0.4  # prioritized only: IS-weight exponent, annealed linearly to 1
    eval_every: int = 1_000  # greedy evaluation every this many steps; 0 turns evaluation off
    eval_episodes: int = 20  # greedy episodes per evaluation, run side by side with vmap
    stop_at: float | None = None  # end training at the first evaluation whose mean return reaches this

    def __post_init__(self) -> None:
        _validate_common(self)
        _validate.non_negative_int("eval_every", self.eval_every)
        for name in (
            "num_steps",
            "num_envs",
            "batch_size",
            "buffer_size",
            "train_every",
            "target_update_period",
            "epsilon_decay_steps",
            "eval_episodes",
        ):
            _validate.positive_int(name, getattr(self, name))
        if self.buffer_size < self.batch_size:
            raise ValueError(f"buffer_size must be >= batch_size ({self.batch_size}), got {self.buffer_size}")
        if isinstance(self.learning_starts, bool) or not isinstance(self.learning_starts, int):
            raise ValueError(f"learning_starts must be a whole number, got {self.learning_starts!r}")
        if self.learning_starts < self.batch_size:
            raise ValueError(
                f"learning_starts must be >= batch_size ({self.batch_size}), got {self.learning_starts}"
            )
        if self.eval_every < 0 or (self.eval_every and self.num_steps % self.eval_every):
            raise ValueError(
                f"eval_every must be 0 or divide num_steps ({self.num_steps}), got {self.eval_every}"
            )
        period = max(self.train_every, self.num_envs)  # updates fall on training steps
        first_update = -(-self.learning_starts // period) * period
        if first_update > self.num_steps:
            raise ValueError(
                f"num_steps ({self.num_steps}) must reach the first update, at step {first_update} "
                f"(learning_starts {self.learning_starts}, train_every {self.train_every}): "
                "this run would train without a single update"
            )
        if self.num_envs > 1:
            self._validate_num_envs()
        if self.stop_at is not None:
            if not self.eval_every:
                raise ValueError("stop_at needs evaluations to stop on: set eval_every > 0, or stop_at=None")
            _validate.finite("stop_at", self.stop_at)
            _validate.scalar("stop_at", self.stop_at, "a mean return such as 475.0")
        _validate.one_of("loss", self.loss, LOSSES)
        _validate.in_range("tau", self.tau, 0.0, 1.0, low_open=True)  # 0 would never move the target
        for name in ("double_dqn", "prioritized", "anneal_learning_rate"):
            _validate.boolean(name, getattr(self, name))
        for name, low, high in (
            ("gamma", 0.0, 1.0),
            ("priority_alpha", 0.0, 1.0),
            ("priority_beta_start", 0.0, 1.0),
            ("epsilon_start", 0.0, 1.0),
            ("epsilon_end", 0.0, 1.0),
        ):
            _validate.in_range(name, getattr(self, name), low, high)


    def _validate_num_envs(self) -> None:
        """With several environments a training step takes ``num_envs`` environment steps at once, so every
        period counted in environment steps must fall on a training step."""
        n = self.num_envs
        for name in ("num_steps", "target_update_period") + (("eval_every",) if self.eval_every else ()):
            if getattr(self, name) % n:
                raise ValueError(f"{name} must be a multiple of num_envs ({n}), got {getattr(self, name)}")
        if n % self.train_every and self.train_every % n:
            raise ValueError(
                f"train_every ({self.train_every}) and num_envs ({n}) must divide one another: "
                f"{max(1, n // self.train_every)} update(s) every {max(n, self.train_every)} environment steps"
            )

    @property
    def updates_per_step(self) -> int:
        """Gradient updates in one training step when they are due: ``num_envs / train_every`` if that is
        at least 1 (the replay ratio stays one update per ``train_every`` environment steps)."""
        return max(1, self.num_envs // self.train_every)


def _validate_common(config: Any) -> None:
    """Checks DQNConfig and PPOConfig share: a step size and a gradient norm > 0, and ``hidden_sizes`` a
    tuple (a list is turned into one, so the frozen config stays hashable)."""
    if isinstance(config.hidden_sizes, list):
        object.__setattr__(config, "hidden_sizes", tuple(config.hidden_sizes))
    if not isinstance(config.hidden_sizes, tuple):
        raise TypeError(f"hidden_sizes must be a tuple of layer widths such as (64, 64), got {config.hidden_sizes!r}")
    for index, size in enumerate(config.hidden_sizes):
        _validate.positive_int(f"hidden_sizes[{index}]", size)
    _validate.positive("learning_rate", config.learning_rate)
    _validate.positive("max_grad_norm", config.max_grad_norm)  # 0 would clip every update to nothing


ARTICLE_CONFIG = DQNConfig()
"""The configuration of the article this course grew from (chapter 05): it learns, but does not solve."""

TUNED_CONFIG = DQNConfig(
    num_steps=64_000,
    hidden_sizes=(64, 64),
    batch_size=64,
    buffer_size=50_000,
    learning_starts=1_000,
    train_every=4,
    target_update_period=256,
    gamma=0.99,
    learning_rate=5e-3,
    double_dqn=True,
    epsilon_end=0.04,
    epsilon_decay_steps=8_000,
    eval_every=1_000,
    eval_episodes=20,
)
"""Solves CartPole-v1 (greedy mean >= 475 over 20 episodes) on one environment, on most seeds with the
best parameters kept; chapter 05 measures how many. From the RL Baselines3 Zoo's tuned CartPole DQN it
keeps the discount, batch size, learning_starts and exploration; it spreads the updates out (one every
4 steps instead of 128 every 256), keeps a slower target (every 256 steps; Zoo: every 10) and a smaller
buffer (Zoo: 100,000). The network (64-64; Zoo: 256-256), the step size (5e-3; Zoo: 2.3e-3) and Double
DQN were chosen by a sweep over 8 seeds per point (step size 2.3e-3, 5e-3 or 1e-2; an update every 4
or 8 steps; Double DQN or not): 28 of 32 seeds solved (keys 1, 3, 4 and chapter 05's), against 29 of
32 for the earlier 128-128 network at 2.3e-3, which cost 2.5 times as long: at a batch of 64, a
128-128 network's updates are arithmetic the two cores feel, four times a 64-64 network's."""


FAST_CONFIG = DQNConfig(
    num_steps=128_000,
    num_envs=8,
    hidden_sizes=(64, 64),
    batch_size=64,
    buffer_size=50_000,
    learning_starts=1_000,
    train_every=8,
    target_update_period=256,
    gamma=0.99,
    learning_rate=1e-2,
    double_dqn=True,
    epsilon_end=0.04,
    epsilon_decay_steps=4_000,
    eval_every=1_000,
    eval_episodes=20,
    stop_at=475.0,
)
"""DQN solving CartPole-v1 in about half a second of compiled training: 8 environments side by side
(one batched forward pass acts for all of them), one update per training step (one per 8 environment
steps), a 64-64 network, Double DQN and a large step size, and training that stops at the first
greedy evaluation (20 episodes) whose mean reaches 475. Step size, target period, exploration and
updates per step were chosen by a sweep over 8 seeds per point. With 64,000 steps and exploration
decaying over 8,000, 29 of 32 seeds solved (keys split from key 123); a seed that has not solved by
then usually does later, so the budget is 128,000 steps, which only those seeds spend, and exploration
decays over 4,000: 94 of 96 seeds solved (32 of 32 split from key 123, 62 of 64 from key 2026), after
a median of 35,500 and 37,000 steps (``make bench`` and chapter 05 measure it)."""


class DQNState(NamedTuple):
    """Everything that changes during training, carried through ``lax.scan``."""

    params: Any
    target_params: Any
    opt_state: Any
    buffer: Any  # the state of parts.replay: uniform.UniformBufferState or prioritized.PrioritizedBufferState
    obs: jax.Array  # (obs_dim,) the current observation; (num_envs, obs_dim) with several environments
    env_state: Any  # one environment's state, or num_envs of them stacked
    episode_return: jax.Array  # () float32, the running return of the current episode; (num_envs,)
    step: jax.Array  # () int32, environment steps taken


class StepMetrics(NamedTuple):
    """What one training step reports (stacked by scan to ``(num_steps,)``)."""

    done: jax.Array  # bool: an episode ended at this step
    episode_return: jax.Array  # float32: that episode's return where done, else 0
    loss: jax.Array  # float32: the update's loss (0 where no update ran)


class TrainResult(NamedTuple):
    params: Any  # the final online parameters
    steps: StepMetrics  # every leaf (num_steps,)
    eval_returns: jax.Array  # (num_steps // eval_every,) mean greedy return per evaluation; (0,) if off; NaN after a stop (stop_at)
    best_params: Any  # the parameters of the best evaluation so far (the final ones if evaluation is off)
    best_return: jax.Array  # () that evaluation's mean greedy return (-inf if evaluation is off)


@dataclass(frozen=True)
class DQNParts:
    """The fixed pieces a training step uses, built once from a config by :func:`make_parts`."""

    config: DQNConfig
    env: Environment  # auto-resetting (auto_reset), for training
    q_network: hk.Transformed
    optimizer: optax.GradientTransformation
    epsilon: optax.Schedule
    replay: replay_lib.Replay  # uniform or prioritized, chosen here once from config.prioritized


def make_parts(
    config: DQNConfig,
    env: Environment | None = None,
    *,
    buffer_add: Callable = uniform.add,
    buffer_sample: Callable = uniform.sample,
) -> DQNParts:
    """The network, optimiser, exploration schedule, replay buffer and auto-resetting environment for
    ``config``.

    ``buffer_add(state, transition)`` and ``buffer_sample(state, key, batch_size)`` are uniform replay's
    two functions (chapter 03 passes the learner's own); they apply only when ``config.prioritized`` is
    False.
    """
    if not isinstance(config, DQNConfig):
        raise TypeError(f"config must be a DQNConfig instance such as DQNConfig(), got {config!r}")
    if env is not None:
        rollouts.check_env(env)
    _validate.function("buffer_add", buffer_add)
    _validate.function("buffer_sample", buffer_sample)
    custom_buffer = buffer_add is not uniform.add or buffer_sample is not uniform.sample
    if config.prioritized and custom_buffer:
        raise ValueError(
            "buffer_add and buffer_sample replace the uniform buffer's functions; with them, "
            "config.prioritized must be False"
        )
    env = auto_reset(CartPole() if env is None else env)
    num_updates = max(1, (config.num_steps - config.learning_starts) // config.train_every)
    learning_rate = (
        optax.linear_schedule(config.learning_rate, 0.0, num_updates)
        if config.anneal_learning_rate
        else config.learning_rate
    )
    return DQNParts(
        config=config,
        env=env,
        q_network=nets.make_q_network(env.num_actions, config.hidden_sizes),
        # Adam on one flat vector of every parameter, not one array per layer: the same arithmetic element
        # by element, in a few large operations instead of many small ones. ARTICLE_CONFIG ran 10.5k ->
        # 13.2k steps/s and compiled 0.3 s faster (make bench's dqn_scan, alternating processes). The global norm sums
        # in another order, so runs differ in the last bits, as on another CPU.
        optimizer=optax.flatten(optax.chain(optax.clip_by_global_norm(config.max_grad_norm), optax.adam(learning_rate))),
        epsilon=optax.linear_schedule(config.epsilon_start, config.epsilon_end, config.epsilon_decay_steps),
        replay=(
            replay_lib.prioritized_replay(
                config.buffer_size,
                config.batch_size,
                alpha=config.priority_alpha,
                beta_start=config.priority_beta_start,
                beta_steps=config.num_steps,
            )
            if config.prioritized
            else replay_lib.uniform_replay(config.buffer_size, config.batch_size, add=buffer_add, sample=buffer_sample)
        ),
    )


def init_state(parts: DQNParts, key: jax.Array) -> DQNState:
    """Fresh network (online = target), optimiser state, an empty buffer and reset environments (one, or
    ``config.num_envs`` side by side)."""
    reset_key, init_key = jax.random.split(key)
    num_envs = parts.config.num_envs
    if num_envs == 1:
        obs, env_state = parts.env.reset(reset_key)
        one_obs = obs
    else:
        obs, env_state = jax.vmap(parts.env.reset)(jax.random.split(reset_key, num_envs))
        one_obs = obs[0]
    params = parts.q_network.init(init_key, one_obs)
    example = Transition(one_obs, jnp.int32(0), jnp.float32(0.0), one_obs, jnp.array(False))
    buffer = parts.replay.init(example)
    return DQNState(
        params=params,
        target_params=params,
        opt_state=parts.optimizer.init(params),
        buffer=buffer,
        obs=obs,
        env_state=env_state,
        episode_return=jnp.zeros(() if num_envs == 1 else (num_envs,), jnp.float32),
        step=jnp.zeros((), jnp.int32),
    )


def update_loss(
    online_params: Any, parts: DQNParts, target_params: Any, batch: Transition, weights: jax.Array
) -> tuple[jax.Array, jax.Array]:
    """The weighted batch loss to differentiate (``weights``: importance-sampling weights, ones for
    uniform replay), and the TD errors ``(batch,)`` (for priorities) as auxiliary output: chapter 02's
    ``td_error`` and ``elementwise_loss`` over a batch."""
    config = parts.config
    errors = jax.vmap(td_error, in_axes=(None, None, None, 0, None, None))(
        parts.q_network.apply, online_params, target_params, batch, config.gamma, config.double_dqn
    )
    return (weights * elementwise_loss(errors, config.loss)).mean(), errors


class Learned(NamedTuple):
    """What one gradient step changes. The stored transitions are not in here on purpose: under ``vmap``
    a ``lax.cond`` becomes a ``select`` over its outputs, and returning the whole buffer would copy all of
    it every step. Only the buffer's bookkeeping comes back (``replay.bookkeeping``: positions, sizes and,
    for prioritized replay, the priorities the step refreshed)."""

    params: Any
    opt_state: Any
    replay: Any  # the buffer's state with data=None
    loss: jax.Array  # () float32


def learn(parts: DQNParts, state: DQNState, key: jax.Array) -> Learned:
    """Sample a batch, take one gradient step, and give the replay buffer the batch's TD errors."""
    batch, indices, weights = parts.replay.sample(state.buffer, key, state.step)
    (loss, errors), grads = jax.value_and_grad(update_loss, has_aux=True)(
        state.params, parts, state.target_params, batch, weights
    )
    updates, opt_state = parts.optimizer.update(grads, state.opt_state, state.params)
    buffer = parts.replay.update(state.buffer, indices, errors)
    return Learned(
        params=optax.apply_updates(state.params, updates),
        opt_state=opt_state,
        replay=replay_lib.bookkeeping(buffer),
        loss=loss,
    )


def skip_learning(state: DQNState) -> Learned:
    """The no-update branch of :func:`train_step`, shaped like :func:`learn`'s result."""
    return Learned(
        params=state.params,
        opt_state=state.opt_state,
        replay=replay_lib.bookkeeping(state.buffer),
        loss=jnp.zeros((), jnp.float32),
    )


def train_step(parts: DQNParts, state: DQNState, key: jax.Array) -> tuple[DQNState, StepMetrics]:
    """One environment step of DQN: act, step, store, learn (when due), update the target (when due)."""
    config = parts.config
    action_key, env_key, learn_key = jax.random.split(key, 3)
    action = select_action(
        parts.q_network.apply, action_key, state.params, state.obs, parts.epsilon(state.step)
    )
    obs, env_state, reward, terminated, truncated, info = parts.env.step(env_key, state.env_state, action)
    # Store the true next observation: on truncation the target bootstraps from it.
    transition = Transition(state.obs, action, reward, info["final_observation"], terminated)
    state = state._replace(buffer=parts.replay.add(state.buffer, transition))

    step = state.step + 1
    due = (step >= config.learning_starts) & (step % config.train_every == 0)
    learned = jax.lax.cond(due, lambda s: learn(parts, s, learn_key), skip_learning, state)
    state = with_learned(state, learned)
    state, done, episode_return = finish_step(parts, state, step, obs, env_state, reward, terminated | truncated)
    return state, StepMetrics(done, jnp.where(done, episode_return, 0.0), learned.loss)


def with_learned(state: DQNState, learned: Learned) -> DQNState:
    """``state`` after a gradient step: its parameters, optimiser state and the buffer's bookkeeping."""
    return state._replace(
        params=learned.params,
        opt_state=learned.opt_state,
        buffer=replay_lib.with_data(learned.replay, state.buffer.data),
    )


def finish_step(
    parts: DQNParts, state: DQNState, step: jax.Array, obs: jax.Array, env_state: Any, reward: jax.Array,
    done: jax.Array,
) -> tuple[DQNState, jax.Array, jax.Array]:
    """The end of a training step, one environment or several: the target update (when ``step`` is a
    multiple of its period), the next observation, the running returns (zeroed where an episode ended)
    and the step count. Returns the state, ``done`` and the returns including this step's reward."""
    config = parts.config
    target_params = jax.lax.cond(
        step % config.target_update_period == 0,
        lambda: optax.incremental_update(state.params, state.target_params, config.tau),
        lambda: state.target_params,
    )
    episode_return = state.episode_return + reward
    state = state._replace(
        target_params=target_params,
        obs=obs,
        env_state=env_state,
        episode_return=jnp.where(done, 0.0, episode_return),
        step=step,
    )
    return state, done, episode_return


def vector_train_step(parts: DQNParts, state: DQNState, key: jax.Array) -> tuple[DQNState, StepMetrics]:
    """One training step over ``config.num_envs`` environments side by side: each acts (one batched
    forward pass) and steps, the buffer stores all their transitions, then ``config.updates_per_step``
    gradient updates run when due, so the replay ratio stays one update per ``train_every`` environment
    steps. The same algorithm as :func:`train_step`; the fixed cost of a step (dispatching every small
    operation, about as costly as the arithmetic at these sizes) is paid once per ``num_envs``
    environment steps instead of once per step. (PQN, Gallici et al. 2024, scales DQN out the same way.)

    Metrics are per environment, ``(num_envs,)``; the step's mean loss sits at the last environment."""
    config = parts.config
    num_envs = config.num_envs
    keys = jax.random.split(key, 2 * num_envs + 1)  # one split, not three: each compiles to a loop
    action_keys, env_keys, learn_key = keys[:num_envs], keys[num_envs:-1], keys[-1]
    epsilon = parts.epsilon(state.step)
    act = jax.vmap(select_action, in_axes=(None, 0, None, 0, None))
    action = act(parts.q_network.apply, action_keys, state.params, state.obs, epsilon)
    obs, env_state, reward, terminated, truncated, info = jax.vmap(parts.env.step)(env_keys, state.env_state, action)
    transitions = Transition(state.obs, action, reward, info["final_observation"], terminated)
    buffer, _ = jax.lax.scan(lambda buffer, one: (parts.replay.add(buffer, one), None), state.buffer, transitions)
    state = state._replace(buffer=buffer)

    step = state.step + num_envs
    due = (step >= config.learning_starts) & (step % max(config.train_every, num_envs) == 0)

    def one_update(state: DQNState, key: jax.Array) -> tuple[DQNState, jax.Array]:
        learned = learn(parts, state, key)
        return with_learned(state, learned), learned.loss

    def updates(state: DQNState) -> tuple[DQNState, jax.Array]:
        state, losses = jax.lax.scan(one_update, state, jax.random.split(learn_key, config.updates_per_step))
        return state, losses.mean()

    state, loss = jax.lax.cond(due, updates, lambda state: (state, jnp.zeros((), jnp.float32)), state)
    state, done, episode_return = finish_step(parts, state, step, obs, env_state, reward, terminated | truncated)
    losses = jnp.zeros(num_envs, jnp.float32).at[-1].set(loss)
    return state, StepMetrics(done, jnp.where(done, episode_return, 0.0), losses)


def greedy_return(parts: DQNParts, params: Any, key: jax.Array, num_episodes: int) -> jax.Array:
    """Mean return of ``num_episodes`` greedy episodes, run side by side (each ends at its time limit)."""
    num_episodes = _validate.positive_int("num_episodes", num_episodes)

    def greedy(key: jax.Array, obs: jax.Array) -> jax.Array:
        return jnp.argmax(parts.q_network.apply(params, obs))

    return rollouts.episode_returns(parts.env, greedy, key, num_episodes).mean()  # unwraps auto-reset


StepFn = Callable[[DQNParts, DQNState, jax.Array], tuple[DQNState, StepMetrics]]


def make_train(
    config: DQNConfig,
    env: Environment | None = None,
    *,
    step_fn: StepFn | None = None,
    buffer_add: Callable = uniform.add,
    buffer_sample: Callable = uniform.sample,
    progress: Callable[[object], None] | None = None,
    progress_every: int = 1_000,
) -> Callable[[jax.Array], TrainResult]:
    """A pure ``train(key) -> TrainResult`` for ``config`` (CartPole unless ``env`` is given).

    Jit it, or ``jax.jit(jax.vmap(train))`` over a batch of keys to train many seeds at once.

    Args:
        step_fn: one training step, ``(parts, state, key) -> (state, metrics)``; chapter 05 passes the
            learner's own. Default: :func:`train_step`, or :func:`vector_train_step` when
            ``config.num_envs`` > 1 (a step_fn given with several environments must handle them).
        buffer_add, buffer_sample: uniform replay's two functions (see :func:`make_parts`); chapter 03
            passes the learner's own.
        progress: called on the host with the number of steps done, every ``progress_every`` steps,
            while the compiled loop runs (a :class:`course_lib.progress.ProgressBar`, for example).
            A run that stops early (``config.stop_at``) leaves it where training stopped.
    """
    parts = make_parts(config, env, buffer_add=buffer_add, buffer_sample=buffer_sample)
    # No learner code inside: traced checks cannot fail, and are left out (see _validate.library_only).
    library_only = env is None and step_fn is None and (buffer_add, buffer_sample) == (uniform.add, uniform.sample)
    if step_fn is None:
        step_fn = train_step if config.num_envs == 1 else vector_train_step
    _validate.function("step_fn", step_fn)
    if progress is not None:
        _validate.function("progress", progress)
    _validate.positive_int("progress_every", progress_every)
    num_envs = config.num_envs

    def step(state: DQNState, key: jax.Array) -> tuple[DQNState, StepMetrics]:
        state, metrics = step_fn(parts, state, key)
        progress_lib.report(progress, state.step, progress_every, last=config.num_steps, stride=num_envs)
        return state, metrics

    def per_env_step(metrics: StepMetrics) -> StepMetrics:
        """Every leaf ``(num_steps,)``: training steps times environments, in order."""
        return jax.tree.map(lambda leaf: leaf.reshape(config.num_steps), metrics)

    def train(key: jax.Array) -> TrainResult:
        _validate.key("key", key)
        with _validate.library_only(library_only):
            return run(key)

    def run(key: jax.Array) -> TrainResult:
        init_key, loop_key, eval_key = jax.random.split(key, 3)
        state = init_state(parts, init_key)
        if not config.eval_every:
            state, metrics = jax.lax.scan(step, state, jax.random.split(loop_key, config.num_steps // num_envs))
            no_evaluation = jnp.zeros((0,), jnp.float32)
            return TrainResult(state.params, per_env_step(metrics), no_evaluation, state.params, jnp.float32(-jnp.inf))

        def train_then_evaluate(carry: tuple[DQNState, Any, jax.Array], keys: tuple[jax.Array, jax.Array]):
            state, best_params, best_return = carry
            chunk_key, evaluate_key = keys
            state, metrics = jax.lax.scan(step, state, jax.random.split(chunk_key, config.eval_every // num_envs))
            mean_return = greedy_return(parts, state.params, evaluate_key, config.eval_episodes)
            better = mean_return > best_return
            best_params = jax.tree.map(lambda new, old: jnp.where(better, new, old), state.params, best_params)
            best_return = jnp.maximum(mean_return, best_return)
            return (state, best_params, best_return), (metrics, mean_return)

        num_chunks = config.num_steps // config.eval_every
        chunk_keys = (jax.random.split(loop_key, num_chunks), jax.random.split(eval_key, num_chunks))
        carry = (state, state.params, jnp.float32(-jnp.inf))
        if config.stop_at is None:
            (state, best_params, best_return), (metrics, eval_returns) = jax.lax.scan(
                train_then_evaluate, carry, chunk_keys
            )
        else:
            carry, (metrics, eval_returns) = until_solved(train_then_evaluate, carry, chunk_keys)
            state, best_params, best_return = carry
        return TrainResult(state.params, per_env_step(metrics), eval_returns, best_params, best_return)

    def until_solved(chunk: Callable, carry: Any, chunk_keys: Any) -> tuple[Any, Any]:
        """``lax.scan(chunk, carry, chunk_keys)`` that stops after the first evaluation at or above
        ``config.stop_at``: a ``lax.while_loop`` writing each chunk's outputs in place. The chunks it
        never ran report what a step without an episode reports (done False, zeros), and NaN for their
        evaluation. The chunks it ran are exactly the scan's: the same keys in the same order."""
        num_chunks = config.num_steps // config.eval_every
        one_chunk = jax.eval_shape(chunk, carry, jax.tree.map(lambda keys: keys[0], chunk_keys))[1]
        outputs = jax.tree.map(lambda leaf: jnp.zeros((num_chunks, *leaf.shape), leaf.dtype), one_chunk)
        outputs = (outputs[0], jnp.full((num_chunks,), jnp.nan, jnp.float32))

        def not_done(loop: tuple[jax.Array, Any, Any]) -> jax.Array:
            index, (_, _, best_return), _ = loop
            return (index < num_chunks) & (best_return < config.stop_at)

        def run_chunk(loop: tuple[jax.Array, Any, Any]) -> tuple[jax.Array, Any, Any]:
            index, carry, outputs = loop
            carry, produced = chunk(carry, jax.tree.map(lambda keys: keys[index], chunk_keys))
            outputs = jax.tree.map(lambda stacked, new: stacked.at[index].set(new), outputs, produced)
            return index + 1, carry, outputs

        _, carry, outputs = jax.lax.while_loop(not_done, run_chunk, (jnp.int32(0), carry, outputs))
        return carry, outputs

    return train
