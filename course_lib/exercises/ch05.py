"""Checks for chapter 05, DQN on CartPole the JAX way."""

from __future__ import annotations

import functools
from collections.abc import Callable

import jax
import jax.numpy as jnp

from course_lib.agents import dqn
from course_lib.checking import Case, check
from course_lib.envs.cartpole import CartPoleState

# Small enough to build states by hand; uniform replay, as in the chapter's exercise.
CONFIG = dqn.DQNConfig(
    num_steps=1_000,
    hidden_sizes=(16, 16),
    batch_size=8,
    buffer_size=64,
    learning_starts=16,
    target_update_period=25,
    gamma=0.99,
    epsilon_decay_steps=200,
    eval_every=0,
)


@functools.cache
def _states() -> tuple[dqn.DQNParts, dict[str, dqn.DQNState]]:
    """Training states at the moments the exercise's cases need, made with the reference step."""
    parts = dqn.make_parts(CONFIG)
    step = jax.jit(functools.partial(dqn.train_step, parts))
    state = dqn.init_state(parts, jax.random.key(0))
    moments = {}
    for number, key in enumerate(jax.random.split(jax.random.key(1), 40)):
        if number in (3, 20, 24):  # before learning starts; learning; the step before a target update
            moments[number] = state
        state, _ = step(state, key)

    def with_cart(base: dqn.DQNState, cart: CartPoleState, episode_return: float) -> dqn.DQNState:
        obs = jnp.stack([cart.x, cart.x_dot, cart.theta, cart.theta_dot])
        return base._replace(env_state=cart, obs=obs, episode_return=jnp.float32(episode_return))

    f32 = jnp.float32
    falling = CartPoleState(f32(0.1), f32(0.0), f32(0.2), f32(2.0), jnp.int32(30))  # past 12° next step
    upright_at_limit = CartPoleState(f32(0.0), f32(0.0), f32(0.0), f32(0.0), jnp.int32(499))
    moments["terminated"] = with_cart(state, falling, 30.0)
    moments["truncated"] = with_cart(state, upright_at_limit, 499.0)
    return parts, moments


def check_train_step(fn: Callable) -> Callable:
    """Exercise 5.1: ``train_step(parts, state, key) -> (state, StepMetrics)`` with uniform replay."""
    parts, states = _states()
    key = jax.random.key(42)
    cases = [
        Case(
            "a step while learning, in the middle of an episode",
            (parts, states[20], key),
            hint="act epsilon-greedily with parts.epsilon(state.step); step parts.env; store "
            "dqn.Transition(state.obs, action, reward, info['final_observation'], terminated) with uniform.add; "
            "then learn when step >= learning_starts and step % train_every == 0, where step = state.step + 1.",
        ),
        Case(
            "a step before learning starts (step 4 of 16)",
            (parts, states[3], key),
            hint="no gradient step before config.learning_starts: use jax.lax.cond(due, learn, skip_learning, "
            "state) with dqn.learn and dqn.skip_learning, and report the loss as 0 when no update ran.",
        ),
        Case(
            "the step that updates the target network (step 25, period 25)",
            (parts, states[24], key),
            hint="when (state.step + 1) % config.target_update_period == 0, set target_params to "
            "optax.incremental_update(new_params, target_params, config.tau), using the parameters "
            "after this step's update.",
        ),
        Case(
            "the 500-step time limit: the episode is truncated",
            (parts, states["truncated"], key),
            hint="store info['final_observation'] as next_obs (after an episode ends, the observation "
            "step returns is already the next episode's first), and terminated, not terminated | truncated: "
            "on a time limit the target must still bootstrap. The episode does end (done = terminated | "
            "truncated): report its return, this step's reward included, and start the next at 0.",
        ),
        Case(
            "the pole falls: the episode is terminated",
            (parts, states["terminated"], key),
            hint="store info['final_observation'] as next_obs and terminated = True; report the finished "
            "episode's return (this step's reward included) in StepMetrics and start the next at 0.",
        ),
    ]
    # Compiled, a step takes microseconds; op by op, hundreds of milliseconds.
    return check(
        "Exercise 5.1 (train_step)",
        fn,
        dqn.train_step,
        cases,
        rtol=1e-4,
        atol=1e-5,
        jit=True,
        static_argnums=(0,),
        compile_first=True,
    )
