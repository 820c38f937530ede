"""Bad input a learner plausibly passes, one row each: every public function and config of ``course_lib``
must raise the expected error with a message that names the argument, eagerly, under ``jax.jit`` and
inside ``lax.scan``. Silently wrong is a failure; so is an error that does not name the argument.

A check on a traced value (a ``gamma`` passed into a jitted function) raises from the compiled program:
JAX surfaces it as ``jax.errors.JaxRuntimeError`` whose message ends in ``ValueError: gamma must ...``
(see ``course_lib/_validate.py``). The ``jit`` and ``scan`` variants accept that form.

Run as a script to count the rows by outcome (clear, cryptic, silent), for an issue's closing note:
``python tests/test_bad_input.py`` (``PYTHONPATH=<another checkout>`` counts that one). The script runs the jit
and scan variants of every row with a traced argument; the test runs them for one row per function and
argument, to stay fast.
"""

from __future__ import annotations

import dataclasses
import math
import sys
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax

from course_lib import bandits, nets, returns, rollouts, stats, tabular
from course_lib.agents import dqn, ppo
from course_lib.buffers import prioritized, replay, uniform
from course_lib.envs import AutoReset, CartPole, CartPoleParams, CartPoleState, GridWorld, GridWorldParams

NAN, INF = float("nan"), float("inf")
KEY = jax.random.key(0)
F = jnp.float32


class Case(NamedTuple):
    id: str
    call: Callable[..., Any]  # call(*traced) runs the bad input
    traced: tuple  # the arguments that jit and scan variants pass as traced values (empty: eager only)
    names: str  # the argument the message must name
    error: type[Exception] | tuple[type[Exception], ...]


CASES: list[Case] = []


def case(id: str, fn: Callable, *args: Any, names: str, error=ValueError, traced: tuple[int, ...] = (), **kwargs: Any):
    """A row: ``fn(*args, **kwargs)`` must raise ``error`` naming ``names``; ``traced`` are positions in
    ``args`` that the jit and scan variants pass through the compiled program."""

    def call(*traced_values):
        full = list(args)
        for position, value in zip(traced, traced_values):
            full[position] = value
        return fn(*full, **kwargs)

    CASES.append(Case(id, call, tuple(args[i] for i in traced), names, error))


def bad_unit(prefix: str, fn: Callable, args: list, position: int, name: str, values=(1.5, -0.1, NAN, INF)):
    """One row per value outside [0, 1] for the argument at ``position``."""
    for value in values:
        full = list(args)
        full[position] = value
        case(f"{prefix}-{name}={value}", fn, *full, names=name, traced=(position,))


# --- returns --------------------------------------------------------------------------------------------------

R3 = jnp.array([1.0, 0.0, 2.0])
B3 = jnp.zeros(3, bool)
bad_unit("discounted_returns", returns.discounted_returns, [R3, 0.9], 1, "gamma")
case("discounted_returns-scalar-rewards", returns.discounted_returns, 1.0, 0.9, names="rewards")
case("discounted_returns-nan-reward", returns.discounted_returns, R3.at[1].set(NAN), 0.9, names="rewards", traced=(0,))
case("discounted_returns-inf-reward", returns.discounted_returns, R3.at[0].set(INF), 0.9, names="rewards", traced=(0,))
case("discounted_returns-string-gamma", returns.discounted_returns, R3, "0.9", names="gamma", error=(TypeError, ValueError))

bad_unit("td_target", returns.td_target, [1.0, 2.0, False, 0.9], 3, "gamma")
case("td_target-inf-next-value", returns.td_target, 1.0, INF, False, 0.9, names="next_value", traced=(1,))
case("td_target-nan-next-value", returns.td_target, 1.0, NAN, False, 0.9, names="next_value", traced=(1,))
case("td_target-nan-reward", returns.td_target, NAN, 1.0, False, 0.9, names="reward", traced=(0,))
case("td_target-inf-reward", returns.td_target, INF, 1.0, True, 0.9, names="reward", traced=(0,))
case("td_target-broadcast-next-value", returns.td_target, jnp.ones(3), jnp.ones((3, 1)), B3, 0.9, names="next_value")
case("td_target-broadcast-terminated", returns.td_target, jnp.ones(3), jnp.ones(3), jnp.zeros((3, 1), bool), 0.9, names="terminated")
case("td_target-terminated-half", returns.td_target, 1.0, 2.0, 0.5, 0.9, names="terminated", traced=(2,))

GAE = [R3, jnp.ones(3), jnp.ones(3), B3, B3, 0.9, 0.95]
bad_unit("gae", returns.gae, GAE, 5, "gamma")
bad_unit("gae", returns.gae, GAE, 6, "lam")
for position, name in ((1, "values"), (2, "next_values"), (3, "terminated"), (4, "done")):
    wrong = list(GAE)
    wrong[position] = jnp.zeros((3, 1), GAE[position].dtype)
    case(f"gae-{name}-shape-(3,1)", returns.gae, *wrong, names=name)
