"""Checks for chapter 00, JAX for reinforcement learning.

Each check runs the learner's function on many cases drawn from a fixed seed plus the edge cases of the
exercise, under ``jax.jit`` (and ``jax.vmap`` where the chapter batches it), and names the known mistake
a wrong answer equals.
"""

from __future__ import annotations

from collections.abc import Callable

import jax.numpy as jnp
import numpy as np
from jax import lax

from course_lib import bandits, returns
from course_lib.checking import Case, Mistake, check

# --- Exercise 0.1 ----------------------------------------------------------------------------------------


def _sample_average_cases() -> list[Case]:
    """Edge cases (a first pull, the last arm, the same arm twice), then random bandits of 4 and 10 arms
    whose arms have been pulled 0 to 9 times; the pulled arm is random, so it is not always arm 0."""
    estimates = jnp.array([0.0, 0.5, -1.0, 2.0])
    counts = jnp.array([0, 2, 1, 4], dtype=jnp.int32)
    twice = bandits.sample_average_update(estimates, counts, 2, 1.0)
    cases = [
        Case("arm 1, pulled twice before, reward 2.0", (estimates, counts, 1, 2.0)),
        Case(
            "arm 0, never pulled before",
            (estimates, counts, 0, 3.0),
            hint="after its first pull an arm's estimate equals that reward (step size 1/1).",
        ),
        Case("the last arm, a negative reward", (estimates, counts, 3, -1.5)),
        Case("the same arm twice in a row", (*twice, 2, 4.0)),
    ]
    rng = np.random.default_rng(2000)
    for i, num_arms in enumerate([4, 10, 10, 4, 10, 10]):
        counts = rng.integers(0, 10, num_arms).astype(np.int32)
        action = int(rng.integers(num_arms))
        counts[action] = max(counts[action], 2 + i % 3)  # a step size other than 1 and 1/2
        cases.append(
            Case(
                f"random bandit {i + 1}: {num_arms} arms, arm {action} pulled {counts[action]} times before",
                (
                    jnp.asarray(rng.normal(0.0, 1.0, num_arms), jnp.float32),
                    jnp.asarray(counts),
                    action,
                    float(np.round(rng.normal(0.5, 2.0), 3)),
                ),
            )
        )
    return cases


def _old_count(estimates, counts, action, reward):
    step = 1.0 / jnp.maximum(counts[action], 1)
    return estimates.at[action].add(step * (reward - estimates[action])), counts.at[action].add(1)


def _constant_step(estimates, counts, action, reward):
    return estimates.at[action].add(0.1 * (reward - estimates[action])), counts.at[action].add(1)


def _last_reward(estimates, counts, action, reward):
    return estimates.at[action].set(reward), counts.at[action].add(1)


def _counts_not_returned(estimates, counts, action, reward):
    return estimates.at[action].add((reward - estimates[action]) / (counts[action] + 1)), counts


def _every_arm(estimates, counts, action, reward):
    new_counts = counts.at[action].add(1)
    return estimates + (reward - estimates) / jnp.maximum(new_counts, 1), new_counts


def _swapped(estimates, counts, action, reward):
    return bandits.sample_average_update(estimates, counts, action, reward)[::-1]


