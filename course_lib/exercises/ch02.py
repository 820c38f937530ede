"""Checks for chapter 02, deep Q-networks.

Every check builds its example parameters from keys other than the chapter's (the chapter's ``params``
come from ``jax.random.key(0)``), so an answer that reads the chapter's global ``params`` instead of its
own argument gives other numbers and is caught.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import haiku as hk
import jax
import jax.numpy as jnp
import numpy as np
import optax

from course_lib.agents import dqn
from course_lib.checking import Case, Mistake, check, check_sampler

CHAPTER_KEY = 0  # the chapter's params = q_network.init(jax.random.key(0), obs)


def _example_params(q_network: hk.Transformed, seed: int, obs_dim: int = 4) -> object:
    """Parameters from ``seed``, with every leaf nudged at random so that no bias is zero."""
    params = q_network.init(jax.random.key(seed), jnp.zeros(obs_dim))
    rng = np.random.default_rng(seed)
    return jax.tree.map(lambda leaf: leaf + jnp.asarray(rng.normal(0.0, 0.05, leaf.shape), leaf.dtype), params)


def _chapter_params(q_network: hk.Transformed, obs_dim: int = 4) -> object:
    """The chapter's global ``params``: Haiku's init depends only on the key and the input's shape."""
    return q_network.init(jax.random.key(CHAPTER_KEY), jnp.zeros(obs_dim))


def _greedy(q_network: hk.Transformed, params: object, obs: np.ndarray) -> np.ndarray:
    return np.asarray(jnp.argmax(q_network.apply(params, jnp.asarray(obs)), axis=-1))


# --- Exercise 2.1 ----------------------------------------------------------------------------------------


def _pick_observations(q_network: hk.Transformed, params: object) -> dict[str, jax.Array]:
    """Observations whose greedy actions, under the check's ``params`` and the chapter's, are:
    "0/0" both 0, "1/1" both non-zero and equal, "differ" different, "differ too" another such one.

    With two actions, "always action 0" and "the worst action" give the same answer where the greedy
    action is 1, and the chapter's ``params`` agree with the check's on some observations: the case order
    (0/0 first, 1/1 next, then where they differ) lets each of those mistakes fail first on a case where
    only it explains the answer, so its hint is the one shown."""
    rng = np.random.default_rng(2021)
    candidates = rng.normal(0.0, 1.0, (512, 4)).astype(np.float32)
    mine = _greedy(q_network, params, candidates)
    chapter = _greedy(q_network, _chapter_params(q_network), candidates)
    wanted = {
        "0/0": (mine == 0) & (chapter == 0),
        "1/1": (mine != 0) & (chapter == mine),
        "differ": mine != chapter,
    }
    picked = {}
    for name, where in wanted.items():
        index = np.flatnonzero(where)
        picked[name] = jnp.asarray(candidates[index[0] if index.size else 0])
        if name == "differ":
            picked["differ too"] = jnp.asarray(candidates[index[1] if index.size > 1 else 1])
    return picked


@functools.cache
def reference_select_action(q_network: hk.Transformed) -> Callable:
    """The reference for exercise 2.1, one object per network, so ``checking.whose_code`` can tell it from
    the learner's function after the check has returned one of the two."""
    return functools.partial(dqn.select_action, q_network.apply)


@functools.cache
def reference_dqn_loss(q_network: hk.Transformed) -> Callable:
    """The reference for exercise 2.2, one object per network (see :func:`reference_select_action`)."""
    return functools.partial(dqn.transition_loss, q_network.apply)