for position, name in ((0, "rewards"), (1, "values"), (2, "next_values")):
    wrong = list(GAE)
    wrong[position] = GAE[position].at[2].set(NAN)
    case(f"gae-nan-{name}", returns.gae, *wrong, names=name, traced=(position,))
for position, name in ((3, "terminated"), (4, "done")):
    wrong = list(GAE)
    wrong[position] = jnp.array([0.0, 2.0, 0.0])
    case(f"gae-{name}-not-0-or-1", returns.gae, *wrong, names=name, traced=(position,))
case("gae-scalar-rewards", returns.gae, 1.0, 1.0, 1.0, False, False, 0.9, 0.9, names="rewards")

# --- tabular --------------------------------------------------------------------------------------------------

Q2 = jnp.array([0.5, 1.0])
case("greedy-int-seed", tabular.greedy, 0, Q2, names="key", error=TypeError)
case("greedy-q-2d", tabular.greedy, KEY, jnp.zeros((3, 2)), names="q_values")
case("greedy-q-scalar", tabular.greedy, KEY, 1.0, names="q_values")
case("greedy-q-nan", tabular.greedy, KEY, jnp.array([NAN, 1.0]), names="q_values", traced=(1,))
case("greedy-q-nan-last", tabular.greedy, KEY, jnp.array([1.0, 2.0, NAN]), names="q_values", traced=(1,))
bad_unit("epsilon_greedy", tabular.epsilon_greedy, [KEY, Q2, 0.1], 2, "epsilon")
case("epsilon_greedy-int-seed", tabular.epsilon_greedy, 3, Q2, 0.1, names="key", error=TypeError)
case("epsilon_greedy-q-nan", tabular.epsilon_greedy, KEY, jnp.array([1.0, NAN]), 0.1, names="q_values", traced=(1,))
case("epsilon_greedy-q-2d", tabular.epsilon_greedy, KEY, jnp.zeros((4, 2)), 0.1, names="q_values")
case("epsilon_greedy-epsilon-vector", tabular.epsilon_greedy, KEY, Q2, jnp.array([0.1, 0.2]), names="epsilon")

QT = jnp.zeros((5, 4))
QARGS = [QT, 1, 2, 1.0, 3, False, 0.5, 0.9]
for position, name, value in (
    (1, "state", 100), (1, "state", -1), (1, "state", 5), (2, "action", 4), (2, "action", -1),
    (4, "next_state", 100), (4, "next_state", 5),
):  # fmt: skip
    wrong = list(QARGS)
    wrong[position] = jnp.int32(value)
    case(f"q_learning_update-{name}={value}", tabular.q_learning_update, *wrong, names=name, traced=(position,))
for position, name in ((1, "state"), (2, "action"), (4, "next_state")):
    wrong = list(QARGS)
    wrong[position] = 1.0
    case(f"q_learning_update-float-{name}", tabular.q_learning_update, *wrong, names=name, error=TypeError)
    wrong[position] = jnp.array([1, 2])
    case(f"q_learning_update-vector-{name}", tabular.q_learning_update, *wrong, names=name)
bad_unit("q_learning_update", tabular.q_learning_update, QARGS, 6, "alpha", values=(1.5, -0.1, NAN))
bad_unit("q_learning_update", tabular.q_learning_update, QARGS, 7, "gamma", values=(1.5, -0.1, NAN))
case("q_learning_update-nan-reward", tabular.q_learning_update, QT, 1, 2, NAN, 3, False, 0.5, 0.9, names="reward", traced=(3,))
case("q_learning_update-q-1d", tabular.q_learning_update, jnp.zeros(5), 1, 2, 1.0, 3, False, 0.5, 0.9, names="q_table")
case("q_learning_update-int-q", tabular.q_learning_update, jnp.zeros((5, 4), jnp.int32), 1, 2, 1.0, 3, False, 0.5, 0.9, names="q_table", error=TypeError)
case("q_learning_update-terminated-half", tabular.q_learning_update, QT, 1, 2, 1.0, 3, 0.5, 0.5, 0.9, names="terminated", traced=(5,))

# --- bandits --------------------------------------------------------------------------------------------------

MEANS = jnp.arange(10.0)
case("make_testbed-int-seed", bandits.make_testbed, 0, 10, names="key", error=TypeError)
for value in (0, -1, 2.5, "10"):
    case(f"make_testbed-num_arms={value!r}", bandits.make_testbed, KEY, value, names="num_arms")
for value in (10, -1, 11):
    case(f"pull-action={value}", bandits.pull, KEY, MEANS, jnp.int32(value), names="action", traced=(2,))
case("pull-float-action", bandits.pull, KEY, MEANS, 1.0, names="action", error=TypeError)
case("pull-vector-action", bandits.pull, KEY, MEANS, jnp.array([1, 2]), names="action")
case("pull-int-seed", bandits.pull, 1, MEANS, 0, names="key", error=TypeError)
case("pull-means-2d", bandits.pull, KEY, jnp.zeros((2, 3)), 0, names="arm_means")
case("pull-means-nan", bandits.pull, KEY, MEANS.at[0].set(NAN), 0, names="arm_means", traced=(1,))
E3, C3 = jnp.zeros(3), jnp.zeros(3, jnp.int32)
for value in (3, -1, 10):
    case(f"sample_average_update-action={value}", bandits.sample_average_update, E3, C3, jnp.int32(value), 1.0, names="action", traced=(2,))
