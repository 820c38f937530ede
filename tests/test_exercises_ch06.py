"""Chapter 06's checks: valid answers written differently pass; each typical mistake fails with its own hint."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from course_lib import returns
from course_lib.agents import ppo
from course_lib.exercises import ch06
from tests.exercise_helpers import assert_verdict, not_started, run


# --- 6.1 GAE -----------------------------------------------------------------------------------------------


def loop_gae(rewards, values, next_values, terminated, done, gamma, lam, mistake=None):
    """GAE with a Python loop from the last step down (valid: no scan)."""
    not_term = 1.0 - (done if mistake == "done in delta" else terminated).astype(jnp.float32)
    deltas = rewards + gamma * not_term * next_values - values
    advantages, next_advantage = [], jnp.zeros_like(rewards[0])
    for t in reversed(range(rewards.shape[0])):
        keep = 1.0 if mistake == "flows across" else 1.0 - done[t].astype(jnp.float32)
        next_advantage = deltas[t] + gamma * lam * keep * next_advantage
        advantages.append(next_advantage)
    advantages = jnp.stack(advantages[::-1])
    return advantages, advantages + values


def flipped_scan_gae(rewards, values, next_values, terminated, done, gamma, lam):
    """Valid: flip time, scan forwards, flip back; where() instead of multiplying by (1 - x)."""
    deltas = rewards + jnp.where(terminated, 0.0, gamma * next_values) - values

    def body(carry, inputs):
        delta, end = inputs
        advantage = delta + jnp.where(end, 0.0, gamma * lam * carry)
        return advantage, advantage

    _, flipped = jax.lax.scan(body, jnp.zeros(rewards.shape[1:]), (deltas[::-1], done[::-1]))
    return flipped[::-1], flipped[::-1] + values


def float_carry_gae(rewards, values, next_values, terminated, done, gamma, lam):
    """A carry started as the Python float 0.0: right for one environment, breaks with an env axis."""
    deltas = rewards + gamma * (1.0 - terminated) * next_values - values

    def body(carry, inputs):
        delta, end = inputs
        advantage = delta + gamma * lam * (1.0 - end) * carry
        return advantage, advantage

    _, advantages = jax.lax.scan(body, 0.0, (deltas, done), reverse=True)
    return advantages, advantages + values


def truncation_is_end_gae(rewards, values, next_values, terminated, done, gamma, lam):
    return loop_gae(rewards, values, next_values, terminated, done, gamma, lam, mistake="done in delta")


def no_reset_gae(rewards, values, next_values, terminated, done, gamma, lam):
    return loop_gae(rewards, values, next_values, terminated, done, gamma, lam, mistake="flows across")


def hard_coded_gamma_gae(rewards, values, next_values, terminated, done, gamma, lam):
    return loop_gae(rewards, values, next_values, terminated, done, 0.99, lam)


def python_if_gae(rewards, values, next_values, terminated, done, gamma, lam):
    """Right values op by op, but `if lam == 0` on a traced lambda fails under jit."""
    if lam == 0:
        return returns.gae(rewards, values, next_values, terminated, done, gamma, 0.0)
    return loop_gae(rewards, values, next_values, terminated, done, gamma, lam)


def next_row_value_gae(rewards, values, next_values, terminated, done, gamma, lam):
    """The next step's value read from values (values[t + 1]), next_values only after the last step."""
    steps = rewards.shape[0]
    advantages = [None] * steps
    last = jnp.zeros_like(rewards[0])
    for t in reversed(range(steps)):
        next_value = next_values[t] if t == steps - 1 else values[t + 1]
        delta = rewards[t] + gamma * (1.0 - terminated[t]) * next_value - values[t]
        last = delta + gamma * lam * (1.0 - done[t]) * last
        advantages[t] = last
    advantages = jnp.stack(advantages)
    return advantages, advantages + values


def lambda_times_delta_gae(rewards, values, next_values, terminated, done, gamma, lam):
    deltas = lam * (rewards + gamma * next_values * (1 - terminated) - values)

    def body(carry, inputs):
        delta, end = inputs
        advantage = delta + gamma * lam * (1 - end) * carry
        return advantage, advantage

    _, advantages = jax.lax.scan(body, jnp.zeros_like(deltas[0]), (deltas, done), reverse=True)
    return advantages, advantages + values


def no_gamma_in_recursion_gae(rewards, values, next_values, terminated, done, gamma, lam):
    deltas = rewards + gamma * next_values * (1 - terminated) - values

    def body(carry, inputs):
        delta, end = inputs
        advantage = delta + lam * (1 - end) * carry
        return advantage, advantage

    _, advantages = jax.lax.scan(body, jnp.zeros_like(deltas[0]), (deltas, done), reverse=True)
    return advantages, advantages + values


def advantages_as_targets_gae(*args):
    advantages, _ = loop_gae(*args)
    return advantages, advantages


@pytest.mark.parametrize("answer", [returns.gae, loop_gae, flipped_scan_gae])
def test_gae_valid_answers_pass(answer, capsys):
    assert_verdict(*run(ch06.check_gae, answer, capsys), answer, "✅", "jax.jit and jax.vmap")


