"""Checks for chapter 01, Q-tables.

Chapter 01 runs both answers inside one jitted ``lax.scan`` under ``jax.vmap`` (over seeds, epsilons and
alphas), so both are checked compiled and batched; epsilon-greedy is judged by the distribution of its
actions over 20,000 keys per case, and must use each key once.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from course_lib import tabular
from course_lib.checking import Case, Mistake, check, check_sampler

# --- Exercise 1.1 ----------------------------------------------------------------------------------------

NUM_ACTIONS = 6  # not the maze's 4, so a hard-coded 4 is caught; one shape, so the check compiles once


def _epsilon_greedy_cases() -> list[Case]:
    """Edge cases (epsilon = 0 and 1, ties, a zero row), then random rows from a fixed seed: the best
    action(s) in different columns, often tied, and epsilons that are never 0.5 (where exploring with
    probability 1 - epsilon would look right). All rows have 6 actions."""
    f32 = lambda x: jnp.asarray(x, jnp.float32)
    q_values = f32([0.1, 0.5, -0.2, 0.0, -0.4, 0.3])
    cases = [
        Case(
            "one best action (1), epsilon = 0.1",
            (q_values, f32(0.1)),
            hint="the best action should come up with probability 1 - epsilon + epsilon / 6 = 91.7 %: "
            "explore with probability epsilon, and then draw from all actions, the greedy one included.",
        ),
        Case("epsilon = 0", (q_values, f32(0.0)), hint="with epsilon = 0 the agent never explores."),
        Case(
            "epsilon = 1",
            (q_values, f32(1.0)),
            hint="with epsilon = 1 every action is equally likely: the random action is drawn from all "
            "actions, the greedy one included.",
        ),
        Case("two tied best actions (1 and 4), epsilon = 0.2", (f32([0.0, 1.0, -1.0, 0.0, 1.0, 0.5]), f32(0.2))),
        Case("a row of zeros, as at the start of training, epsilon = 0.1", (jnp.zeros(NUM_ACTIONS), f32(0.1))),
    ]
    cases[3:] = [Case(case.name, case.args, hint=_probabilities(*case.args)) for case in cases[3:]]
    rng = np.random.default_rng(2101)
    for i in range(6):
        q = rng.integers(-1, 2, NUM_ACTIONS).astype(np.float32)  # values in {-1, 0, 1}: ties are common
        if i % 2:  # every other row has one best action, at a random place
            q[rng.integers(NUM_ACTIONS)] = 2.0
        epsilon = float(np.round(rng.choice([rng.uniform(0.2, 0.45), rng.uniform(0.55, 0.85)]), 2))
        best = np.flatnonzero(q == q.max()).tolist()
        cases.append(
            Case(
                f"random row {i + 1}: best {best}, epsilon = {epsilon}",
                (f32(q), f32(epsilon)),
                hint=_probabilities(q, epsilon),
            )
        )
    return cases


def _probabilities(q_values: jax.Array, epsilon: float) -> str:
    """A general hint: each action's probability on this case, from the rule the exercise states."""
    q, epsilon = np.asarray(q_values), float(epsilon)
    best = q == q.max()
    p = epsilon / q.size + (1 - epsilon) * best / best.sum()
    shown = ", ".join(f"{100 * x:.1f} %" for x in p)
    return (
        f"here the actions should come up with probabilities {shown}: epsilon / {q.size} each from exploring, "
        f"plus 1 - epsilon shared equally by the {int(best.sum())} best action(s)."
    )


def _keys(key: jax.Array, n: int = 3) -> jax.Array:
    return jax.random.split(key, n)


def _argmax_greedy(key, q_values, epsilon):
    explore_key, action_key = _keys(key, 2)
    random_action = jax.random.randint(action_key, (), 0, q_values.shape[-1])
    return jnp.where(jax.random.uniform(explore_key) < epsilon, random_action, jnp.argmax(q_values))


def _others_only(key, q_values, epsilon):
    explore_key, action_key, greedy_key = _keys(key)
    best = tabular.greedy(greedy_key, q_values)
    other = (best + jax.random.randint(action_key, (), 1, q_values.shape[-1])) % q_values.shape[-1]
    return jnp.where(jax.random.uniform(explore_key) < epsilon, other, best)


def _never_explores(key, q_values, epsilon):
    return tabular.greedy(key, q_values)