case("sample_average_update-float-action", bandits.sample_average_update, E3, C3, 1.0, 1.0, names="action", error=TypeError)
case("sample_average_update-counts-shape", bandits.sample_average_update, E3, jnp.zeros(4, jnp.int32), 0, 1.0, names="counts")
case("sample_average_update-float-counts", bandits.sample_average_update, E3, jnp.zeros(3), 0, 1.0, names="counts", error=TypeError)
case("sample_average_update-negative-counts", bandits.sample_average_update, E3, C3.at[0].set(-2), 0, 1.0, names="counts", traced=(1,))
case("sample_average_update-nan-reward", bandits.sample_average_update, E3, C3, 0, NAN, names="reward", traced=(3,))
case("sample_average_update-int-estimates", bandits.sample_average_update, C3, C3, 0, 1.0, names="estimates", error=TypeError)
case("sample_average_update-2d-estimates", bandits.sample_average_update, jnp.zeros((3, 1)), jnp.zeros((3, 1), jnp.int32), 0, 1.0, names="estimates")
case("sample_average_update-vector-reward", bandits.sample_average_update, E3, C3, 0, jnp.ones(2), names="reward")

# --- environments ---------------------------------------------------------------------------------------------

CP = CartPole()
_, CP_STATE = CP.reset(KEY)
for value in (2, -1, 7):
    case(f"cartpole.step-action={value}", CP.step, KEY, CP_STATE, jnp.int32(value), names="action", traced=(2,))
case("cartpole.step-float-action", CP.step, KEY, CP_STATE, 0.5, names="action", error=TypeError)
case("cartpole.step-float-action-1.0", CP.step, KEY, CP_STATE, jnp.float32(1.0), names="action", error=TypeError)
case("cartpole.step-vector-action", CP.step, KEY, CP_STATE, jnp.array([0, 1]), names="action")
for field in ("x", "theta", "theta_dot"):
    nan_state = CP_STATE._replace(**{field: jnp.float32(NAN)})
    case(f"cartpole.step-nan-{field}", CP.step, KEY, nan_state, 1, names="state", traced=(1,))
case("cartpole.step-inf-x_dot", CP.step, KEY, CP_STATE._replace(x_dot=jnp.float32(INF)), 1, names="state", traced=(1,))
case("cartpole.step-obs-as-state", CP.step, KEY, jnp.zeros(4), 1, names="state", error=TypeError)
case("cartpole.step-int-seed", CP.step, 0, CP_STATE, 1, names="key", error=TypeError)
case("cartpole.step-params-dict", CP.step, KEY, CP_STATE, 1, {"tau": 0.02}, names="params", error=TypeError)
for field, value in (
    ("tau", -0.02), ("tau", 0.0), ("masspole", -0.1), ("masscart", 0.0), ("length", 0.0), ("force_mag", NAN),
    ("gravity", NAN), ("x_threshold", -2.4), ("theta_threshold_radians", 0.0), ("max_steps", 0), ("max_steps", 2.5),
):  # fmt: skip
    params = CartPoleParams()._replace(**{field: value})
    case(f"cartpole.step-params.{field}={value}", CP.step, KEY, CP_STATE, 1, params, names=field)
case("cartpole.reset-params.max_steps=0", CP.reset, KEY, CartPoleParams(max_steps=0), names="max_steps")
case("cartpole.reset-int-seed", CP.reset, 42, names="key", error=TypeError)
case("cartpole.reset-float-key", CP.reset, jnp.zeros(2), names="key", error=TypeError)

GW = GridWorld()
_, GW_STATE = GW.reset(KEY)
for value in (4, -1, 9):
    case(f"gridworld.step-action={value}", GW.step, KEY, GW_STATE, jnp.int32(value), names="action", traced=(2,))
case("gridworld.step-float-action", GW.step, KEY, GW_STATE, 1.0, names="action", error=TypeError)
case("gridworld.step-obs-as-state-int", GW.step, KEY, jnp.int32(0), 1, names="state", error=TypeError)
case("gridworld.step-int-seed", GW.step, 7, GW_STATE, 1, names="key", error=TypeError)
case("gridworld.step-slip-2", GW.step, KEY, GW_STATE, 1, GW.default_params._replace(slip_probability=2.0), names="slip_probability")
case("gridworld.step-walls-shape", GW.step, KEY, GW_STATE, 1, GW.default_params._replace(walls=jnp.zeros((3, 3), bool)), names="walls")
case("gridworld.reset-int-seed", GW.reset, 0, names="key", error=TypeError)
case("GridWorld-one-string", GridWorld, "S..G", names="layout", error=TypeError)
case("GridWorld-empty", GridWorld, [], names="layout")
case("GridWorld-ragged", GridWorld, ["S..", ".G"], names="layout")
case("GridWorld-no-start", GridWorld, ["...", "..G"], names="layout")
case("GridWorld-two-goals", GridWorld, ["S.G", "..G"], names="layout")
case("GridWorld-unknown-mark", GridWorld, ["S.x", "..G"], names="layout")
case("GridWorld-numbers", GridWorld, [1, 2], names="layout", error=TypeError)
for name, value in (("slip_probability", 1.5), ("slip_probability", -0.1), ("slip_probability", NAN), ("max_steps", 0), ("max_steps", 2.5), ("step_penalty", NAN), ("goal_reward", INF)):
    case(f"GridWorld-{name}={value}", GridWorld, names=name, **{name: value})