def check_select_action(fn: Callable, q_network: hk.Transformed) -> Callable:
    """Exercise 2.1: ``select_action(key, params, obs, epsilon)``, checked by the distribution of its actions
    over 20,000 keys per case, on observations with different greedy actions and several epsilons, and by
    its use of each key once (as chapter 01's epsilon_greedy)."""
    params = _example_params(q_network, 21)
    num_actions = int(q_network.apply(params, jnp.zeros(4)).shape[-1])
    obs = _pick_observations(q_network, params)
    reference = reference_select_action(q_network)

    def probability_hint(epsilon: float) -> str:
        greedy = 1 - epsilon + epsilon / num_actions
        return (
            f"with epsilon = {epsilon:g} and {num_actions} actions the greedy action should come up "
            f"1 - epsilon + epsilon / {num_actions} = {greedy:.1%} of the time: explore with probability "
            "epsilon (read it from the argument), and then draw from all actions, the greedy one included."
        )

    cases = [
        Case("greedy action 0, epsilon = 0.6", (params, obs["0/0"], 0.6), hint=probability_hint(0.6)),
        Case("greedy action 1, epsilon = 0.1", (params, obs["1/1"], 0.1), hint=probability_hint(0.1)),
        Case("another observation, epsilon = 0.3", (params, obs["differ"], 0.3), hint=probability_hint(0.3)),
        Case("another observation, epsilon = 0.05", (params, obs["differ too"], 0.05), hint=probability_hint(0.05)),
        Case("epsilon = 0: always greedy", (params, obs["1/1"], 0.0), hint="with epsilon = 0, always take the argmax."),
        Case(
            "epsilon = 1: uniform",
            (params, obs["0/0"], 1.0),
            hint="with epsilon = 1 every action is equally likely, the greedy one included.",
        ),
        Case("epsilon = 0.9", (params, obs["differ"], 0.9), hint=probability_hint(0.9)),
    ]

    chapter_params = _chapter_params(q_network)

    def greedy(params, obs):
        return jnp.argmax(q_network.apply(params, obs)).astype(jnp.int32)

    def draws(key):
        """Two independent uniform numbers in [0, 1) read from the key's own bits. A known mistake only
        has to give the right distribution, not the reference's draws; this compiles in a fraction of
        the time of jax.random's draws, so diagnosing a wrong answer stays quick."""
        bits = jax.random.key_data(key).reshape(-1)[:2]
        return (bits >> 8).astype(jnp.float32) / 2.0**24

    def action_from(u):
        return jnp.floor(u * num_actions).astype(jnp.int32)

    def explore_or(key, epsilon, greedy_action, random_action=None):
        coin, other = draws(key)
        random_action = action_from(other) if random_action is None else random_action
        return jnp.where(coin < epsilon, random_action, greedy_action).astype(jnp.int32)

    mistakes = [
        Mistake(
            "your actions follow the chapter's global `params`, not the `params` passed in: use the "
            "function's own argument (the check passes other parameters than the chapter's).",
            lambda key, params, obs, epsilon: explore_or(key, epsilon, greedy(chapter_params, obs)),
        ),
        Mistake(
            "your function never explores: every key gives the greedy action. Explore with probability "
            "epsilon, drawing from the key you are given.",
            lambda key, params, obs, epsilon: greedy(params, obs),
        ),
        Mistake(
            "when it explores, your function always picks the same action: one draw decides both whether "
            "to explore and which action to take. Split the key (jax.random.split) and use one key per draw.",
            lambda key, params, obs, epsilon: explore_or(
                key, epsilon, greedy(params, obs), action_from(draws(key)[0])
            ),
        ),
        Mistake(
            "when it explores, your action is tied to the draw that decided to explore: the same key was used "
            "twice. Split the key (jax.random.split) and use one key per draw.",
            lambda key, params, obs, epsilon: explore_or(
                key, epsilon, greedy(params, obs), (draws(key)[0] < 0.5).astype(jnp.int32)
            ),
        ),
        Mistake(
            "your greedy action is always action 0: take the argmax over the actions, the last axis of the "
            "Q-values (one observation in, Q-values of shape (num_actions,) out).",
            lambda key, params, obs, epsilon: explore_or(key, epsilon, jnp.int32(0)),
        ),
        Mistake(
            "your function picks the action with the lowest Q-value: the greedy action is the argmax.",
            lambda key, params, obs, epsilon: explore_or(
                key, epsilon, jnp.argmin(q_network.apply(params, obs)).astype(jnp.int32)
            ),
        ),
        Mistake(
            "your function explores with probability 1 - epsilon: explore when the uniform draw is below epsilon.",
            lambda key, params, obs, epsilon: explore_or(key, 1 - epsilon, greedy(params, obs)),
        ),
        Mistake(
            "when exploring, your function never picks the greedy action. In epsilon-greedy the random action "
            "is drawn from all actions, the greedy one included (chapter 01's tabular.epsilon_greedy does this).",
            lambda key, params, obs, epsilon: explore_or(
                key, epsilon, greedy(params, obs),
                (greedy(params, obs) + 1 + jnp.floor(draws(key)[1] * (num_actions - 1)).astype(jnp.int32))
                % num_actions,
            ),
        ),
        Mistake(
            "your actions do not depend on the Q-values: compute them with q_network.apply(params, obs) and "
            "act greedily on them when not exploring.",
            lambda key, params, obs, epsilon: action_from(draws(key)[1]),
        ),
    ]
    title = "Exercise 2.1 (select_action)"
    # A coin and a random action from one key (jax.random.uniform(key) < epsilon, then jax.random.randint(key,
    # ...)) give the right distribution of actions here: only JAX's key-reuse checker sees the reuse.
    return check_sampler(
        title, fn, reference, cases, num_outcomes=num_actions, mistakes=mistakes, single_use_keys=True
    )