def _explores_one_minus(key, q_values, epsilon):
    return tabular.epsilon_greedy(key, q_values, 1.0 - epsilon)


def _always_explores(key, q_values, epsilon):
    return jax.random.randint(key, (), 0, q_values.shape[-1])


def _last_action_never_drawn(key, q_values, epsilon):
    explore_key, action_key, greedy_key = _keys(key)
    random_action = jax.random.randint(action_key, (), 0, q_values.shape[-1] - 1)
    return jnp.where(jax.random.uniform(explore_key) < epsilon, random_action, tabular.greedy(greedy_key, q_values))


def _four_actions(key, q_values, epsilon):
    explore_key, action_key, greedy_key = _keys(key)
    random_action = jax.random.randint(action_key, (), 0, 4)
    return jnp.where(jax.random.uniform(explore_key) < epsilon, random_action, tabular.greedy(greedy_key, q_values))


def _unshared_tie_probability(key, q_values, epsilon):
    is_best = q_values == q_values.max()
    probs = epsilon / q_values.shape[-1] + (1.0 - epsilon) * is_best
    return jax.random.choice(key, q_values.shape[-1], p=probs / probs.sum())


def _fixed_epsilon(value: float) -> Callable:
    return lambda key, q_values, epsilon: tabular.epsilon_greedy(key, q_values, value)


EPSILON_GREEDY_MISTAKES = [
    Mistake(
        "when several actions tie for the best value, you always take the first: jnp.argmax picks the "
        "first of tied actions. Break ties at random with tabular.greedy(key, q_values).",
        _argmax_greedy,
    ),
    Mistake(
        "your random action is never the greedy one. When the agent explores, draw from all the actions, "
        "the greedy one included: each action then has probability epsilon / num_actions from exploring.",
        _others_only,
    ),
    Mistake(
        "your agent never explores. With probability epsilon the action must be a uniformly random one.",
        _never_explores,
    ),
    Mistake(
        "your agent explores with probability 1 - epsilon. epsilon is the probability of exploring: "
        "explore when a uniform draw is below epsilon.",
        _explores_one_minus,
    ),
    Mistake(
        "your agent always explores: act at random only with probability epsilon, greedily otherwise.",
        _always_explores,
    ),
    Mistake(
        "the last action is never drawn at random: jax.random.randint's maxval is exclusive, so the "
        "random action needs maxval = the number of actions.",
        _last_action_never_drawn,
    ),
    Mistake(
        "your random action is drawn from 4 actions whatever the row's length: read the number of actions "
        "from q_values.shape.",
        _four_actions,
    ),
    Mistake(
        "with tied best actions, each of them gets the whole 1 - epsilon: the greedy share 1 - epsilon is "
        "split equally among the tied best actions.",
        _unshared_tie_probability,
    ),
    *(
        Mistake(
            f"your agent explores with probability {value}, whatever epsilon is passed in: use the epsilon "
            "argument.",
            _fixed_epsilon(value),
        )
        for value in (0.1, 0.05, 0.2)
    ),
]


def check_epsilon_greedy(fn: Callable) -> Callable:
    """Exercise 1.1: epsilon-greedy action selection, judged by the distribution of its actions over
    20,000 keys per case (run under ``jax.jit`` and ``jax.vmap``), and by its use of each key once."""
    return check_sampler(
        "Exercise 1.1 (epsilon_greedy)",
        fn,
        tabular.epsilon_greedy,
        _epsilon_greedy_cases(),
        num_outcomes=NUM_ACTIONS,
        mistakes=EPSILON_GREEDY_MISTAKES,
        single_use_keys=True,
    )


# --- Exercise 1.2 ----------------------------------------------------------------------------------------


def _q_table(rng: np.random.Generator, num_states: int, num_actions: int, s: int, a: int, s2: int) -> np.ndarray:
    """A random table whose rows have their maximum in different columns (every column is some row's best),
    on which the values a wrong bootstrap term could read for the step (s, a, s2) all differ, so that a
    failing answer matches one known mistake only."""
    while True:
        q = np.round(rng.normal(0.0, 1.0, (num_states, num_actions)), 2).astype(np.float32)
        candidates = [
            q[s2].max(), q[s2, a], q[s2].mean(), q[s].max(), q.max(), q[:, min(s2, num_actions - 1)].max(),
            q[s2].argmax(), 0.0,
        ]
        spread = np.min(np.abs(np.subtract.outer(candidates, candidates)) + np.eye(len(candidates)))
        if len(set(q.argmax(axis=1))) == num_actions and len(set(q.max(axis=1))) == num_states and spread > 0.05:
            return q