case("gridworld.render_text-q-shape", GW.render_text, None, jnp.zeros((4, 4)), names="q_table")
case("AutoReset-class", AutoReset, CartPole, names="env", error=TypeError)
case("AutoReset-string", AutoReset, "CartPole", names="env", error=TypeError)


# --- rollouts -------------------------------------------------------------------------------------------------

def push_right_too_far(key, obs):
    return jnp.int32(2)


case("run_episode-class", rollouts.run_episode, CartPole, lambda k, o: 0, KEY, names="env", error=TypeError)
case("run_episode-policy-action-2", rollouts.run_episode, CP, push_right_too_far, KEY, names="policy")
case("run_episode-policy-float", rollouts.run_episode, CP, lambda k, o: 0.7, KEY, names="policy", error=TypeError)
case("run_episode-policy-vector", rollouts.run_episode, CP, lambda k, o: jnp.array([0, 1]), KEY, names="policy")
case("run_episode-policy-none", rollouts.run_episode, CP, None, KEY, names="policy", error=TypeError)
case("run_episode-int-seed", rollouts.run_episode, CP, lambda k, o: 0, 0, names="key", error=TypeError)
case("run_episode-max_steps-0", rollouts.run_episode, CP, lambda k, o: 0, KEY, CartPoleParams(max_steps=0), names="max_steps")
case("run_episode-gridworld-action-4", rollouts.run_episode, GW, lambda k, o: jnp.int32(4), KEY, names="policy")
case("episode_returns-zero", rollouts.episode_returns, CP, lambda k, o: 0, KEY, 0, names="num_episodes")
case("episode_returns-float", rollouts.episode_returns, CP, lambda k, o: 0, KEY, 2.5, names="num_episodes")
case("episode_returns-class", rollouts.episode_returns, GridWorld, lambda k, o: 0, KEY, 2, names="env", error=TypeError)
case("episode_returns-int-seed", rollouts.episode_returns, CP, lambda k, o: 0, 1, 2, names="key", error=TypeError)
case("random_observations-zero", rollouts.random_observations, CP, KEY, 0, names="num_steps")
case("random_observations-class", rollouts.random_observations, CartPole, KEY, 10, names="env", error=TypeError)
case("random_observations-int-seed", rollouts.random_observations, CP, 0, 10, names="key", error=TypeError)

# --- nets -----------------------------------------------------------------------------------------------------

for make in (nets.make_q_network, nets.make_actor_critic):
    label = make.__name__
    for value in (0, -2, 2.5):
        case(f"{label}-num_actions={value}", make, value, names="num_actions")
    case(f"{label}-hidden-zero", make, 2, (64, 0), names="hidden_sizes")
    case(f"{label}-hidden-float", make, 2, (64.0,), names="hidden_sizes")
    case(f"{label}-hidden-string", make, 2, "64", names="hidden_sizes", error=(TypeError, ValueError))
    case(f"{label}-activation", make, 2, (8,), "sigmoid", names="activation")
Q_NET = nets.make_q_network(2, (8,))
Q_PARAMS = Q_NET.init(KEY, jnp.zeros(4))
AC_NET = nets.make_actor_critic(2, (8,))
AC_PARAMS = AC_NET.init(KEY, jnp.zeros(4))
case("q_network.apply-obs-dim-3", Q_NET.apply, Q_PARAMS, jnp.zeros(3), names="obs")
case("q_network.apply-obs-batch-dim-3", Q_NET.apply, Q_PARAMS, jnp.zeros((5, 3)), names="obs")
case("actor_critic.apply-obs-dim-3", AC_NET.apply, AC_PARAMS, jnp.zeros(3), names="obs")
case("actor_critic.apply-obs-dim-8", AC_NET.apply, AC_PARAMS, jnp.zeros((2, 8)), names="obs")

# --- stats ----------------------------------------------------------------------------------------------------

case("mean_interval-one-run", stats.mean_interval, [3.0], names="values")
case("mean_interval-2d", stats.mean_interval, np.ones((3, 2)), names="values")
case("mean_interval-nan", stats.mean_interval, [1.0, NAN, 2.0], names="values")
for value in (1.5, 0.0, 1.0, -0.5):
    case(f"mean_interval-confidence={value}", stats.mean_interval, [1.0, 2.0, 3.0], value, names="confidence")
