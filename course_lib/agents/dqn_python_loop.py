"""DQN the way most tutorials write it: a Python loop over gymnasium's CartPole, a NumPy replay buffer, and
jitted functions for acting and for the update.

Same network, loss, optimiser, exploration schedule and target updates as :mod:`course_lib.agents.dqn`
(it reuses :func:`~course_lib.agents.dqn.make_parts`), so that chapter 05 and the benchmarks can time the
two on the same configuration. The difference is only where the loop runs: here Python calls into
compiled code several times per environment step; ``dqn.make_train`` compiles the whole loop once.
"""

from __future__ import annotations

import time
from typing import NamedTuple

import gymnasium as gym
import jax
import jax.numpy as jnp
import numpy as np
import optax

from course_lib import _validate
from course_lib.agents import dqn


class LoopResult(NamedTuple):
    episode_returns: list[float]  # the return of every episode that finished, in order
    steps_per_second: float  # environment steps per second over the second half of the run (compiled)
    seconds: float  # wall time of the whole run, compilation included


def train(config: dqn.DQNConfig, num_steps: int, seed: int = 0) -> LoopResult:
    """Run ``num_steps`` steps of DQN with ``config`` on ``gymnasium``'s CartPole-v1, in a Python loop.

    Uniform replay only (plain or Double DQN, from ``config.double_dqn`` through ``dqn.update_loss``);
    evaluation is not run here.
    """
    _validate.positive_int("num_steps", num_steps)
    if config.prioritized:
        raise ValueError("config: the Python-loop DQN does not support prioritized replay (prioritized=True)")
    parts = dqn.make_parts(config)
    q_apply, optimizer = parts.q_network.apply, parts.optimizer

    @jax.jit
    def greedy_action(params, obs):
        return jnp.argmax(q_apply(params, obs))

    # parts.epsilon, the scan's own Optax schedule, evaluated once for every step: one schedule for both
    # loops, and no JAX call per step inside the timed Python loop.
    epsilons = np.asarray(parts.epsilon(jnp.arange(num_steps)))

    @jax.jit
    def update(params, target_params, opt_state, batch):
        weights = jnp.ones(config.batch_size)
        (loss, _), grads = jax.value_and_grad(dqn.update_loss, has_aux=True)(
            params, parts, target_params, batch, weights
        )
        updates, opt_state = optimizer.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss

    env = gym.make("CartPole-v1")
    rng = np.random.default_rng(seed)
    obs, _ = env.reset(seed=seed)
    params = parts.q_network.init(jax.random.key(seed), jnp.asarray(obs))
    target_params, opt_state = params, optimizer.init(params)
    greedy_action(params, obs).block_until_ready()  # compile now, not inside the timed steady state
    capacity = config.buffer_size
    buffer = dqn.Transition(
        obs=np.zeros((capacity, obs.size), np.float32),
        action=np.zeros(capacity, np.int32),
        reward=np.zeros(capacity, np.float32),
        next_obs=np.zeros((capacity, obs.size), np.float32),
        terminated=np.zeros(capacity, bool),
    )
    size, returns, episode_return = 0, [], 0.0
    started = time.perf_counter()
    steady_from = steady_start = None
    for step in range(1, num_steps + 1):
        if rng.random() < epsilons[step - 1]:
            action = int(rng.integers(env.action_space.n))
        else:
            action = int(greedy_action(params, obs))
        next_obs, reward, terminated, truncated, _ = env.step(action)
        slot = (step - 1) % capacity
        for field, value in zip(buffer, (obs, action, reward, next_obs, terminated)):
            field[slot] = value
        size = min(size + 1, capacity)
        episode_return += reward
        obs = next_obs
        if terminated or truncated:
            returns.append(episode_return)
            episode_return = 0.0
            obs, _ = env.reset()
        if step >= config.learning_starts and step % config.train_every == 0:
            indices = rng.integers(0, size, config.batch_size)
            batch = dqn.Transition(*(field[indices] for field in buffer))
            params, opt_state, _ = update(params, target_params, opt_state, batch)
            if steady_from is None and step >= num_steps // 2:
                # Time the second half only: by then every jitted function (and each eager op the
                # target update runs) has compiled, and a weak-typed first call has been recompiled.
                jax.block_until_ready(params)
                steady_from, steady_start = step, time.perf_counter()
        if step % config.target_update_period == 0:
            target_params = optax.incremental_update(params, target_params, config.tau)
    jax.block_until_ready(params)
    ended = time.perf_counter()
    steady_steps = num_steps - (steady_from or 0)
    rate = steady_steps / (ended - steady_start) if steady_from is not None and steady_steps else 0.0
    env.close()
    return LoopResult(returns, rate, ended - started)
