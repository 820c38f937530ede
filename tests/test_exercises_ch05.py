"""Exercise 5.1's check: a correct train_step passes, each typical mistake fails with its hint."""

import jax
import jax.numpy as jnp
import optax
import pytest

from course_lib.agents import dqn
from course_lib import tabular
from course_lib.buffers import uniform
from course_lib.exercises import ch05
from tests.exercise_helpers import assert_verdict, not_started, run


def make_step(mistake=None):
    """A learner's train_step, written independently of the reference, with one optional mistake."""

    def train_step(parts, state, key):
        config = parts.config
        action_key, env_key, learn_key = jax.random.split(key, 3)
        if mistake == "action from key":  # the key was used by the split already
            action_key = key
        elif mistake == "action from learn_key":  # learn_key draws the batch too
            action_key = learn_key
        q_values = parts.q_network.apply(state.params, state.obs)
        epsilon = parts.epsilon(state.step + 1 if mistake == "epsilon one step on" else state.step)
        if mistake == "one categorical draw":  # valid: sample from the epsilon-greedy probabilities
            probs = jnp.full(q_values.shape, epsilon / q_values.shape[0])
            probs = probs.at[jnp.argmax(q_values)].add(1.0 - epsilon)
            action = jax.random.categorical(action_key, jnp.log(probs))
        elif mistake == "never explores":
            action = jnp.argmax(q_values)
        else:
            action = tabular.epsilon_greedy(action_key, q_values, epsilon)
        obs, env_state, reward, terminated, truncated, info = parts.env.step(env_key, state.env_state, action)
        next_obs = obs if mistake == "reset obs" else info["final_observation"]
        stored_end = terminated | truncated if mistake == "done as terminated" else terminated
        buffer = uniform.add(state.buffer, dqn.Transition(state.obs, action, reward, next_obs, stored_end))
        state = state._replace(buffer=buffer)
        step = state.step + 1
        if mistake == "off by one":
            step = state.step
        due = step >= config.learning_starts
        if mistake == "starts after learning_starts":
            due = step > config.learning_starts
        if mistake != "forgets train_every":
            due = due & (step % config.train_every == 0)
        if mistake == "always learn":
            learned = dqn.learn(parts, state, learn_key)
        elif mistake == "python if":
            learned = dqn.learn(parts, state, learn_key) if due else dqn.skip_learning(state)
        else:
            learned = jax.lax.cond(due, lambda s: dqn.learn(parts, s, learn_key), dqn.skip_learning, state)
        step = state.step + 1
        target_due = (state.step if mistake == "target by old step" else step) % config.target_update_period == 0
        if mistake == "no target update":
            target_due = False
        elif mistake == "target every step":
            target_due = True
        tau = 1.0 if mistake == "ignores tau" else config.tau
        target = jax.tree.map(
            lambda new, old: jnp.where(target_due, tau * new + (1 - tau) * old, old),
            learned.params,
            state.target_params,
        )
        done = terminated | truncated
        finished = state.episode_return + reward
        next_return = finished if mistake == "return never reset" else jnp.where(done, 0.0, finished)
        state = state._replace(
            params=learned.params,
            opt_state=learned.opt_state,
            target_params=target,
            obs=obs,
            env_state=env_state,
            episode_return=next_return,
            step=step,
        )
        return state, dqn.StepMetrics(done, jnp.where(done, finished, 0.0), learned.loss)

    return train_step


@pytest.mark.parametrize("variant", [None, "one categorical draw"])
def test_correct_steps_written_differently_pass(variant, capsys):
    learner = make_step(variant)
    assert_verdict(*run(ch05.check_train_step, learner, capsys), learner, "✅", "right distribution")


def test_the_reference_passes(capsys):
    assert_verdict(*run(ch05.check_train_step, dqn.train_step, capsys), dqn.train_step, "✅")


@pytest.mark.parametrize(
    ("mistake", "hint"),
    [
        ("reset obs", "next episode's first"),
        ("done as terminated", "store terminated, not terminated | truncated"),
        ("always learn", "learning_starts"),
        ("off by one", "one step early"),
        ("forgets train_every", "learn only every train_every-th step"),
        ("ignores tau", "the target update is soft"),
        ("return never reset", "start the running return again at 0"),
        ("never explores", "the exploration does not"),
        ("epsilon one step on", "parts.epsilon(state.step), before the step count moves on"),
        ("action from key", "uses one key for two random draws"),
        ("action from learn_key", "uses one key for two random draws"),
        ("starts after learning_starts", "with >=, not >"),
        ("no target update", "not updated at step = target_update_period"),
        ("target every step", "not a multiple of target_update_period"),
        ("target by old step", "target update came one step late"),
        ("python if", "jax.jit"),
    ],
)
def test_each_typical_mistake_fails_with_its_hint(mistake, hint, capsys):
    learner = make_step(mistake)
    used, out = run(ch05.check_train_step, learner, capsys)
    assert_verdict(used, out, learner, "❌", hint)
    assert used is dqn.train_step


def test_the_placeholder_is_not_started(capsys):
    assert_verdict(*run(ch05.check_train_step, not_started, capsys), not_started, "⏳", "not started")