case("mean_interval-strings", stats.mean_interval, ["a", "b"], names="values", error=(TypeError, ValueError))
case("half_widths-1d", stats.half_widths, np.ones(4), names="curves")
case("half_widths-confidence", stats.half_widths, np.ones((3, 4)), 2.0, names="confidence")
INTERVAL = stats.Interval(1.0, 0.5, 1.5, 3)
case("separated-float", stats.separated, 1.0, INTERVAL, names="higher", error=TypeError)
case("separated-tuple", stats.separated, INTERVAL, (0.0, 1.0), names="lower", error=TypeError)
case("compare-float", stats.compare, 2.0, INTERVAL, names="interval", error=TypeError)

# --- buffers --------------------------------------------------------------------------------------------------

EXAMPLE = dqn.Transition(jnp.zeros(4), jnp.int32(0), jnp.float32(0.0), jnp.zeros(4), jnp.array(False))
U_EMPTY = uniform.init(8, EXAMPLE)
U_ONE = uniform.add(U_EMPTY, EXAMPLE)
P_EMPTY = prioritized.init(8, EXAMPLE)
P_ONE = prioritized.add(P_EMPTY, EXAMPLE)
for module, empty, one in (("uniform", U_EMPTY, U_ONE), ("prioritized", P_EMPTY, P_ONE)):
    lib = uniform if module == "uniform" else prioritized
    for value in (0, -1, 2.5):
        case(f"{module}.init-capacity={value}", lib.init, value, EXAMPLE, names="capacity")
    case(f"{module}.init-empty-example", lib.init, 4, {}, names="example_transition")
    case(f"{module}.add-obs-shape", lib.add, empty, EXAMPLE._replace(obs=jnp.zeros(3)), names="obs")
    case(f"{module}.add-structure", lib.add, empty, (1, 2), names="transition")
    case(f"{module}.add-float-action", lib.add, empty, EXAMPLE._replace(action=jnp.float32(1.0)), names="action", error=TypeError)
    case(f"{module}.add-state-not-buffer", lib.add, EXAMPLE, EXAMPLE, names="state", error=TypeError)
    case(f"{module}.sample-empty", lib.sample, empty, KEY, 4, names="empty", traced=(0,))
    case(f"{module}.sample-batch-0", lib.sample, one, KEY, 0, names="batch_size")
    case(f"{module}.sample-batch-float", lib.sample, one, KEY, 2.0, names="batch_size")
    case(f"{module}.sample-int-seed", lib.sample, one, 0, 4, names="key", error=TypeError)
for value in (1.5, -0.5, NAN):
    case(f"prioritized.init-alpha={value}", prioritized.init, 8, EXAMPLE, value, names="alpha")
    case(f"prioritized.sample-beta={value}", prioritized.sample, P_ONE, KEY, 4, value, names="beta", traced=(3,))
    case(f"td_error_probabilities-alpha={value}", prioritized.td_error_probabilities, jnp.ones(3), value, names="alpha", traced=(1,))
for value in (100, 8, -1):
    case(f"update_priorities-index={value}", prioritized.update_priorities, P_ONE, jnp.array([0, value]), jnp.ones(2), names="indices", traced=(1,))
case("update_priorities-float-index", prioritized.update_priorities, P_ONE, jnp.array([0.0, 1.0]), jnp.ones(2), names="indices", error=TypeError)
for value in (-1.0, 0.0, NAN, INF):
    case(f"update_priorities-priority={value}", prioritized.update_priorities, P_ONE, jnp.array([0, 1]), jnp.array([1.0, value]), names="priorities", traced=(2,))
case("update_priorities-shape", prioritized.update_priorities, P_ONE, jnp.array([0, 1]), jnp.ones((2, 1)), names="priorities")
case("update_priorities-state", prioritized.update_priorities, U_ONE, jnp.array([0]), jnp.ones(1), names="state", error=TypeError)
case("td_error_probabilities-nan", prioritized.td_error_probabilities, jnp.array([1.0, NAN]), 0.6, names="td_errors", traced=(0,))
for value in (0.0, -1e-6, NAN):
    case(f"td_error_probabilities-epsilon={value}", prioritized.td_error_probabilities, jnp.ones(3), 0.6, value, names="epsilon")
for name, kwargs in (
    ("capacity", {"capacity": 0, "batch_size": 4}), ("batch_size", {"capacity": 8, "batch_size": 0}),
    ("add", {"capacity": 8, "batch_size": 4, "add": None}), ("sample", {"capacity": 8, "batch_size": 4, "sample": 3}),
):  # fmt: skip
    case(f"uniform_replay-{name}", replay.uniform_replay, names=name, error=(TypeError, ValueError), **kwargs)
for name, value in (("alpha", 2.0), ("beta_start", -1.0), ("beta_steps", 0), ("priority_epsilon", 0.0), ("priority_epsilon", NAN), ("capacity", -4)):
    kwargs = {"capacity": 8, "batch_size": 4, name: value}
    case(f"prioritized_replay-{name}={value}", replay.prioritized_replay, names=name, **kwargs)

# --- dqn ------------------------------------------------------------------------------------------------------