# --- Exercise 2.2 ----------------------------------------------------------------------------------------


def _dqn_loss_mistakes(q_network: hk.Transformed) -> list[Mistake]:
    """Wrong DQN losses a learner plausibly writes, each with the hint that names it."""
    apply = q_network.apply
    chapter_params = _chapter_params(q_network)

    def loss(online, target, t, gamma, *, next_value=None, mask=True, prediction=None, error=None):
        """The DQN loss with one piece swapped out; every keyword is a function of the arguments."""
        value = apply(target, t.next_obs).max() if next_value is None else next_value(online, target, t)
        y = t.reward + gamma * (jnp.where(t.terminated, 0.0, value) if mask else value)
        q = apply(online, t.obs)[t.action] if prediction is None else prediction(online, t)
        return optax.huber_loss(y - q, delta=1.0) if error is None else error(y - q)

    return [
        Mistake(
            "your loss does not change with `online_params`, so nothing would learn: a "
            "jax.lax.stop_gradient belongs around the target only, never around the online Q-value or the "
            "TD error.",
            lambda o, tp, t, g: loss(
                o, tp, t, g, prediction=lambda o, t: jax.lax.stop_gradient(apply(o, t.obs)[t.action])
            ),
        ),
        Mistake(
            "your loss uses the chapter's global `params`, not its own argument `online_params`: a function "
            "must read everything from its arguments (the check passes other parameters than the chapter's).",
            lambda o, tp, t, g: loss(o, tp, t, g, prediction=lambda o, t: apply(chapter_params, t.obs)[t.action]),
        ),
        Mistake(
            "your target uses the online network: compute max_a' Q(next_obs, a') with `target_params`.",
            lambda o, tp, t, g: loss(o, tp, t, g, next_value=lambda o, tp, t: apply(o, t.next_obs).max()),
        ),
        Mistake(
            "that is a Double DQN target (the online network picks the next action, the target network values "
            "it). Plain DQN's target takes the max over the target network's Q-values of next_obs: "
            "max_a' Q(next_obs, a'; target_params).",
            lambda o, tp, t, g: loss(
                o, tp, t, g, next_value=lambda o, tp, t: apply(tp, t.next_obs)[jnp.argmax(apply(o, t.next_obs))]
            ),
        ),
        Mistake(
            "your target uses the index of the best next action (argmax), not its value: take the max.",
            lambda o, tp, t, g: loss(o, tp, t, g, next_value=lambda o, tp, t: jnp.argmax(apply(tp, t.next_obs))),
        ),
        Mistake(
            "your target values `obs`, not `next_obs`: the bootstrap term is the target network's max over the "
            "Q-values of the next observation.",
            lambda o, tp, t, g: loss(o, tp, t, g, next_value=lambda o, tp, t: apply(tp, t.obs).max()),
        ),
        Mistake(
            "your loss bootstraps after a termination: when `terminated` is true, nothing follows the last "
            "observation and the target is the reward alone (jnp.where, or multiply by 1 - terminated).",
            lambda o, tp, t, g: loss(o, tp, t, g, mask=False),
        ),
        Mistake(
            "your loss drops the bootstrap term on ordinary steps and keeps it after a termination: the mask is "
            "the wrong way round.",
            lambda o, tp, t, g: loss(
                o, tp, t, g, next_value=lambda o, tp, t: jnp.where(t.terminated, apply(tp, t.next_obs).max(), 0.0)
            ),
        ),
        Mistake(
            "your prediction is the online network's largest Q-value; the TD error uses its Q-value of the action "
            "taken, q_values[transition.action].",
            lambda o, tp, t, g: loss(o, tp, t, g, prediction=lambda o, t: apply(o, t.obs).max()),
        ),
        Mistake(
            "that is half the squared TD error; use the Huber loss, optax.huber_loss(delta, delta=1.0): the same "
            "for |delta| <= 1, linear beyond, so a surprising reward cannot throw the network far off.",
            lambda o, tp, t, g: loss(o, tp, t, g, error=lambda d: 0.5 * d**2),
        ),
        Mistake(
            "that is the squared TD error; use the Huber loss, optax.huber_loss(delta, delta=1.0): half the "
            "squared error for |delta| <= 1, linear beyond.",
            lambda o, tp, t, g: loss(o, tp, t, g, error=lambda d: d**2),
        ),
        Mistake(
            "your loss ignores the `gamma` passed in (0.99 is hard-coded?): read the discount from the argument.",
            lambda o, tp, t, g: loss(o, tp, t, 0.99),
        ),
    ]