def _q_learning_cases() -> list[Case]:
    """Edge cases on one table (termination, gamma = 0, alpha = 1, s = s'), then random transitions from a
    fixed seed on tables of 6 x 4 and 5 x 3 whose row maxima sit in different columns, with the action
    taken never the best one of s' and alpha, gamma and termination all varied."""
    no, yes = jnp.array(False), jnp.array(True)
    rng = np.random.default_rng(2102)
    table = jnp.asarray(_q_table(rng, 6, 4, s=1, a=2, s2=4))  # the ordinary step's transition
    best = np.asarray(table).argmax(axis=1)
    loop_state = 5
    cases = [
        Case("an ordinary step: s=1, a=2, r=-0.01, s'=4", (table, 1, 2, -0.01, 4, no, 0.5, 0.9)),
        Case(
            "a terminal step: s=3, a=0, r=1.0, terminated",
            (table, 3, 0, 1.0, 5, yes, 0.5, 0.9),
            hint="when the episode terminated there is no next state: the target is the reward alone.",
        ),
        Case("gamma = 0", (table, 2, 1, 0.5, 4, no, 0.5, 0.0), hint="with gamma = 0 the target is r alone."),
        Case(
            "alpha = 1",
            (table, 0, 3, 0.2, 1, no, 1.0, 0.9),
            hint="with alpha = 1, Q(s, a) becomes the target r + gamma * max_a' Q(s', a').",
        ),
        Case(
            f"a step into the same state: s = s' = {loop_state}, a = {best[loop_state]}, that row's best action",
            (table, loop_state, int(best[loop_state]), -0.01, loop_state, no, 0.5, 0.9),
            hint="read max_a' Q(s', a') from the table as it was before this update.",
        ),
    ]
    for i, (num_states, num_actions) in enumerate([(6, 4)] * 5 + [(5, 3)] * 4):
        state, next_state = (int(x) for x in rng.integers(num_states, size=2))
        action = int(rng.integers(num_actions))
        q = _q_table(rng, num_states, num_actions, state, action, next_state)
        terminated = bool(i % 3 == 1)
        alpha = float(np.round(rng.uniform(0.1, 0.9), 2))
        gamma = float(np.round(rng.uniform(0.5, 0.99), 2))
        reward = float(np.round(rng.normal(0.0, 1.0), 2))
        cases.append(
            Case(
                f"random step {i + 1}: a {num_states} x {num_actions} table, s={state}, a={action}, r={reward}, "
                f"s'={next_state}, terminated={terminated}, alpha={alpha}, gamma={gamma}",
                (jnp.asarray(q), state, action, reward, next_state, jnp.array(terminated), alpha, gamma),
            )
        )
    return cases


def _no_terminal_mask(q, s, a, r, s2, terminated, alpha, gamma):
    return q.at[s, a].add(alpha * (r + gamma * q[s2].max() - q[s, a]))


def _inverted_mask(q, s, a, r, s2, terminated, alpha, gamma):
    return q.at[s, a].add(alpha * (r + gamma * terminated * q[s2].max() - q[s, a]))


def _with_next(next_value: Callable) -> Callable:
    def update(q, s, a, r, s2, terminated, alpha, gamma):
        bootstrap = jnp.where(terminated, 0.0, next_value(q, s, a, s2))
        return q.at[s, a].add(alpha * (r + gamma * bootstrap - q[s, a]))

    return update


def _ignores_alpha(q, s, a, r, s2, terminated, alpha, gamma):
    return q.at[s, a].set(r + gamma * jnp.where(terminated, 0.0, q[s2].max()))


def _alpha_times_target(q, s, a, r, s2, terminated, alpha, gamma):
    return q.at[s, a].set(alpha * (r + gamma * jnp.where(terminated, 0.0, q[s2].max())))


def _swapped_alpha_gamma(q, s, a, r, s2, terminated, alpha, gamma):
    return tabular.q_learning_update(q, s, a, r, s2, terminated, gamma, alpha)


def _whole_row(q, s, a, r, s2, terminated, alpha, gamma):
    target = r + gamma * jnp.where(terminated, 0.0, q[s2].max())
    return q.at[s].add(alpha * (target - q[s]))