Q_APPLY = Q_NET.apply
OBS = jnp.zeros(4)
case("select_action-obs-2d", dqn.select_action, Q_APPLY, KEY, Q_PARAMS, jnp.zeros((2, 4)), 0.1, names="obs")
case("select_action-obs-dim-3", dqn.select_action, Q_APPLY, KEY, Q_PARAMS, jnp.zeros(3), 0.1, names="obs")
case("select_action-int-seed", dqn.select_action, Q_APPLY, 0, Q_PARAMS, OBS, 0.1, names="key", error=TypeError)
case("select_action-network-not-apply", dqn.select_action, Q_NET, KEY, Q_PARAMS, OBS, 0.1, names="q_apply", error=TypeError)
bad_unit("select_action", dqn.select_action, [Q_APPLY, KEY, Q_PARAMS, OBS, 0.1], 4, "epsilon")
bad_unit("dqn.td_target", dqn.td_target, [Q_APPLY, Q_PARAMS, EXAMPLE, 0.9], 3, "gamma")
case("dqn.td_target-tuple-transition", dqn.td_target, Q_APPLY, Q_PARAMS, tuple(EXAMPLE), 0.9, names="transition", error=TypeError)
case("dqn.td_target-nan-reward", dqn.td_target, Q_APPLY, Q_PARAMS, EXAMPLE._replace(reward=jnp.float32(NAN)), 0.9, names="reward", traced=(2,))
for value in (5, 2, -1):
    case(f"td_error-action={value}", dqn.td_error, Q_APPLY, Q_PARAMS, Q_PARAMS, EXAMPLE._replace(action=jnp.int32(value)), 0.9, names="action", traced=(3,))
    case(f"transition_loss-action={value}", dqn.transition_loss, Q_APPLY, Q_PARAMS, Q_PARAMS, EXAMPLE._replace(action=jnp.int32(value)), 0.9, names="action", traced=(3,))
case("td_error-float-action", dqn.td_error, Q_APPLY, Q_PARAMS, Q_PARAMS, EXAMPLE._replace(action=jnp.float32(1.0)), 0.9, names="action", error=TypeError)
case("td_error-double-string", dqn.td_error, Q_APPLY, Q_PARAMS, Q_PARAMS, EXAMPLE, 0.9, "yes", names="double")
bad_unit("transition_loss", dqn.transition_loss, [Q_APPLY, Q_PARAMS, Q_PARAMS, EXAMPLE, 0.9], 4, "gamma", values=(1.5, NAN))
case("transition_loss-loss-name", dqn.transition_loss, Q_APPLY, Q_PARAMS, Q_PARAMS, EXAMPLE, 0.9, "mse", names="loss")
case("elementwise_loss-name", dqn.elementwise_loss, jnp.ones(3), "l1", names="loss")
case("elementwise_loss-none", dqn.elementwise_loss, jnp.ones(3), None, names="loss")
case("elementwise_loss-string-errors", dqn.elementwise_loss, "1.0", names="td_errors", error=TypeError)

SMALL_DQN = {"num_steps": 200, "eval_every": 0}
for name, value, extra in (
    ("learning_starts", 500, {}), ("train_every", 300, {}), ("learning_starts", 16, {}), ("buffer_size", 16, {}),
    ("learning_rate", 0.0, {}), ("learning_rate", -1e-3, {}), ("learning_rate", NAN, {}), ("max_grad_norm", 0.0, {}),
    ("max_grad_norm", -1.0, {}), ("tau", 0.0, {}), ("tau", 1.5, {}), ("gamma", 1.5, {}), ("gamma", NAN, {}),
    ("epsilon_start", 2.0, {}), ("epsilon_end", -0.1, {}), ("priority_alpha", 2.0, {}), ("priority_beta_start", -1.0, {}),
    ("eval_every", 3, {}), ("eval_every", -1, {}), ("eval_episodes", 0, {}), ("loss", "mse", {}), ("hidden_sizes", (0,), {}),
    ("hidden_sizes", "64", {}), ("double_dqn", "yes", {}), ("prioritized", 1, {}), ("num_steps", 0, {}), ("num_steps", 1e4, {}),
    ("batch_size", 0, {}), ("train_every", 0, {}), ("target_update_period", 0, {}), ("epsilon_decay_steps", -5, {}),
    ("anneal_learning_rate", "no", {}),
):  # fmt: skip
    case(f"DQNConfig-{name}={value!r}", dqn.DQNConfig, names=name, error=(TypeError, ValueError), **{**SMALL_DQN, **extra, name: value})
