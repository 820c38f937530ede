"""Checks for chapter 05, DQN on CartPole the JAX way.

The learner's ``train_step`` runs inside the chapter's compiled ``lax.scan``, so it is checked compiled,
on states at every boundary of a step: before learning starts, the first update at ``learning_starts``,
a step between two updates (``train_every = 2``), a soft target update (``tau = 0.3``) and the step after
it, a termination and a truncation. Exploration is off in those cases (epsilon 0), so any correct way of drawing the
epsilon-greedy action gives the same trajectory; a separate case judges the exploration by the
distribution of actions over many keys.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable

import jax
import jax.numpy as jnp
import optax

from course_lib.agents import dqn
from course_lib.buffers import replay as replay_lib
from course_lib.checking import Case, Mistake, Verdict, check, evaluate_sampler
from course_lib.envs.cartpole import CartPoleState

# Small enough to build states by hand; uniform replay, as in the chapter's exercise. Greedy (epsilon 0)
# so the cases do not depend on how a learner draws; updates every 2nd step; a soft target update.
CONFIG = dqn.DQNConfig(
    num_steps=1_000,
    hidden_sizes=(16, 16),
    batch_size=8,
    buffer_size=64,
    learning_starts=16,
    train_every=2,
    target_update_period=25,
    tau=0.3,
    gamma=0.97,
    epsilon_start=0.0,
    epsilon_end=0.0,
    epsilon_decay_steps=200,
    eval_every=0,
)
# Exploring: epsilon falls from 1 to 0 over 10 steps, so at step 3 it is 0.7 (0.6 one step later).
EXPLORING = dataclasses.replace(CONFIG, epsilon_start=1.0, epsilon_end=0.0, epsilon_decay_steps=10)


@functools.cache
def _states() -> tuple[dqn.DQNParts, dict[str, dqn.DQNState]]:
    """Training states at the moments the exercise's cases need, made with the reference step."""
    parts = dqn.make_parts(CONFIG)
    step = jax.jit(functools.partial(dqn.train_step, parts))
    state = jax.jit(functools.partial(dqn.init_state, parts))(jax.random.key(0))  # one compile, not dozens of ops
    moments = {}
    for number, key in enumerate(jax.random.split(jax.random.key(1), 40)):
        if number in (3, 15, 16, 19, 24, 25):
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


def _step_variant(mistake: str) -> Callable:
    """The reference step with one known mistake, to name the mistake a learner made."""

    def step(parts: dqn.DQNParts, state: dqn.DQNState, key: jax.Array):
        config = parts.config
        action_key, env_key, learn_key = jax.random.split(key, 3)
        at = state.step + 1 if mistake == "epsilon at next step" else state.step
        action = dqn.select_action(parts.q_network.apply, action_key, state.params, state.obs, parts.epsilon(at))
        obs, env_state, reward, terminated, truncated, info = parts.env.step(env_key, state.env_state, action)
        next_obs = obs if mistake == "reset obs" else info["final_observation"]
        stored_end = terminated | truncated if mistake == "done stored" else terminated
        buffer = parts.replay.add(state.buffer, dqn.Transition(state.obs, action, reward, next_obs, stored_end))
        state = state._replace(buffer=buffer)
        step = state.step + 1
        counted = state.step if mistake == "old step" else step
        due = counted > config.learning_starts if mistake == "late start" else counted >= config.learning_starts
        if mistake != "every step":
            due = due & (counted % config.train_every == 0)
        learned = jax.lax.cond(due, lambda s: dqn.learn(parts, s, learn_key), dqn.skip_learning, state)
        source = state.params if mistake == "target from old params" else learned.params
        tau = 1.0 if mistake == "hard copy" else config.tau
        counted_for_target = state.step if mistake == "target by old step" else step
        target_due = counted_for_target % config.target_update_period == 0
        target_due = {"target never": False, "target every step": True}.get(mistake, target_due)
        target_params = jax.lax.cond(
            target_due,
            lambda: optax.incremental_update(source, state.target_params, tau),
            lambda: state.target_params,
        )
        done = terminated | truncated
        running = state.episode_return + reward
        finished = state.episode_return if mistake == "return without last reward" else running
        state = state._replace(
            params=learned.params,
            opt_state=learned.opt_state,
            buffer=replay_lib.with_data(learned.replay, state.buffer.data),
            target_params=target_params,
            obs=obs,
            env_state=env_state,
            episode_return=running if mistake == "return never reset" else jnp.where(done, 0.0, running),
            step=step,
        )
        return state, dqn.StepMetrics(done, jnp.where(done, finished, 0.0), learned.loss)

    return step