def _reads_after_writing(q, s, a, r, s2, terminated, alpha, gamma):
    q = q.at[s, a].multiply(1.0 - alpha)
    return q.at[s, a].add(alpha * (r + gamma * jnp.where(terminated, 0.0, q[s2].max())))


def _new_value_only(q, s, a, r, s2, terminated, alpha, gamma):
    return tabular.q_learning_update(q, s, a, r, s2, terminated, alpha, gamma)[s, a]


def _fixed(alpha_value: float | None = None, gamma_value: float | None = None) -> Callable:
    def update(q, s, a, r, s2, terminated, alpha, gamma):
        alpha = alpha if alpha_value is None else alpha_value
        gamma = gamma if gamma_value is None else gamma_value
        return tabular.q_learning_update(q, s, a, r, s2, terminated, alpha, gamma)

    return update


Q_LEARNING_MISTAKES = [
    Mistake(
        "after a terminated step your target still adds gamma * max_a' Q(s', a'). When the episode "
        "terminated there is no future: drop the bootstrap term there (jnp.where on terminated).",
        _no_terminal_mask,
    ),
    Mistake(
        "your terminal mask is the wrong way round: it bootstraps only when the episode terminated. Keep "
        "gamma * max_a' Q(s', a') when not terminated, and drop it when terminated.",
        _inverted_mask,
    ),
    Mistake(
        "the target uses Q(s', a), the next state's value of the action just taken. Q-learning uses the "
        "best action in s': the max over the row of next_state.",
        _with_next(lambda q, s, a, s2: q[s2, a]),
    ),
    Mistake(
        "the target averages the next state's values. Q-learning takes their max: max_a' Q(s', a').",
        _with_next(lambda q, s, a, s2: q[s2].mean()),
    ),
    Mistake(
        "the bootstrap term reads the row of `state`; it should read the row of `next_state`.",
        _with_next(lambda q, s, a, s2: q[s].max()),
    ),
    Mistake(
        "the bootstrap term is the largest value in the whole table. Take the max over the next state's "
        "row only: q_table[next_state].",
        _with_next(lambda q, s, a, s2: q.max()),
    ),
    Mistake(
        "the bootstrap term reads a column (q_table[:, next_state]). Rows are states, columns actions: "
        "take the max over the row q_table[next_state].",
        _with_next(lambda q, s, a, s2: q[:, s2].max()),
    ),
    Mistake(
        "the bootstrap term is the index of the best next action (argmax), not its value (max).",
        _with_next(lambda q, s, a, s2: q[s2].argmax().astype(q.dtype)),
    ),
    Mistake(
        "Q(s, a) is replaced by the target, whatever alpha is. Move it only a step of size alpha towards "
        "the target: Q(s, a) + alpha * (target - Q(s, a)).",
        _ignores_alpha,
    ),
    Mistake(
        "Q(s, a) becomes alpha * target, and its old value is lost. Move it a step of size alpha from "
        "where it was towards the target.",
        _alpha_times_target,
    ),
    Mistake("alpha and gamma are swapped: alpha is the step size, gamma the discount.", _swapped_alpha_gamma),
    Mistake(
        "the whole row of `state` moved. Only the entry (state, action) learns from this step: "
        "q_table.at[state, action].",
        _whole_row,
    ),
    Mistake(
        "you read max_a' Q(s', a') after changing Q(s, a), so when s' = s the target uses the half-updated "
        "table. Compute the target from the table as it was, then update once.",
        _reads_after_writing,
    ),
    Mistake(
        "you returned the new value of Q(s, a) alone. Return the whole new table, with that one entry changed.",
        _new_value_only,
    ),
    *(
        Mistake(
            f"your update uses {name} = {value}, whatever {name} is passed in: use the {name} argument.",
            _fixed(**{f"{name}_value": value}),
        )
        for name, values in (("alpha", (0.5, 0.1)), ("gamma", (0.9, 0.95, 0.99)))
        for value in values
    ),
]


def check_q_learning_update(fn: Callable) -> Callable:
    """Exercise 1.2: one Q-learning update of a Q-table, also under ``jax.jit`` and ``jax.vmap``."""
    return check(
        "Exercise 1.2 (q_learning_update)",
        fn,
        tabular.q_learning_update,
        _q_learning_cases(),
        jit=True,
        vmap=True,
        mistakes=Q_LEARNING_MISTAKES,
    )