def _differing_next_obs(q_network: hk.Transformed, online: object, target: object) -> jax.Array:
    """An observation on which the online and the target network prefer different actions, where a Double
    DQN target differs from the plain one."""
    rng = np.random.default_rng(2022)
    candidates = rng.normal(0.0, 1.0, (512, 4)).astype(np.float32)
    differ = np.flatnonzero(_greedy(q_network, online, candidates) != _greedy(q_network, target, candidates))
    return jnp.asarray(candidates[differ[0] if differ.size else 0])


def check_dqn_loss(fn: Callable, q_network: hk.Transformed) -> Callable:
    """Exercise 2.2: the Huber loss of one transition's TD error, with the target from the target network.

    Values and gradients with respect to ``online_params`` are compared on every case, and every case runs
    again under ``jax.jit`` (the chapter compiles the loss) and ``jax.vmap`` (the chapter batches it)."""
    online, target = _example_params(q_network, 11), _example_params(q_network, 12)
    reference = reference_dqn_loss(q_network)
    rng = np.random.default_rng(2022)

    def transition(obs, action, reward, next_obs, terminated):
        return dqn.Transition(
            jnp.asarray(obs, jnp.float32), jnp.int32(action), jnp.float32(reward),
            jnp.asarray(next_obs, jnp.float32), jnp.array(bool(terminated)),
        )  # fmt: skip

    def state():
        return rng.normal(0.0, 0.7, 4)

    split = _differing_next_obs(q_network, online, target)
    named = [
        Case(
            "an ordinary step: action 1, reward 1, gamma = 0.99",
            (online, target, transition(state(), 1, 1.0, state(), False), 0.99),
            hint="target = reward + gamma * max_a' Q(next_obs, a'; target_params); the loss is the Huber loss "
            "of target - Q(obs, action; online_params).",
        ),
        Case(
            "a terminal step",
            (online, target, transition(state(), 0, 1.0, state(), True), 0.99),
            hint="when terminated, the target is the reward alone: nothing follows the last observation.",
        ),
        Case(
            "a large TD error (reward 10)",
            (online, target, transition(state(), 0, 10.0, state(), False), 0.99),
            hint="beyond |delta| = 1 the Huber loss grows linearly, not quadratically.",
        ),
        Case(
            "a large negative TD error (reward -8), terminated",
            (online, target, transition(state(), 1, -8.0, state(), True), 0.9),
            hint="beyond |delta| = 1 the Huber loss grows linearly; after a termination the target is the reward.",
        ),
        Case(
            "gamma = 0: the target is the reward",
            (online, target, transition(state(), 1, 0.5, state(), False), 0.0),
            hint="with gamma = 0 the target is the reward alone: read gamma from the argument.",
        ),
        Case(
            "the online and the target network prefer different next actions",
            (online, target, transition(state(), 0, 1.0, split, False), 0.9),
            hint="the bootstrap term is the largest of the target network's Q-values of next_obs.",
        ),
        Case(
            "online and target parameters the same",
            (online, online, transition(state(), 1, 1.0, state(), False), 0.99),
        ),
    ]
    random_cases = []
    for i in range(8):
        reward, gamma = rng.choice([1.0, 0.0, -1.0, 2.5]), rng.choice([0.99, 0.9, 0.5])
        random_cases.append(
            Case(
                f"random transition {i + 1} (reward {reward:g}, gamma {gamma:g})",
                (online, target, transition(state(), i % 2, reward, state(), rng.random() < 0.3), float(gamma)),
                hint="compare your target, TD error and loss with the equations above, one at a time.",
            )
        )
    return check(
        "Exercise 2.2 (dqn_loss)",
        fn,
        reference,
        named[:2] + random_cases + named[2:],
        rtol=1e-4,
        atol=1e-5,
        jit=True,
        vmap=True,
        grad_argnums=0,
        mistakes=_dqn_loss_mistakes(q_network),
    )