def _integer_step(estimates, counts, action, reward):
    new_counts = counts.at[action].add(1)
    return estimates.at[action].add((1 // new_counts[action]) * (reward - estimates[action])), new_counts


def _float_counts(estimates, counts, action, reward):
    new_estimates, new_counts = bandits.sample_average_update(estimates, counts, action, reward)
    return new_estimates, new_counts.astype(jnp.float32)


SAMPLE_AVERAGE_MISTAKES = [
    Mistake(
        "you divide by the count from before this pull. Increment counts[action] first, then move the "
        "estimate by 1 / (the new count) of the error.",
        _old_count,
    ),
    Mistake(
        "the step size is 1 / N(a), the new count of the pulled arm, not a constant: a constant step size "
        "weights recent rewards more and never settles on the average.",
        _constant_step,
    ),
    Mistake(
        "the estimate is set to the last reward. Move it only 1 / N(a) of the way from its old value towards "
        "the reward, so that it stays the average of all the arm's rewards.",
        _last_reward,
    ),
    Mistake(
        "the estimate is right, but the counts come back unchanged: return the incremented counts too, or the "
        "next pull of this arm will use the wrong step size.",
        _counts_not_returned,
    ),
    Mistake(
        "every arm's estimate moved. Only the pulled arm learns from this reward: change the entry at "
        "`action` with .at[action] and leave the others as they were.",
        _every_arm,
    ),
    Mistake("return the two arrays in the order (new_estimates, new_counts).", _swapped),
    Mistake(
        "1 // N is integer division (0 once N > 1): divide with / to get a float step size.",
        _integer_step,
    ),
    Mistake(
        "the counts came back as floats: keep them integers (add the integer 1 to counts[action]).",
        _float_counts,
    ),
]


def check_sample_average_update(fn: Callable) -> Callable:
    """Exercise 0.1: the incremental sample-average update of one arm's estimate.

    The chapter runs it inside ``jax.jit`` and ``jax.vmap`` (``run_many``), so both are checked."""
    return check(
        "Exercise 0.1 (sample_average_update)",
        fn,
        bandits.sample_average_update,
        _sample_average_cases(),
        jit=True,
        vmap=True,
        mistakes=SAMPLE_AVERAGE_MISTAKES,
    )


# --- Exercise 0.2 ----------------------------------------------------------------------------------------


def _discounted_returns_cases() -> list[Case]:
    """Edge cases (one step, gamma = 0 and 1, a batch axis), then random episodes from a fixed seed:
    gammas in (0.3, 0.99), some with a batch of 3 episodes riding along."""
    rewards = jnp.array([1.0, 0.0, -1.0, 2.0, 0.5])
    cases = [
        Case("five rewards, gamma = 0.9", (rewards, 0.9)),
        Case("a single reward", (jnp.array([3.0]), 0.9), hint="an episode of one step returns its only reward."),
        Case("gamma = 0", (rewards, 0.0), hint="with gamma = 0 every return is just the immediate reward."),
        Case("gamma = 1", (rewards, 1.0), hint="with gamma = 1 the return is the plain sum of the rewards to come."),
        Case(
            "a batch of 3 episodes, rewards shaped (T=4, 3)",
            (jnp.arange(12.0).reshape(4, 3) - 4.0, 0.5),
            hint="time is the first axis; any other axis (here, 3 episodes) rides along unchanged.",
        ),
    ]
    rng = np.random.default_rng(2002)
    for i, shape in enumerate([(8,), (8,), (4, 3), (8,), (4, 3), (8,)]):  # few shapes: few compilations
        gamma = float(np.round(rng.uniform(0.3, 0.99), 3))
        cases.append(
            Case(
                f"random episode {i + 1}: rewards shaped {shape}, gamma = {gamma}",
                (jnp.asarray(rng.normal(0.0, 1.0, shape), jnp.float32), gamma),
            )
        )
    return cases


def _forwards(rewards, gamma):
    return lax.scan(lambda past, r: (r + gamma * past,) * 2, jnp.zeros_like(rewards[0]), rewards)[1]


def _scalar_carry(rewards, gamma):
    return lax.scan(lambda future, r: (r + gamma * future,) * 2, 0.0, rewards, reverse=True)[1]


def _no_discount(rewards, gamma):
    return jnp.cumsum(rewards[::-1], axis=0)[::-1]


def _reward_discounted(rewards, gamma):
    step = lambda future, r: (gamma * (r + future),) * 2
    return lax.scan(step, jnp.zeros_like(rewards[0]), rewards, reverse=True)[1]


def _next_return(rewards, gamma):
    step = lambda future, r: (r + gamma * future, future)
    return lax.scan(step, jnp.zeros_like(rewards[0]), rewards, reverse=True)[1]


def _final_carry(rewards, gamma):
    return lax.scan(lambda future, r: (r + gamma * future,) * 2, jnp.zeros_like(rewards[0]), rewards, reverse=True)[0]


def _discount_from_start(rewards, gamma):
    powers = gamma ** jnp.arange(rewards.shape[0], dtype=jnp.float32).reshape((-1,) + (1,) * (rewards.ndim - 1))
    return jnp.cumsum((powers * rewards)[::-1], axis=0)[::-1]


def _flip_every_axis(rewards, gamma):
    return jnp.flip(_forwards(jnp.flip(rewards), gamma))


def _not_flipped_back(rewards, gamma):
    return _forwards(rewards[::-1], gamma)


def _fixed_gamma(value: float) -> Callable:
    return lambda rewards, gamma: returns.discounted_returns(rewards, value)


SCAN_CARRY_HINT = (
    "the carry starts as a number, shape (), but the rewards of one step have shape rewards.shape[1:] "
    "(here, one per episode of the batch). Start the carry with the shape and dtype of one step's rewards: "
    "jnp.zeros_like(rewards[0])."
)

DISCOUNTED_RETURNS_MISTAKES = [
    Mistake(
        "your scan runs forwards, so each step adds up the rewards before it. G_t is built from the rewards "
        "after t: scan backwards with lax.scan(..., reverse=True).",
        _forwards,
    ),
    Mistake(SCAN_CARRY_HINT, _scalar_carry),
    Mistake("the rewards to come are summed without discounting: multiply the future return by gamma.", _no_discount),
    Mistake(
        "the reward of step t itself is discounted. G_t = r_t + gamma * G_{t+1}: only the future return "
        "is multiplied by gamma.",
        _reward_discounted,
    ),
    Mistake(
        "your scan outputs the return it was given (G_{t+1}) instead of the one it computed (G_t): emit "
        "the new carry as the output too.",
        _next_return,
    ),
    Mistake(
        "you returned lax.scan's final carry (G_0 alone). lax.scan returns (final_carry, stacked_outputs): "
        "return the stacked outputs, one G_t per step.",
        _final_carry,
    ),
    Mistake(
        "the discount is counted from the start of the episode (gamma^k for reward k). The return from t "
        "counts steps from t: the reward one step after t gets gamma, two steps after gamma^2.",
        _discount_from_start,
    ),
    Mistake(
        "jnp.flip without an axis reverses every axis, the batch too: reverse time only (axis=0), or scan "
        "with reverse=True.",
        _flip_every_axis,
    ),
    Mistake(
        "your returns come out in reverse order, the last step's first: you reversed the rewards along time "
        "to scan them, so reverse the scan's outputs back too (or scan with reverse=True and reverse nothing).",
        _not_flipped_back,
    ),
    *(
        Mistake(
            f"your returns are those for gamma = {value}, whatever gamma is passed in: use the gamma argument.",
            _fixed_gamma(value),
        )
        for value in (0.9, 0.99, 0.95)
    ),
]


def check_discounted_returns(fn: Callable) -> Callable:
    """Exercise 0.2: discounted returns of an episode with a reverse lax.scan, also under ``jax.jit``."""
    return check(
        "Exercise 0.2 (discounted_returns)",
        fn,
        returns.discounted_returns,
        _discounted_returns_cases(),
        rtol=1e-5,
        atol=1e-5,
        jit=True,
        mistakes=DISCOUNTED_RETURNS_MISTAKES,
    )