GOOD_DQN = dqn.DQNConfig(num_steps=200, eval_every=0)
case("dqn.make_train-env-class", dqn.make_train, GOOD_DQN, CartPole, names="env", error=TypeError)
case("dqn.make_train-config-class", dqn.make_train, dqn.DQNConfig, names="config", error=TypeError)
case("dqn.make_train-config-dict", dqn.make_train, {"num_steps": 100}, names="config", error=TypeError)
case("dqn.make_train-progress_every", dqn.make_train, GOOD_DQN, progress_every=0, names="progress_every")
case("dqn.make_train-buffer_add", dqn.make_train, GOOD_DQN, buffer_add="uniform.add", names="buffer_add", error=TypeError)
case("dqn.make_train-step_fn", dqn.make_train, GOOD_DQN, step_fn=3, names="step_fn", error=TypeError)  # None: the default
case("dqn.train-int-seed", lambda seed: dqn.make_train(GOOD_DQN)(seed), 0, names="key", error=TypeError)
case("dqn.make_parts-prioritized-custom-buffer", dqn.make_parts, dataclasses.replace(GOOD_DQN, prioritized=True), buffer_add=lambda s, t: s, names="buffer_add")

# --- ppo ------------------------------------------------------------------------------------------------------

SMALL_PPO = {"total_timesteps": 1024}
for name, value in (
    ("num_envs", 0), ("num_steps", -1), ("num_minibatches", 3), ("total_timesteps", 100), ("update_epochs", 0),
    ("gamma", 1.5), ("gamma", NAN), ("gae_lambda", 1.5), ("gae_lambda", -0.1), ("gae_lambda", NAN), ("clip_eps", 0.0),
    ("clip_eps", -0.1), ("clip_eps", NAN), ("ent_coef", -0.01), ("ent_coef", NAN), ("vf_coef", -0.5), ("vf_coef", INF),
    ("max_grad_norm", 0.0), ("learning_rate", 0.0), ("learning_rate", -2.5e-4), ("activation", "sigmoid"),
    ("bootstrap_truncation", 0.7), ("clip_value", "yes"), ("anneal_lr", 1), ("normalize_advantages", None),
    ("hidden_sizes", (64, 0)), ("num_envs", 2.0),
):  # fmt: skip
    case(f"PPOConfig-{name}={value!r}", ppo.PPOConfig, names=name, error=(TypeError, ValueError), **{**SMALL_PPO, name: value})
LOGITS = jnp.zeros((3, 2))
for value in (2, -1):
    case(f"log_prob-action={value}", ppo.log_prob, LOGITS, jnp.array([0, value, 1]), names="action", traced=(1,))
case("log_prob-float-action", ppo.log_prob, LOGITS, jnp.array([0.0, 1.0, 1.0]), names="action", error=TypeError)
case("log_prob-action-shape", ppo.log_prob, LOGITS, jnp.array([[0], [1], [1]]), names="action")
case("log_prob-int-logits", ppo.log_prob, jnp.zeros((3, 2), jnp.int32), jnp.array([0, 1, 1]), names="logits", error=TypeError)
case("entropy-nan-logit", ppo.entropy, jnp.array([NAN, 0.0]), names="logits", traced=(0,))
case("entropy-scalar-logits", ppo.entropy, jnp.float32(1.0), names="logits")
case("entropy-int-logits", ppo.entropy, jnp.array([1, 2]), names="logits", error=TypeError)
GOOD_PPO = ppo.PPOConfig(**SMALL_PPO)
case("stack_configs-empty", ppo.stack_configs, [], names="configs")
case("stack_configs-not-config", ppo.stack_configs, [GOOD_PPO, {"clip_eps": 0.1}], names="configs", error=TypeError)
case("stack_configs-fixed-differs", ppo.stack_configs, [GOOD_PPO, dataclasses.replace(GOOD_PPO, num_envs=8)], names="configs")
case("ppo.make_train-env-class", ppo.make_train, GOOD_PPO, CartPole, names="env", error=TypeError)
case("ppo.make_train-config-class", ppo.make_train, ppo.PPOConfig, names="config", error=TypeError)
case("ppo.make_train-progress_every", ppo.make_train, GOOD_PPO, progress_every=0, names="progress_every")
case("ppo.make_train-gae_fn", ppo.make_train, GOOD_PPO, gae_fn="gae", names="gae_fn", error=(TypeError, ValueError))
case("ppo.train-int-seed", lambda seed: ppo.make_train(GOOD_PPO)(seed), 0, names="key", error=TypeError)
case("ppo.train-other-config", lambda c: ppo.make_train(GOOD_PPO)(KEY, c), dataclasses.replace(GOOD_PPO, num_envs=8), names="config")
case("ppo.make_parts-loss_fn-no-clip", ppo.make_parts, dataclasses.replace(GOOD_PPO, clip_value=False), loss_fn=ppo.ppo_loss, names="loss_fn")


# --- running a row ---------------------------------------------------------------------------------------------


def run(row: Case, variant: str) -> Any:
    """Run the row's bad input eagerly, under ``jax.jit``, or as one step of a ``lax.scan``."""
    if variant == "eager":
        return jax.block_until_ready(row.call(*row.traced))
    if variant == "jit":
        return jax.block_until_ready(jax.jit(row.call)(*row.traced))
    stacked = jax.tree.map(lambda leaf: jnp.stack([jnp.asarray(leaf)] * 2), row.traced)
    return jax.block_until_ready(lax.scan(lambda carry, xs: (carry, row.call(*xs)), 0, stacked)[1])


