"""Checks for chapter 02, deep Q-networks."""

from __future__ import annotations

import functools
from collections.abc import Callable

import haiku as hk
import jax
import jax.numpy as jnp
import optax

from course_lib.agents import dqn
from course_lib.checking import Case, check, check_sampler


def _example_params(q_network: hk.Transformed, seed: int) -> object:
    return q_network.init(jax.random.key(seed), jnp.zeros(4))


def _example_obs() -> jax.Array:
    return jnp.array([[0.02, -0.3, 0.05, 0.4], [-1.0, 0.5, -0.1, -0.8], [0.0, 0.0, 0.0, 0.0]])


def check_select_action(fn: Callable, q_network: hk.Transformed) -> Callable:
    """Exercise 2.1: ``select_action(key, params, obs, epsilon)``, checked by the distribution of its actions."""
    params = _example_params(q_network, 0)
    obs = _example_obs()
    reference = functools.partial(dqn.select_action, q_network.apply)
    cases = [
        Case(
            "an observation, epsilon = 0.1",
            (params, obs[0], 0.1),
            hint="compute q_values = q_network.apply(params, obs), then choose epsilon-greedily from them.",
        ),
        Case("epsilon = 0: greedy", (params, obs[1], 0.0), hint="with epsilon = 0, always take the argmax."),
        Case(
            "epsilon = 1: uniform", (params, obs[2], 1.0), hint="with epsilon = 1 both actions are equally likely."
        ),
    ]
    return check_sampler(
        "Exercise 2.1 (select_action)", fn, reference, cases, num_outcomes=_num_actions(q_network, params)
    )


def _num_actions(q_network: hk.Transformed, params: object) -> int:
    return int(q_network.apply(params, jnp.zeros(4)).shape[-1])


def check_dqn_loss(fn: Callable, q_network: hk.Transformed) -> Callable:
    """Exercise 2.2: the Huber loss of one transition's TD error, with the target from the target network."""
    online, target = _example_params(q_network, 0), _example_params(q_network, 1)
    obs = _example_obs()
    reference = functools.partial(dqn.transition_loss, q_network.apply)

    def transition(action, reward, terminated, state=0, next_state=1):
        return dqn.Transition(obs[state], jnp.int32(action), jnp.float32(reward), obs[next_state], jnp.array(terminated))

    cases = [
        Case(
            "an ordinary step, action 1, reward 1",
            (online, target, transition(1, 1.0, False), 0.99),
            hint="target = reward + gamma * max_a' Q_target(next_obs, a'), from target_params; "
            "the loss is optax.huber_loss(target - Q_online(obs)[action], delta=1.0).",
        ),
        Case(
            "a terminal step",
            (online, target, transition(0, 1.0, True), 0.99),
            hint="when terminated, the target is the reward alone: nothing follows the last observation.",
        ),
        Case(
            "a large TD error (reward 10)",
            (online, target, transition(0, 10.0, False, 1, 2), 0.99),
            hint="use the Huber loss (optax.huber_loss with delta=1.0): beyond |error| = 1 it grows linearly, "
            "not quadratically.",
        ),
        Case(
            "a small TD error (reward 0), gamma = 0.9",
            (online, target, transition(1, 0.0, False, 2, 0), 0.9),
            hint="for |error| < 1 the Huber loss is half the squared error.",
        ),
        Case(
            "online and target parameters the same",
            (online, online, transition(0, 1.0, False), 0.99),
        ),
    ]
    return check("Exercise 2.2 (dqn_loss)", fn, reference, cases, rtol=1e-4, atol=1e-5)


def check_polyak_update(fn: Callable, q_network: hk.Transformed) -> Callable:
    """Exercise 2.3: the soft target update ``tau * online + (1 - tau) * target``, leaf by leaf."""
    online, target = _example_params(q_network, 0), _example_params(q_network, 1)

    def reference(online_params, target_params, tau):
        return optax.incremental_update(online_params, target_params, tau)

    cases = [
        Case("tau = 0.005", (online, target, 0.005), hint="new target = tau * online + (1 - tau) * target."),
        Case("tau = 1: a hard copy", (online, target, 1.0), hint="with tau = 1 the target becomes the online parameters."),
        Case("tau = 0: no change", (online, target, 0.0), hint="with tau = 0 the target stays as it is."),
    ]
    return check("Exercise 2.3 (polyak_update)", fn, reference, cases, jit=True)
