"""Exercise 5.1's check: a correct train_step passes, each typical mistake fails with its hint."""

import jax
import jax.numpy as jnp
import optax
import pytest

from course_lib.agents import dqn
from course_lib import tabular
from course_lib.buffers import uniform
from course_lib.exercises import ch05


def make_step(mistake=None):
    """A learner's train_step, written independently of the reference, with one optional mistake."""

    def train_step(parts, state, key):
        config = parts.config
        action_key, env_key, learn_key = jax.random.split(key, 3)
        q_values = parts.q_network.apply(state.params, state.obs)
        action = tabular.epsilon_greedy(action_key, q_values, parts.epsilon(state.step))
        obs, env_state, reward, terminated, truncated, info = parts.env.step(env_key, state.env_state, action)
        next_obs = obs if mistake == "reset obs" else info["final_observation"]
        stored_end = terminated | truncated if mistake == "done as terminated" else terminated
        buffer = uniform.add(state.buffer, dqn.Transition(state.obs, action, reward, next_obs, stored_end))
        state = state._replace(buffer=buffer)
        step = state.step + 1
        due = (step >= config.learning_starts) & (step % config.train_every == 0)
        if mistake == "always learn":
            learned = dqn.learn(parts, state, learn_key)
        elif mistake == "python if":
            learned = dqn.learn(parts, state, learn_key) if due else dqn.skip_learning(state)
        else:
            learned = jax.lax.cond(due, lambda s: dqn.learn(parts, s, learn_key), dqn.skip_learning, state)
        target_due = step % config.target_update_period == 0
        if mistake == "no target update":
            target_due = False
        target = jax.tree.map(
            lambda new, old: jnp.where(target_due, new, old),
            optax.incremental_update(learned.params, state.target_params, config.tau),
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


def run(fn, capsys):
    used = ch05.check_train_step(fn)
    return used, capsys.readouterr().out


def test_a_correct_step_written_differently_passes(capsys):
    learner = make_step()
    used, out = run(learner, capsys)
    assert "correct" in out and used is learner


@pytest.mark.parametrize(
    ("mistake", "case", "hint"),
    [
        ("reset obs", "truncated", "final_observation"),
        ("reset obs", "truncated", "next episode's first"),
        ("done as terminated", "truncated", "not terminated | truncated"),
        ("always learn", "before learning starts", "learning_starts"),
        ("no target update", "target network", "target_update_period"),
        ("return never reset", "truncated", "start the next at 0"),
        ("python if", "", "jax.jit"),
    ],
)
def test_each_typical_mistake_fails_with_its_hint(mistake, case, hint, capsys):
    used, out = run(make_step(mistake), capsys)
    flat = out.replace("\n   ", " ")
    assert "not yet" in out and case in flat and hint in flat
    assert used is dqn.train_step


def test_the_placeholder_is_not_started(capsys):
    def placeholder(parts, state, key):
        raise NotImplementedError("Exercise: replace this line with your code.")

    _, out = run(placeholder, capsys)
    assert "not started" in out
