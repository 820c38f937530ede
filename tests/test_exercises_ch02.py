"""Chapter 02's checks: correct answers pass, typical mistakes get a hint."""

import functools

import jax
import jax.numpy as jnp
import optax
import pytest

from course_lib import nets, tabular
from course_lib.agents import dqn
from course_lib.exercises import ch02

Q_NET = nets.make_q_network(2)


def not_started(*args):
    raise NotImplementedError


def verdict(check, learner, capsys):
    used = check(learner, Q_NET)
    return " ".join(capsys.readouterr().out.split()), used is learner


@pytest.mark.parametrize(
    "learner, status, says",
    [
        (functools.partial(dqn.select_action, Q_NET.apply), "✅", ""),
        (lambda key, params, obs, eps: tabular.epsilon_greedy(key, Q_NET.apply(params, obs), eps), "✅", ""),
        (lambda key, params, obs, eps: jnp.argmin(Q_NET.apply(params, obs)), "❌", "epsilon-greedily"),
        (lambda key, params, obs, eps: jnp.argmax(Q_NET.apply(params, obs)), "❌", "epsilon-greedily"),
        (not_started, "⏳", ""),
    ],
)
def test_select_action_check(learner, status, says, capsys):
    out, kept = verdict(ch02.check_select_action, learner, capsys)
    assert status in out and says in out, out
    assert kept == (status == "✅")


def squared(online, target, t, gamma):
    error = t.reward + gamma * (1 - t.terminated) * Q_NET.apply(target, t.next_obs).max() - Q_NET.apply(online, t.obs)[t.action]
    return 0.5 * error**2


def online_target(online, target, t, gamma):
    return dqn.transition_loss(Q_NET.apply, online, online, t, gamma)


def no_termination(online, target, t, gamma):
    return dqn.transition_loss(Q_NET.apply, online, target, t._replace(terminated=jnp.array(False)), gamma)


@pytest.mark.parametrize(
    "learner, status, says",
    [
        (functools.partial(dqn.transition_loss, Q_NET.apply), "✅", ""),
        (squared, "❌", "Huber"),
        (online_target, "❌", "target_params"),
        (no_termination, "❌", "terminated"),
        (not_started, "⏳", ""),
    ],
)
def test_dqn_loss_check(learner, status, says, capsys):
    out, kept = verdict(ch02.check_dqn_loss, learner, capsys)
    assert status in out and says in out, out
    assert kept == (status == "✅")


@pytest.mark.parametrize(
    "learner, status, says",
    [
        (optax.incremental_update, "✅", ""),
        (lambda o, t, tau: jax.tree.map(lambda a, b: b + tau * (a - b), o, t), "✅", ""),
        (lambda o, t, tau: jax.tree.map(lambda a, b: tau * b + (1 - tau) * a, o, t), "❌", "tau * online"),
        (lambda o, t, tau: o, "❌", ""),
        (not_started, "⏳", ""),
    ],
)
def test_polyak_update_check(learner, status, says, capsys):
    out, kept = verdict(ch02.check_polyak_update, learner, capsys)
    assert status in out and says in out, out
    assert kept == (status == "✅")
