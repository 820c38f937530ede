"""Chapter 06's checks: correct answers written differently pass, typical mistakes fail with their hint."""

import jax
import jax.numpy as jnp
import pytest

from course_lib import returns
from course_lib.agents import ppo
from course_lib.exercises import ch06


def loop_gae(rewards, values, next_values, terminated, done, gamma, lam, mistake=None):
    """GAE with a Python loop from the last step down (a different way to write it)."""
    not_term = 1.0 - terminated.astype(jnp.float32)
    if mistake == "done in delta":
        not_term = 1.0 - done.astype(jnp.float32)
    deltas = rewards + gamma * not_term * next_values - values
    advantages, next_advantage = [], jnp.zeros_like(rewards[0])
    for t in reversed(range(rewards.shape[0])):
        carry = 1.0 if mistake == "flows across" else 1.0 - done[t].astype(jnp.float32)
        next_advantage = deltas[t] + gamma * lam * carry * next_advantage
        advantages.append(next_advantage)
    advantages = jnp.stack(advantages[::-1])
    return advantages, advantages + values


def run(check, fn, capsys):
    used = check(fn)
    return used, capsys.readouterr().out.replace("\n   ", " ")


def test_gae_written_as_a_loop_passes(capsys):
    used, out = run(ch06.check_gae, loop_gae, capsys)
    assert "correct" in out and used is loop_gae


@pytest.mark.parametrize(
    ("mistake", "case", "hint"),
    [("done in delta", "lambda 0", "not done"), ("flows across", "a termination (env 0, t = 2)", "(1 - done_t)")],
)
def test_gae_mistakes_fail_on_a_case_with_both_ends(mistake, case, hint, capsys):
    def learner(*args):
        return loop_gae(*args, mistake=mistake)

    used, out = run(ch06.check_gae, learner, capsys)
    assert "not yet" in out and case in out and hint in out
    assert used is returns.gae


def loss(params, apply, batch, clip_eps, vf_coef, ent_coef, mistake=None):
    """The PPO loss written from scratch, with one optional mistake."""
    logits, value = apply(params, batch.obs)
    log_probs = jax.nn.log_softmax(logits)
    new_log_prob = log_probs[jnp.arange(batch.action.shape[0]), batch.action]
    ratio = jnp.exp(new_log_prob - batch.old_log_prob)
    adv = batch.advantage
    if mistake != "no normalisation":
        adv = (adv - adv.mean()) / (adv.std() + 1e-8)
    surrogate = jnp.minimum(ratio * adv, jnp.clip(ratio, 1 - clip_eps, 1 + clip_eps) * adv)
    if mistake == "max":
        surrogate = jnp.maximum(ratio * adv, jnp.clip(ratio, 1 - clip_eps, 1 + clip_eps) * adv)
    clipped_value = batch.old_value + jnp.clip(value - batch.old_value, -clip_eps, clip_eps)
    value_loss = 0.5 * jnp.maximum((value - batch.target) ** 2, (clipped_value - batch.target) ** 2).mean()
    ent = -(jnp.exp(log_probs) * log_probs).sum(-1).mean()
    sign = 1.0 if mistake == "entropy sign" else -1.0
    policy_loss = surrogate.mean() if mistake == "ascent sign" else -surrogate.mean()
    return policy_loss + vf_coef * value_loss + sign * ent_coef * ent


def test_a_loss_written_from_scratch_passes(capsys):
    used, out = run(ch06.check_ppo_loss, loss, capsys)
    assert "correct" in out and used is loss


@pytest.mark.parametrize(
    ("mistake", "case", "hint"),
    [
        ("no normalisation", "the rollout's own parameters", "normalise the advantages"),
        ("ascent sign", "many ratios outside", "negative surrogate"),
        ("max", "many ratios outside", "minimum of the clipped"),
        ("entropy sign", "the rollout's own parameters", "ent_coef"),
    ],
)
def test_loss_mistakes_fail_with_their_hint(mistake, case, hint, capsys):
    def learner(*args):
        return loss(*args, mistake=mistake)

    used, out = run(ch06.check_ppo_loss, learner, capsys)
    assert "not yet" in out and case in out and hint in out
    assert used is not learner


def test_the_loss_check_cases_really_clip():
    apply, old_params, new_params, batch = ch06._loss_setup()
    _, info = ppo.ppo_loss(new_params, apply, batch, 0.2)
    assert float(info.clip_fraction) > 0.2
    _, info = ppo.ppo_loss(old_params, apply, batch, 0.2)
    assert float(info.clip_fraction) == 0.0