# --- Exercise 2.3 ----------------------------------------------------------------------------------------


def check_polyak_update(fn: Callable, q_network: hk.Transformed) -> Callable:
    """Exercise 2.3: the soft target update ``tau * online + (1 - tau) * target``, leaf by leaf, for several
    tau (0 and 1 included), under ``jax.jit`` too; the inputs must come back unchanged."""
    online, target = _example_params(q_network, 31), _example_params(q_network, 32)
    other_online, other_target = _example_params(q_network, 33), _example_params(q_network, 34)

    def reference(online_params, target_params, tau):
        return optax.incremental_update(online_params, target_params, tau)

    def mix(weight_online, weight_target):
        return lambda o, t, tau: jax.tree.map(
            lambda a, b: weight_online(tau) * a + weight_target(tau) * b, o, t
        )

    mistakes = [
        Mistake(
            "online and target are swapped: tau weighs the *online* parameters, so the target moves a small "
            "step towards the online network.",
            mix(lambda tau: 1 - tau, lambda tau: tau),
        ),
        Mistake(
            "your function returns the online parameters: a hard copy. With tau < 1 the target moves only the "
            "fraction tau of the way towards the online parameters.",
            lambda o, t, tau: o,
        ),
        Mistake(
            "your function returns the target parameters unchanged: move them the fraction tau of the way "
            "towards the online parameters.",
            lambda o, t, tau: t,
        ),
        Mistake(
            "your function returns the step, tau * (online - target), not the new target: add the step to the "
            "target parameters.",
            mix(lambda tau: tau, lambda tau: -tau),
        ),
        Mistake(
            "your function ignores the `tau` passed in (0.005 is hard-coded?): read it from the argument.",
            lambda o, t, tau: reference(o, t, 0.005),
        ),
        Mistake(
            "your function ignores the `tau` passed in (0.01 is hard-coded?): read it from the argument.",
            lambda o, t, tau: reference(o, t, 0.01),
        ),
    ]
    hint = "new target = tau * online + (1 - tau) * target, leaf by leaf (jax.tree.map over both pytrees)."
    cases = [
        Case("tau = 0.005", (online, target, 0.005), hint=hint),
        Case("tau = 0.1", (online, target, 0.1), hint=hint),
        Case("tau = 0.3, other parameters", (other_online, other_target, 0.3), hint=hint),
        Case("tau = 0.75", (online, other_target, 0.75), hint=hint),
        Case(
            "tau = 1: a hard copy", (online, target, 1.0), hint="with tau = 1 the target becomes the online parameters."
        ),
        Case("tau = 0: no change", (online, target, 0.0), hint="with tau = 0 the target stays as it is."),
    ]
    return check("Exercise 2.3 (polyak_update)", fn, reference, cases, jit=True, mistakes=mistakes)