MISTAKES = [
    Mistake(
        "learn only every train_every-th step: due = (step >= learning_starts) & (step % train_every == 0).",
        _step_variant("every step"),
    ),
    Mistake(  # before "old step": on the first update's case the two agree, and this one names what was written
        "the first update comes at step = learning_starts: due = (step >= learning_starts) & (step % "
        "train_every == 0), with >=, not >.",
        _step_variant("late start"),
    ),
    Mistake(
        "learning is due by the step count after this step, step = state.step + 1: learn when step >= "
        "learning_starts and step % train_every == 0 (you used state.step, one step early).",
        _step_variant("old step"),
    ),
    Mistake(
        "store info['final_observation'] as next_obs: after an episode ends, the observation step returns "
        "is already the next episode's first, and the target would bootstrap from it.",
        _step_variant("reset obs"),
    ),
    Mistake(
        "store terminated, not terminated | truncated: on a time limit the pole is still up and the target "
        "must still bootstrap from V(next_obs).",
        _step_variant("done stored"),
    ),
    Mistake(
        "the target update is soft: optax.incremental_update(new_params, target_params, config.tau); with "
        "tau < 1 a hard copy is wrong.",
        _step_variant("hard copy"),
    ),
    Mistake(  # before "target by old step": on the target-update case the two agree
        "the target network was not updated at step = target_update_period: update it when step % "
        "target_update_period == 0, with step = state.step + 1, the count after this step.",
        _step_variant("target never"),
    ),
    Mistake(  # before "target every step": on the step after a target update the two agree
        "the target update came one step late: time it by the count after this step, step = state.step + "
        "1, and update when step % target_update_period == 0 (you used state.step).",
        _step_variant("target by old step"),
    ),
    Mistake(
        "the target network moved on a step that is not a multiple of target_update_period: update it only "
        "when step % target_update_period == 0 (jax.lax.cond), and keep state.target_params otherwise.",
        _step_variant("target every step"),
    ),
    Mistake(
        "update the target from the parameters after this step's gradient step (learned.params), not "
        "from state.params before it.",
        _step_variant("target from old params"),
    ),
    Mistake(
        "at an episode's end start the running return again at 0 (jnp.where(done, 0.0, ...)).",
        _step_variant("return never reset"),
    ),
    Mistake(
        "report the finished episode's return with this step's reward included.",
        _step_variant("return without last reward"),
    ),
]


def _exploration(fn: Callable) -> Verdict:
    """The action the learner's step takes, judged by its distribution over many keys, while exploring."""
    parts = dqn.make_parts(EXPLORING)
    state = _states()[1][3]  # step 3: epsilon 0.7 under EXPLORING

    def action_taken(step_fn: Callable) -> Callable:
        @functools.wraps(step_fn)  # a key used twice is reported at the line of the learner's step
        def draw(key: jax.Array, state: dqn.DQNState) -> jax.Array:
            new_state, _ = step_fn(parts, state, key)
            return new_state.buffer.data.action[state.buffer.position]

        return draw

    verdict = evaluate_sampler(
        action_taken(fn),
        action_taken(dqn.train_step),
        [Case("step 4 of a run exploring with epsilon 0.7", (state,))],
        num_outcomes=2,
        # The action drawn with `key` itself or with `learn_key` has the right distribution, but the key
        # is then used twice (split, or the batch drawn for learning, too).
        single_use_keys=True,
        mistakes=[
            Mistake(
                "explore with epsilon at this step, parts.epsilon(state.step), before the step count moves on.",
                action_taken(_step_variant("epsilon at next step")),
            ),
        ],
    )
    if verdict.status == "not yet":
        return Verdict("not yet", "The greedy cases pass, but the exploration does not. " + verdict.message)
    return Verdict(verdict.status, "Its epsilon-greedy actions have the right distribution while exploring.")


def check_train_step(fn: Callable) -> Callable:
    """Exercise 5.1: ``train_step(parts, state, key) -> (state, StepMetrics)`` with uniform replay."""
    parts, states = _states()
    key = jax.random.key(42)
    cases = [
        Case(
            "a step while learning, in the middle of an episode (step 20, train_every 2)",
            (parts, states[19], key),
            hint="act epsilon-greedily with parts.epsilon(state.step); step parts.env; store a "
            "dqn.Transition with parts.replay.add; learn when due with jax.lax.cond(due, learn, "
            "skip_learning, state); update the target when due; return (state, StepMetrics).",
        ),
        Case("a step before learning starts (step 4 of 16)", (parts, states[3], key),
             hint="no gradient step before config.learning_starts, and the loss reported as 0."),  # fmt: skip
        Case("the first update, at step 16 = learning_starts", (parts, states[15], key)),
        Case("a step between two updates (step 17, train_every 2)", (parts, states[16], key)),
        # Step 26 before step 25: a target update timed by state.step fails here first, where "never
        # updated" passes, so the two slips get their own hints.
        Case("the step after a target update (step 26, target_update_period 25)", (parts, states[25], key)),
        Case("the step that updates the target network softly (step 25, tau 0.3)", (parts, states[24], key)),
        Case("the 500-step time limit: the episode is truncated", (parts, states["truncated"], key)),
        Case("the pole falls: the episode is terminated", (parts, states["terminated"], key)),
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
        mistakes=MISTAKES,
        then=_exploration,
    )
