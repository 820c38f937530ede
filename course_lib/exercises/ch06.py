"""Checks for chapter 06, PPO with GAE."""

from __future__ import annotations

import functools
from collections.abc import Callable

import jax
import jax.numpy as jnp

from course_lib import returns
from course_lib.agents import ppo
from course_lib.checking import Case, check


def _rollout_with_both_ends() -> dict[str, jax.Array]:
    """Two environments, 8 steps. Env 0 terminates at t = 2 (the pole falls); env 1 is truncated at
    t = 5 (the time limit) with a large value at its final observation, so a wrong bootstrap shows."""
    rewards = jnp.ones((8, 2), jnp.float32)
    values = jnp.array([[1.0, 2.0], [0.5, 1.5], [0.2, 1.0], [3.0, 4.0], [2.5, 3.5],
                        [2.0, 3.0], [1.5, 1.0], [1.0, 0.5]], jnp.float32)  # fmt: skip
    next_values = jnp.concatenate([values[1:], jnp.array([[0.8, 0.3]], jnp.float32)])
    next_values = next_values.at[2, 0].set(7.0)  # V(final obs) of a terminated step: must be ignored
    next_values = next_values.at[5, 1].set(9.0)  # V(final obs) of a truncated step: must be used
    terminated = jnp.zeros((8, 2), bool).at[2, 0].set(True)
    truncated = jnp.zeros((8, 2), bool).at[5, 1].set(True)
    return dict(
        rewards=rewards, values=values, next_values=next_values, terminated=terminated,
        done=terminated | truncated,
    )  # fmt: skip


def check_gae(fn: Callable) -> Callable:
    """Exercise 6.1: ``gae(rewards, values, next_values, terminated, done, gamma, lam) -> (advantages, targets)``."""
    r = _rollout_with_both_ends()
    args = (r["rewards"], r["values"], r["next_values"], r["terminated"], r["done"])
    no_end = {**r, "terminated": jnp.zeros_like(r["terminated"]), "done": jnp.zeros_like(r["done"])}
    cases = [
        Case(
            "no episode ends, gamma 0.99, lambda 0.95",
            (no_end["rewards"], no_end["values"], no_end["next_values"], no_end["terminated"], no_end["done"],
             0.99, 0.95),  # fmt: skip
            hint="delta_t = r_t + gamma * next_values_t - values_t; then backwards, A_t = delta_t + gamma * "
            "lam * A_{t+1} (a reverse lax.scan, or a Python loop from the last step down); targets = A + values.",
        ),
        Case(
            "lambda 0: one-step TD errors, with a termination and a truncation",
            (*args, 0.99, 0.0),
            hint="with lam = 0 the advantage is just delta_t = r_t + gamma * (1 - terminated_t) * "
            "next_values_t - values_t. Only termination zeroes the bootstrap: the truncated step (env 1, "
            "t = 5) still adds gamma * V(final observation); use terminated here, not done.",
        ),
        Case(
            "a termination (env 0, t = 2) and a truncation (env 1, t = 5)",
            (*args, 0.99, 0.95),
            hint="termination zeroes the bootstrap in delta_t (gamma * (1 - terminated) * next_values); a "
            "truncation keeps it (next_values holds V of the final observation); and at *either* end the "
            "sum must not flow back across into the previous episode: multiply A_{t+1} by (1 - done_t).",
        ),
        Case("lambda 1: Monte Carlo advantages", (*args, 0.9, 1.0)),
    ]
    return check("Exercise 6.1 (gae)", fn, returns.gae, cases, rtol=1e-5, atol=1e-5)


@functools.cache
def _loss_setup() -> tuple[Callable, object, object, ppo.Minibatch]:
    """A small actor-critic, two parameter sets (the rollout's and an updated one) and a minibatch."""
    network = ppo.nets.make_actor_critic(2, (16, 16))

    @jax.jit  # op by op, the orthogonal initialisation alone takes seconds to dispatch
    def arrays() -> tuple[object, object, ppo.Minibatch]:
        keys = jax.random.split(jax.random.key(6), 6)
        obs = jax.random.normal(keys[0], (64, 4))
        old_params = network.init(keys[1], obs[0])
        # Moved far enough that many ratios leave [0.8, 1.2], so clipping matters.
        leaf_keys = jax.random.split(keys[2], len(jax.tree.leaves(old_params)))
        noise = jax.tree.unflatten(jax.tree.structure(old_params), list(leaf_keys))
        new_params = jax.tree.map(lambda p, k: p + 0.5 * jax.random.normal(k, p.shape), old_params, noise)
        logits, old_value = network.apply(old_params, obs)
        action = jax.random.categorical(keys[3], logits)
        advantage = 2.0 * jax.random.normal(keys[4], (64,)) + 0.5
        target = old_value + jax.random.normal(keys[5], (64,))
        batch = ppo.Minibatch(obs, action, ppo.log_prob(logits, action), old_value, advantage, target)
        return old_params, new_params, batch

    return (network.apply, *arrays())


def _reference_loss(params, apply, batch, clip_eps, vf_coef, ent_coef):
    return ppo.ppo_loss(params, apply, batch, clip_eps, vf_coef, ent_coef)[0]


def check_ppo_loss(fn: Callable) -> Callable:
    """Exercise 6.2: ``ppo_loss(params, apply, batch, clip_eps, vf_coef, ent_coef) -> scalar loss``."""
    apply, old_params, new_params, batch = _loss_setup()
    cases = [
        Case(
            "the rollout's own parameters (every ratio is 1)",
            (old_params, apply, batch, 0.2, 0.5, 0.01),
            hint="ratio = exp(log pi_new - log pi_old); normalise the advantages within the minibatch, "
            "(A - mean) / (std + 1e-8); the loss to minimise is -mean(min(ratio * A, clip(ratio) * A)) + "
            "vf_coef * value_loss - ent_coef * entropy.",
        ),
        Case(
            "updated parameters: many ratios outside [0.8, 1.2]",
            (new_params, apply, batch, 0.2, 0.5, 0.01),
            hint="at ratio 1 the normalised advantages average to 0, so the first case cannot see the "
            "policy term's sign: minimise -mean(min(...)), the negative surrogate. Take the minimum of the "
            "clipped and unclipped terms (a pessimistic bound), not the maximum; and clip the value as old_value + clip(V - old_value, -eps, eps), taking the larger "
            "of the two squared errors, times 0.5.",
        ),
        Case(
            "no clipping (clip_eps = inf)",
            (new_params, apply, batch, jnp.inf, 0.5, 0.01),
            hint="with clip_eps = inf nothing is clipped; make sure infinities do not produce NaNs.",
        ),
        Case(
            "only the entropy bonus counts (vf_coef 0, ent_coef 1)",
            (new_params, apply, batch, 0.2, 0.0, 1.0),
            hint="the entropy is a bonus: subtract ent_coef * mean entropy from the loss, with entropy = "
            "-sum_a pi(a) log pi(a).",
        ),
    ]
    return check(
        "Exercise 6.2 (ppo_loss)", fn, _reference_loss, cases, rtol=1e-4, atol=1e-5, jit=True,
        static_argnums=(1,), compile_first=True,
    )  # fmt: skip
