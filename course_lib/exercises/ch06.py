"""Checks for chapter 06, PPO with GAE.

Both answers go into the chapter's training runs (``ppo.make_train(..., gae_fn=gae, loss_fn=ppo_loss)``),
under ``jit`` and ``vmap`` over seeds and over configs whose ``gae_lambda`` and ``clip_eps`` are arrays.
So the checks run every case compiled and batched, and the loss's gradients must match too: a loss with
the right value and a ``stop_gradient`` in the wrong place trains nothing.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from course_lib import returns
from course_lib.agents import ppo
from course_lib.checking import Case, Mistake, check

# --- Exercise 6.1: GAE. -----------------------------------------------------------------------------------


def _rollout(seed: int, steps: int, envs: int, end_rate: float) -> tuple[jax.Array, ...]:
    """A random rollout ``(steps, envs)``: rewards, values, next values, terminated, done."""
    rng = np.random.default_rng(seed)
    rewards = rng.normal(1.0, 1.0, (steps, envs)).astype(np.float32)
    values = rng.normal(2.0, 2.0, (steps, envs)).astype(np.float32)
    next_values = np.concatenate([values[1:], rng.normal(2.0, 2.0, (1, envs))]).astype(np.float32)
    ends = rng.random((steps, envs)) < end_rate
    terminated = ends & (rng.random((steps, envs)) < 0.5)
    # At an episode's end next_values holds V(final observation), not the next episode's first value.
    next_values = np.where(ends, rng.normal(8.0, 1.0, (steps, envs)), next_values).astype(np.float32)
    return tuple(map(jnp.asarray, (rewards, values, next_values, terminated, ends)))


def _both_ends() -> tuple[jax.Array, ...]:
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
    return rewards, values, next_values, terminated, terminated | truncated


def _gae_variant(*, delta_end: str = "terminated", flow_end: str | None = "done", forward: bool = False,
                 targets: str = "plus values", float_carry: bool = False, bootstrap: str = "next_values",
                 delta_lam: str | None = None, carry_gamma: bool = True) -> Callable:  # fmt: skip
    """GAE with one rule changed: the known mistakes of exercise 6.1."""

    def wrong(rewards, values, next_values, terminated, done, gamma, lam):
        ends = {"terminated": terminated, "done": done, None: jnp.zeros_like(done)}
        following = {  # the value the TD error bootstraps from: V of the observation after step t
            "next_values": next_values,
            "shifted": jnp.concatenate([values[1:], next_values[-1:]]),  # values[t + 1], next_values at the end
            "shifted, zero at the end": jnp.concatenate([values[1:], jnp.zeros_like(values[:1])]),
            "rolled": jnp.roll(values, -1, axis=0),
        }[bootstrap]
        discount = gamma * lam if delta_lam == "in the bootstrap" else gamma
        deltas = rewards + discount * (1.0 - ends[delta_end]) * following - values
        if delta_lam == "times delta":
            deltas = lam * deltas
        keep = 1.0 - ends[flow_end]
        carried = gamma * lam if carry_gamma else lam

        def backwards(next_advantage, step):
            delta, keep_t = step
            advantage = delta + carried * keep_t * next_advantage
            return advantage, advantage

        start = 0.0 if float_carry else jnp.zeros_like(deltas[0])
        _, advantages = jax.lax.scan(backwards, start, (deltas, keep), reverse=not forward)
        return advantages, (advantages + values if targets == "plus values" else advantages)

    return wrong


GAE_MISTAKES = [
    Mistake(
        "the TD error zeroes the bootstrap at every episode end, truncations included. Only a termination "
        "means no future: use terminated in delta_t, and keep gamma * V(final observation) on a truncation.",
        _gae_variant(delta_end="done"),
    ),
    Mistake(
        "the TD error bootstraps past a termination: when the pole fell there is no next state, so multiply "
        "gamma * next_values by (1 - terminated).",
        _gae_variant(delta_end=None),
    ),
    Mistake(
        "the advantage flows back across an episode's end: A_{t+1} belongs to the next episode, so multiply "
        "it by (1 - done_t), at a truncation as well as at a termination.",
        _gae_variant(flow_end=None),
    ),
    Mistake(
        "the advantage stops at terminations only: at a truncation the next step is another episode too, "
        "so reset with done, not terminated.",
        _gae_variant(flow_end="terminated"),
    ),
    Mistake(
        "the recursion runs forwards in time: A_t needs A_{t+1}, so scan from the last step to the first "
        "(lax.scan with reverse=True).",
        _gae_variant(forward=True),
    ),
    Mistake(
        "the targets are the advantages alone: the critic regresses on A_t + V(s_t), the advantage plus "
        "the value it was measured against.",
        _gae_variant(targets="advantages"),
    ),
    Mistake(
        "the scan's carry starts as a number, shaped (), while each step's advantage has one value per "
        "environment: start it as zeros shaped like one time step (jnp.zeros_like of the first delta).",
        _gae_variant(float_carry=True),
    ),
    *(
        Mistake(
            "the TD error bootstraps from values[t + 1], the next row of the rollout: use next_values[t], the "
            "value of the observation that followed step t. The two differ at an episode's end, where the next "
            "row already belongs to the next episode.",
            _gae_variant(bootstrap=bootstrap),
        )
        for bootstrap in ("shifted", "shifted, zero at the end", "rolled")
    ),
    *(
        Mistake(
            "lambda went into the TD error: delta_t has gamma but no lambda. Lambda only weighs the advantage "
            "carried back from the next step, gamma * lam * A_{t+1}.",
            _gae_variant(delta_lam=delta_lam),
        )
        for delta_lam in ("times delta", "in the bootstrap")
    ),
    Mistake(
        "the advantage carried back from the next step lacks gamma: A_{t+1} is one step later, so it is "
        "discounted by gamma * lam, not by lam alone.",
        _gae_variant(carry_gamma=False),
    ),
    Mistake(
        "use the gamma passed in, not a number of your own (the check varies it).",
        lambda r, v, nv, term, done, gamma, lam: returns.gae(r, v, nv, term, done, 0.99, lam),
    ),
    Mistake(
        "use the lam passed in, not a number of your own (the check varies it).",
        lambda r, v, nv, term, done, gamma, lam: returns.gae(r, v, nv, term, done, gamma, 0.95),
    ),
]


def check_gae(fn: Callable) -> Callable:
    """Exercise 6.1: ``gae(rewards, values, next_values, terminated, done, gamma, lam) -> (advantages, targets)``."""
    both = _both_ends()
    no_end = (*both[:3], jnp.zeros_like(both[3]), jnp.zeros_like(both[4]))
    cases = [
        Case(
            "no episode ends, gamma 0.99, lambda 0.95",
            (*no_end, 0.99, 0.95),
            hint="delta_t = r_t + gamma * next_values_t - values_t, then backwards in time A_t = delta_t + "
            "gamma * lam * A_{t+1}; targets = A + values.",
        ),
        Case("lambda 0: one-step TD errors, a termination and a truncation", (*both, 0.99, 0.0),
             hint="with lam = 0 the advantage is the TD error alone."),  # fmt: skip
        Case("a termination (env 0, t = 2) and a truncation (env 1, t = 5)", (*both, 0.99, 0.95)),
        Case("lambda 1: Monte Carlo advantages, gamma 0.9", (*both, 0.9, 1.0)),
        Case(
            "a single step", tuple(leaf[:1] for leaf in both) + (0.99, 0.95),
            hint="with one step there is nothing to scan back from: A_0 = delta_0.",
        ),  # fmt: skip
        Case(
            "one environment, rewards shaped (T,) with no env axis",
            tuple(leaf[:, 1] for leaf in both) + (0.97, 0.9),
            hint="start the scan's carry as zeros shaped like one time step (jnp.zeros_like of the first "
            "delta), so any number of environments, or none, rides along.",
        ),
    ]
    for seed in range(6):  # random rollouts: ends anywhere, every parameter varied
        steps, envs = (16, 4) if seed % 2 else (33, 3)
        gamma, lam = float(0.9 + 0.015 * seed), float(0.5 + 0.09 * seed)
        cases.append(Case(f"random rollout {seed + 1} ({steps} steps, {envs} envs, gamma {gamma:.3f}, lambda {lam:.2f})",
                          (*_rollout(seed, steps, envs, 0.15), gamma, lam)))  # fmt: skip
    return check(
        "Exercise 6.1 (gae)", fn, returns.gae, cases, rtol=1e-4, atol=1e-4, jit=True, vmap=True,
        mistakes=GAE_MISTAKES,
    )  # fmt: skip


# --- Exercise 6.2: the PPO loss. ------------------------------------------------------------------------


@functools.cache
def _loss_setup() -> tuple[Callable, object, object, ppo.Minibatch]:
    """A small actor-critic, two parameter sets (the rollout's and an updated one) and a minibatch."""
    network = ppo.nets.make_actor_critic(2, (16, 16))

    @jax.jit  # op by op, the orthogonal initialisation alone takes seconds to dispatch
    def arrays() -> tuple[object, object, ppo.Minibatch]:
        keys = jax.random.split(jax.random.key(6), 6)
        obs = jax.random.normal(keys[0], (64, 4))
        old_params = network.init(keys[1], obs[0])
        # Moved far enough that many ratios leave [0.8, 1.2] and values leave old +- 0.2.
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


def _loss_variant(mistake: str, ddof: int = 0) -> Callable:
    """The PPO loss with one known mistake (or none, with another std convention)."""

    def loss(params, apply, batch, config):
        eps = config.clip_eps
        logits, value = apply(params, batch.obs)
        if mistake == "frozen value":
            value = jax.lax.stop_gradient(value)
        new_log_prob = ppo.log_prob(logits, batch.action)
        if mistake == "frozen log prob":
            new_log_prob = jax.lax.stop_gradient(new_log_prob)
        ratio = jnp.exp(batch.old_log_prob - new_log_prob if mistake == "inverted ratio" else new_log_prob - batch.old_log_prob)
        advantage = batch.advantage
        if mistake != "no normalisation":
            advantage = (advantage - advantage.mean()) / (advantage.std(ddof=ddof) + 1e-8)
        clipped = jnp.clip(ratio, 1 - eps, 1 + eps) * advantage
        pick = jnp.maximum if mistake == "max" else jnp.minimum
        if mistake == "min of means":
            surrogate = jnp.minimum((ratio * advantage).mean(), clipped.mean())
        else:
            surrogate = pick(ratio * advantage, clipped).mean()
        policy_loss = surrogate if mistake == "ascent" else -surrogate
        squared = (value - batch.target) ** 2
        if mistake != "no value clipping":
            clipped_value = batch.old_value + jnp.clip(value - batch.old_value, -eps, eps)
            other = (clipped_value - batch.target) ** 2
            squared = jnp.minimum(squared, other) if mistake == "value min" else jnp.maximum(squared, other)
        value_loss = (1.0 if mistake == "no half" else 0.5) * squared.mean()
        bonus = ppo.entropy(logits).mean()
        sign = 1.0 if mistake == "entropy penalty" else -1.0
        return policy_loss + config.vf_coef * value_loss + sign * config.ent_coef * bonus

    return loss


LOSS_MISTAKES = [
    Mistake(
        "the value is right but the critic gets no gradient: a jax.lax.stop_gradient on the value (or on "
        "the network's value output) freezes the critic. Only the rollout's numbers are constants.",
        _loss_variant("frozen value"),
    ),
    Mistake(
        "the value is right but the policy gets no gradient: the new log-probability must stay "
        "differentiable; only old_log_prob, from the rollout, is a constant.",
        _loss_variant("frozen log prob"),
    ),
    Mistake("the ratio is upside down: ratio = exp(log pi_new - log pi_old), new over old.", _loss_variant("inverted ratio")),
    Mistake(
        "take the minimum of the unclipped and clipped terms, a pessimistic bound; the maximum lets the "
        "policy run away where the advantage is large.",
        _loss_variant("max"),
    ),
    Mistake(
        "the minimum is taken once, of the two means: take it for each sample first, between the two arrays, "
        "then the mean, so that each sample's ratio is clipped on its own.",
        _loss_variant("min of means"),
    ),
    Mistake(
        "the sign of the policy term: optimisers minimise, PPO maximises the surrogate, so the loss has "
        "-mean(min(...)).",
        _loss_variant("ascent"),
    ),
    Mistake(
        "normalise the advantages within the minibatch: (A - mean) / (std + 1e-8).", _loss_variant("no normalisation")
    ),
    Mistake(
        "clip the value too: V_clipped = old_value + clip(V - old_value, -clip_eps, clip_eps), and take the "
        "larger of the two squared errors.",
        _loss_variant("no value clipping"),
    ),
    Mistake(
        "of the two squared value errors take the larger (pessimistic, like the policy term), not the smaller.",
        _loss_variant("value min"),
    ),
    Mistake("the value loss is half the mean squared error: 0.5 * mean(...).", _loss_variant("no half")),
    Mistake(
        "the entropy is a bonus: subtract ent_coef * entropy from the loss, so higher entropy lowers it.",
        _loss_variant("entropy penalty"),
    ),
    *(
        Mistake(
            f"read {name} from config (config.{name}), not a number of your own: the check varies it, and "
            "chapter 06's ablations pass other values.",
            lambda params, apply, batch, config, name=name, value=value: ppo.ppo_loss(
                params, apply, batch, dataclasses.replace(config, **{name: value})
            ),
        )
        for name, value in (("clip_eps", 0.2), ("vf_coef", 0.5), ("ent_coef", 0.01))
    ),
]


def check_ppo_loss(fn: Callable) -> Callable:
    """Exercise 6.2: ``ppo_loss(params, apply, batch, config) -> scalar loss``."""
    apply, old_params, new_params, batch = _loss_setup()
    base = ppo.PUREJAXRL_CONFIG
    rng = np.random.default_rng(62)
    cases = [
        Case(
            "the rollout's own parameters (every ratio is 1)",
            (old_params, apply, batch, base),
            hint="ratio = exp(log pi_new - log pi_old); advantages normalised within the minibatch; the loss "
            "is -mean(min(ratio * A, clip(ratio) * A)) + vf_coef * value_loss - ent_coef * entropy.",
        ),
        Case("updated parameters: many ratios outside [0.8, 1.2]", (new_params, apply, batch, base)),
        Case(
            "no clipping (clip_eps = inf)",
            (new_params, apply, batch, dataclasses.replace(base, clip_eps=float("inf"))),
            hint="with clip_eps = inf nothing is clipped; make sure infinities do not produce NaNs.",
        ),
        Case(
            "only the entropy bonus counts (vf_coef 0, ent_coef 1)",
            (new_params, apply, batch, dataclasses.replace(base, vf_coef=0.0, ent_coef=1.0)),
            hint="read clip_eps, vf_coef and ent_coef from config, never as numbers of your own.",
        ),
    ]
    for number in range(3):  # every coefficient varied
        config = dataclasses.replace(
            base, clip_eps=float(rng.uniform(0.05, 0.4)), vf_coef=float(rng.uniform(0.1, 2.0)),
            ent_coef=float(rng.uniform(0.0, 0.2)),
        )  # fmt: skip
        cases.append(Case(
            f"clip_eps {config.clip_eps:.2f}, vf_coef {config.vf_coef:.2f}, ent_coef {config.ent_coef:.3f}",
            (new_params, apply, batch, config),
            hint="read clip_eps, vf_coef and ent_coef from config, never as numbers of your own.",
        ))  # fmt: skip
    return check(
        "Exercise 6.2 (ppo_loss)", fn, ppo.ppo_loss, cases, rtol=1e-4, atol=1e-5, jit=True,
        grad_argnums=0, static_argnums=(1,), mistakes=LOSS_MISTAKES,
        accept=[_loss_variant("", ddof=1)],  # the sample standard deviation is a common convention too
    )  # fmt: skip