@pytest.mark.parametrize(
    ("answer", "says"),
    [
        (truncation_is_end_gae, "Only a termination means no future"),
        (no_reset_gae, "flows back across an episode's end"),
        (advantages_as_targets_gae, "the advantage plus the value"),
        (float_carry_gae, "zeros shaped like one time step"),
        (hard_coded_gamma_gae, "use the gamma passed in"),
        (next_row_value_gae, "bootstraps from values[t + 1]"),
        (lambda_times_delta_gae, "lambda went into the TD error"),
        (no_gamma_in_recursion_gae, "discounted by gamma * lam, not by lam alone"),
        (python_if_gae, "fails under jax.jit"),
    ],
)
def test_gae_mistakes_fail_with_the_hint_that_names_them(answer, says, capsys):
    used, out = run(ch06.check_gae, answer, capsys)
    assert_verdict(used, out, answer, "❌", says)
    assert used is returns.gae


def test_gae_placeholder_is_not_started(capsys):
    used, out = run(ch06.check_gae, not_started, capsys)
    assert_verdict(used, out, not_started, "⏳")
    assert used is returns.gae


# --- 6.2 the PPO loss --------------------------------------------------------------------------------------


def scratch_loss(params, apply, batch, config, mistake=None, ddof=0):
    """The PPO loss from scratch, differently from course_lib, with one optional mistake."""
    logits, value = apply(params, batch.obs)
    if mistake == "frozen value":
        value = jax.lax.stop_gradient(value)
    log_probs = jax.nn.log_softmax(logits)
    new_log_prob = log_probs[jnp.arange(batch.action.shape[0]), batch.action]
    if mistake == "frozen log prob":
        new_log_prob = jax.lax.stop_gradient(new_log_prob)
    ratio = jnp.exp(new_log_prob - batch.old_log_prob)
    adv = batch.advantage
    adv = (adv - adv.mean()) / (jnp.sqrt(jnp.sum((adv - adv.mean()) ** 2) / (adv.size - ddof)) + 1e-8)
    eps = 0.2 if mistake == "hard-coded clip" else config.clip_eps
    low, high = ratio * adv, jnp.clip(ratio, 1 - eps, 1 + eps) * adv
    surrogate = jnp.maximum(low, high) if mistake == "max" else jnp.minimum(low, high)
    if mistake == "min of means":
        surrogate = jnp.minimum(jnp.mean(low), jnp.mean(high))
    v_clip = batch.old_value + jnp.clip(value - batch.old_value, -eps, eps)
    value_loss = 0.5 * jnp.mean(jnp.maximum((value - batch.target) ** 2, (v_clip - batch.target) ** 2))
    probs = jax.nn.softmax(logits)
    ent = -jnp.sum(probs * log_probs, axis=-1).mean()
    ent_sign = 1.0 if mistake == "entropy penalty" else -1.0
    return -surrogate.mean() + config.vf_coef * value_loss + ent_sign * config.ent_coef * ent


def sample_std_loss(params, apply, batch, config):
    return scratch_loss(params, apply, batch, config, ddof=1)


def python_if_loss(params, apply, batch, config):
    """Right op by op, but a Python `if` on clip_eps fails once the config's fields are traced."""
    if config.clip_eps == float("inf"):
        return scratch_loss(params, apply, batch, dataclasses.replace(config, clip_eps=1e9))
    return scratch_loss(params, apply, batch, config)


@pytest.mark.parametrize("answer", [ppo.ppo_loss, scratch_loss, sample_std_loss])
def test_loss_valid_answers_pass_with_matching_gradients(answer, capsys):
    assert_verdict(*run(ch06.check_ppo_loss, answer, capsys), answer, "✅", "gradients match")


@pytest.mark.parametrize(
    ("mistake", "says"),
    [
        ("frozen value", "freezes the critic"),
        ("frozen log prob", "the new log-probability must stay differentiable"),
        ("max", "take the minimum"),
        ("min of means", "of the two means"),
        ("entropy penalty", "the entropy is a bonus"),
        ("hard-coded clip", "read clip_eps from config"),
    ],
)
def test_loss_mistakes_fail_with_the_hint_that_names_them(mistake, says, capsys):
    def answer(params, apply, batch, config):
        return scratch_loss(params, apply, batch, config, mistake=mistake)

    used, out = run(ch06.check_ppo_loss, answer, capsys)
    assert_verdict(used, out, answer, "❌", says)
    assert used is ppo.ppo_loss


def test_loss_that_breaks_under_jit_gets_the_jit_hint(capsys):
    used, out = run(ch06.check_ppo_loss, python_if_loss, capsys)
    assert_verdict(used, out, python_if_loss, "❌", "jax.jit")
    assert used is ppo.ppo_loss


def test_loss_placeholder_is_not_started(capsys):
    used, out = run(ch06.check_ppo_loss, not_started, capsys)
    assert_verdict(used, out, not_started, "⏳")
    assert used is ppo.ppo_loss


def test_the_loss_cases_move_ratios_past_the_clip_range():
    """Clipping must matter in the check's data, or a loss without it would pass."""
    apply, old_params, new_params, batch = ch06._loss_setup()
    _, info = ppo.loss_terms(new_params, apply, batch, ppo.PUREJAXRL_CONFIG)
    assert float(info.clip_fraction) > 0.3
    _, info = ppo.loss_terms(old_params, apply, batch, ppo.PUREJAXRL_CONFIG)
    assert float(info.clip_fraction) == 0.0
    assert np.isfinite(float(ppo.ppo_loss(new_params, apply, batch, dataclasses.replace(ppo.PUREJAXRL_CONFIG, clip_eps=jnp.inf))))