def outcome(row: Case, variant: str) -> tuple[str, str]:
    """``("clear" | "cryptic" | "silent", message)``: clear is the expected error type (or JAX's runtime
    error carrying it, from a compiled check) with a message that names the argument."""
    try:
        run(row, variant)
    except Exception as error:  # noqa: BLE001 -- every error is classified
        message = str(error)
        expected = row.error if isinstance(row.error, tuple) else (row.error,)
        right_type = isinstance(error, expected) or (
            isinstance(error, jax.errors.JaxRuntimeError)
            and any(f"{kind.__name__}: " in message for kind in expected)
        )
        clear = right_type and row.names in message
        return ("clear" if clear else "cryptic"), f"{type(error).__name__}: {message.strip().splitlines()[-1][:300]}"
    return "silent", "no error"


def _compiled_rows() -> list[Case]:
    """The rows the jit and scan variants run: one per function and argument (each compilation costs
    about a tenth of a second, and every bad value of one argument goes through the same check)."""
    seen, rows = set(), []
    for row in CASES:
        if row.traced and (row.id.split("-")[0], row.names) not in seen:
            seen.add((row.id.split("-")[0], row.names))
            rows.append(row)
    return rows


COMPILED = _compiled_rows()
VARIANTS = [(row, "eager") for row in CASES] + [(row, variant) for row in COMPILED for variant in ("jit", "scan")]


@pytest.mark.parametrize("row, variant", VARIANTS, ids=[f"{row.id}-{variant}" for row, variant in VARIANTS])
def test_bad_input_gets_a_clear_error(row: Case, variant: str) -> None:
    kind, message = outcome(row, variant)
    assert kind == "clear", f"{row.id} ({variant}): expected {row.error} naming {row.names!r}, got {kind}: {message}"


def test_the_table_covers_at_least_200_bad_inputs() -> None:
    assert len(CASES) >= 200
    assert len({row.id for row in CASES}) == len(CASES), "row ids must be unique"


# --- inputs that are not errors but used to be mishandled: they are now handled correctly -------------------------


def test_integer_rewards_are_discounted_as_floats() -> None:
    got = returns.discounted_returns(jnp.array([1, 0, 2]), 0.5)
    np.testing.assert_allclose(got, [1.5, 1.0, 2.0])


def test_a_list_of_q_values_is_accepted() -> None:
    assert int(tabular.greedy(KEY, [0.0, 3.0, 1.0])) == 1


def test_a_list_of_hidden_sizes_gives_a_hashable_config() -> None:
    config = dqn.DQNConfig(hidden_sizes=[8, 8], num_steps=200, eval_every=0)
    assert config.hidden_sizes == (8, 8) and hash(config) == hash(dataclasses.replace(config, hidden_sizes=(8, 8)))
    assert ppo.PPOConfig(hidden_sizes=[8], **SMALL_PPO).hidden_sizes == (8,)


def test_a_masked_action_has_finite_entropy() -> None:
    got = ppo.entropy(jnp.array([-INF, 0.0, 0.0]))
    np.testing.assert_allclose(got, math.log(2.0), rtol=1e-6)


def test_a_terminal_inf_next_value_is_not_used() -> None:
    assert float(returns.td_target(1.0, INF, True, 0.9)) == 1.0


def test_good_input_passes_compiled_checks_under_vmap() -> None:
    """The compiled checks must not fire on good input under vmap (a cond turned into a select would)."""
    gammas = jnp.array([0.0, 0.5, 1.0])
    got = jax.jit(jax.vmap(lambda g: returns.discounted_returns(R3, g)))(gammas)
    np.testing.assert_allclose(got[0], R3)
    actions = jnp.array([0, 1, 1])
    steps = jax.jit(jax.vmap(lambda a: CP.step(KEY, CP_STATE, a)[2]))(actions)
    np.testing.assert_array_equal(steps, jnp.ones(3))


def test_a_bad_value_in_one_vmapped_element_is_named() -> None:
    with pytest.raises(jax.errors.JaxRuntimeError, match="gamma must lie in"):
        jax.block_until_ready(jax.jit(jax.vmap(lambda g: returns.discounted_returns(R3, g)))(jnp.array([0.5, 1.5])))


if __name__ == "__main__":
    counts: dict[str, int] = {"clear": 0, "cryptic": 0, "silent": 0}
    row_counts = dict(counts)
    for row in CASES:
        kinds = [outcome(row, variant)[0] for variant in ("eager", "jit", "scan") if variant == "eager" or row.traced]  # every row
        for kind in kinds:
            counts[kind] += 1
        worst = "silent" if "silent" in kinds else "cryptic" if "cryptic" in kinds else "clear"
        row_counts[worst] += 1
        if "-v" in sys.argv and worst != "clear":
            print(f"{worst:8} {row.id}: {[outcome(row, v)[1] for v in ('eager', 'jit', 'scan') if v == 'eager' or row.traced]}")
    print(f"rows {len(CASES)} (worst variant): {row_counts}")
    print(f"row x variant {sum(counts.values())}: {counts}")
