"""Checks for chapter 01, Q-tables."""

from __future__ import annotations

from collections.abc import Callable

import jax.numpy as jnp

from course_lib import tabular
from course_lib.checking import Case, check, check_sampler


def check_epsilon_greedy(fn: Callable) -> Callable:
    """Exercise 1.1: epsilon-greedy action selection, checked by the distribution of its actions."""
    q_values = jnp.array([0.1, 0.5, -0.2, 0.0])
    cases = [
        Case(
            "one best action (1), epsilon = 0.1",
            (q_values, 0.1),
            hint="the best action should come up with probability 1 - epsilon + epsilon / 4 = 92.5 %: "
            "explore with probability epsilon, and then draw from all actions, the greedy one included.",
        ),
        Case("epsilon = 0", (q_values, 0.0), hint="with epsilon = 0 the agent never explores."),
        Case(
            "epsilon = 1",
            (q_values, 1.0),
            hint="with epsilon = 1 every action is equally likely: the random action is drawn from all "
            "actions, the greedy one included.",
        ),
        Case(
            "two tied best actions (1 and 2), epsilon = 0.2",
            (jnp.array([0.0, 1.0, 1.0, 0.0]), 0.2),
            hint="break ties at random with greedy(key, q_values); jnp.argmax always picks the first.",
        ),
        Case(
            "a row of zeros, as at the start of training",
            (jnp.zeros(4), 0.1),
            hint="break ties at random with greedy(key, q_values); jnp.argmax always picks the first.",
        ),
    ]
    return check_sampler("Exercise 1.1 (epsilon_greedy)", fn, tabular.epsilon_greedy, cases, num_outcomes=4)


def check_q_learning_update(fn: Callable) -> Callable:
    """Exercise 1.2: one Q-learning update of a Q-table."""
    q_table = jnp.arange(24.0).reshape(6, 4) / 10 - 1.0
    no, yes = jnp.array(False), jnp.array(True)
    cases = [
        Case("an ordinary step: s=1, a=2, r=-0.01, s'=4", (q_table, 1, 2, -0.01, 4, no, 0.5, 0.9)),
        Case(
            "a terminal step: s=3, a=0, r=1.0, terminated",
            (q_table, 3, 0, 1.0, 5, yes, 0.5, 0.9),
            hint="when the episode terminated there is no next state: the target is the reward alone.",
        ),
        Case("gamma = 0", (q_table, 2, 1, 0.5, 4, no, 0.5, 0.0), hint="with gamma = 0 the target is r alone."),
        Case(
            "alpha = 1",
            (q_table, 0, 3, 0.2, 1, no, 1.0, 0.9),
            hint="with alpha = 1, Q(s, a) becomes the target r + gamma * max_a' Q(s', a').",
        ),
        Case(
            "a step into the same state: s = s' = 5",
            (q_table, 5, 3, -0.01, 5, no, 0.5, 0.9),
            hint="read max_a' Q(s', a') from the table as it was before this update.",
        ),
    ]
    return check("Exercise 1.2 (q_learning_update)", fn, tabular.q_learning_update, cases, jit=True)
