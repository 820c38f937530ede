"""course_lib.agents.ppo: the distribution, the loss by hand, rollouts, GAE wiring, config, training."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from course_lib.agents import ppo

TINY = dataclasses.replace(ppo.PUREJAXRL_CONFIG, num_envs=2, num_steps=16, total_timesteps=128, num_minibatches=2)
RAW = dataclasses.replace(TINY, normalize_advantages=False)  # hand computations use the advantage as given


def test_log_prob_and_entropy_of_a_categorical():
    logits = jnp.log(jnp.array([[0.2, 0.8], [0.5, 0.5]]))
    np.testing.assert_allclose(ppo.log_prob(logits, jnp.array([1, 0])), np.log([0.8, 0.5]), rtol=1e-6)
    np.testing.assert_allclose(ppo.entropy(logits), [-(0.2 * np.log(0.2) + 0.8 * np.log(0.8)), np.log(2)], rtol=1e-6)


def one_sample_batch(ratio, advantage, value=1.0, old_value=0.0, target=2.0):
    """A 'network' whose log-probability of action 0 and value are fixed numbers, for hand computation."""

    def apply(params, obs):
        logits = jnp.stack([jnp.full(obs.shape[0], params["log_p"]), jnp.full(obs.shape[0], -1e9)], -1)
        return logits, jnp.full(obs.shape[0], params["value"])

    batch = ppo.Minibatch(
        obs=jnp.zeros((1, 4)), action=jnp.zeros(1, jnp.int32), old_log_prob=jnp.array([-jnp.log(ratio)]),
        old_value=jnp.array([old_value]), advantage=jnp.array([advantage]), target=jnp.array([target]),
    )  # fmt: skip
    return apply, {"log_p": jnp.float32(0.0), "value": jnp.float32(value)}, batch


@pytest.mark.parametrize(
    ("ratio", "advantage", "expected_policy_loss"),
    [(1.5, 1.0, -1.2), (1.1, 1.0, -1.1), (0.5, -1.0, 0.8), (0.5, 1.0, -0.5), (1.5, -1.0, 1.5)],
)
def test_the_clipped_surrogate_by_hand(ratio, advantage, expected_policy_loss):
    apply, params, batch = one_sample_batch(ratio, advantage)
    _, info = ppo.loss_terms(params, apply, batch, RAW)
    np.testing.assert_allclose(info.policy_loss, expected_policy_loss, rtol=1e-5)
    unclipped = ppo.loss_terms(params, apply, batch, dataclasses.replace(RAW, clip_eps=jnp.inf))[1].policy_loss
    np.testing.assert_allclose(unclipped, -ratio * advantage, rtol=1e-5)


def test_the_clipped_value_loss_and_the_total_by_hand():
    apply, params, batch = one_sample_batch(1.0, 1.0, value=1.0, old_value=0.0, target=2.0)
    # V moved 1.0 from old 0.0; clipped to 0.2: errors (1 - 2)^2 = 1 and (0.2 - 2)^2 = 3.24 -> max 3.24.
    config = dataclasses.replace(RAW, vf_coef=0.5, ent_coef=0.0)
    total, info = ppo.loss_terms(params, apply, batch, config)
    np.testing.assert_allclose(info.value_loss, 0.5 * 3.24, rtol=1e-5)
    np.testing.assert_allclose(total, -1.0 + 0.5 * 1.62, rtol=1e-5)
    assert ppo.ppo_loss(params, apply, batch, config) == total
    _, plain = ppo.loss_terms(params, apply, batch, dataclasses.replace(config, clip_value=False))
    np.testing.assert_allclose(plain.value_loss, 0.5, rtol=1e-5)


def test_a_rollout_is_time_by_envs_and_stores_the_true_final_observation():
    parts = ppo.make_parts(dataclasses.replace(TINY, num_steps=64))
    state = ppo.init_state(parts, jax.random.key(0))
    _, rollout, finished = jax.jit(ppo.collect_rollout, static_argnums=0)(parts, state, jax.random.key(1))
    assert rollout.obs.shape == (64, 2, 4) and rollout.action.shape == (64, 2) and finished.shape == (64, 2)
    done = np.asarray(rollout.terminated | rollout.truncated)
    assert done.any()
    obs, final = np.asarray(rollout.obs), np.asarray(rollout.final_obs)
    continues = ~done[:-1]
    np.testing.assert_array_equal(final[:-1][continues], obs[1:][continues])
    assert not np.allclose(final[:-1][done[:-1]], obs[1:][done[:-1]])  # the reset obs is not stored
    # A finished episode's return is its length (CartPole pays 1 per step).
    assert np.all(np.asarray(finished)[~done] == 0) and np.all(np.asarray(finished)[done] >= 1)


def test_truncation_is_bootstrapped_unless_the_config_says_otherwise():
    parts = ppo.make_parts(TINY)
    params = ppo.init_state(parts, jax.random.key(0)).params
    t, n = 4, 1
    rollout = ppo.Rollout(
        obs=jnp.zeros((t, n, 4)), action=jnp.zeros((t, n), jnp.int32), log_prob=jnp.zeros((t, n)),
        value=jnp.zeros((t, n)), reward=jnp.ones((t, n)), terminated=jnp.zeros((t, n), bool),
        truncated=jnp.zeros((t, n), bool).at[3, 0].set(True), final_obs=jnp.full((t, n, 4), 0.3),
    )  # fmt: skip
    _, final_value = parts.network.apply(params, rollout.final_obs[3, 0])
    bootstrapped, _ = ppo.advantages_and_targets(parts, params, rollout)
    as_end = dataclasses.replace(parts, config=dataclasses.replace(TINY, bootstrap_truncation=False))
    cut, _ = ppo.advantages_and_targets(as_end, params, rollout)
    np.testing.assert_allclose(bootstrapped[3, 0], 1.0 + 0.99 * final_value, rtol=1e-5)
    np.testing.assert_allclose(cut[3, 0], 1.0, rtol=1e-6)


def test_train_is_reproducible_and_reports_every_update():
    train = jax.jit(ppo.make_train(TINY))
    first, again = train(jax.random.key(0)), train(jax.random.key(0))
    assert first.metrics.episodes.shape == (TINY.num_updates,) == (4,)
    assert jax.tree.all(jax.tree.map(lambda a, b: bool(jnp.array_equal(a, b)), first, again))
    assert np.all(np.asarray(first.metrics.entropy) > 0.6)  # near-uniform policy at the start (log 2 = 0.69)


def test_progress_is_reported_in_environment_steps_while_the_loop_runs():
    seen = []
    train = ppo.make_train(TINY, progress=lambda steps: seen.append(int(steps)), progress_every=40)
    jax.block_until_ready(jax.jit(train)(jax.random.key(0)))
    assert sorted(seen) == [64, 96, 128]  # 32 steps per update: the first update past 40, past 80, the end
    with pytest.raises(ValueError, match="progress_every"):
        ppo.make_train(TINY, progress_every=0)


def test_traced_fields_vmap_over_variants_in_one_compilation():
    train = jax.jit(jax.vmap(ppo.make_train(TINY)))
    variants = ppo.stack_configs(
        [dataclasses.replace(TINY, gae_lambda=0.0), dataclasses.replace(TINY, clip_eps=jnp.inf, bootstrap_truncation=False)]
    )
    assert variants.gae_lambda.shape == (2,) and variants.bootstrap_truncation.dtype == bool
    results = train(jax.random.split(jax.random.key(0), 2), variants)
    assert results.metrics.policy_loss.shape == (2, 4)
    assert not np.allclose(results.metrics.value_loss[0], results.metrics.value_loss[1])
    # The same variant through the stacked config and on its own gives the same run.
    alone = jax.jit(ppo.make_train(TINY))(jax.random.split(jax.random.key(0), 2)[0], dataclasses.replace(TINY, gae_lambda=0.0))
    np.testing.assert_allclose(results.metrics.value_loss[0], alone.metrics.value_loss, rtol=1e-5)


def test_only_traced_fields_may_differ_and_concrete_overrides_are_checked():
    with pytest.raises(ValueError, match="differ: learning_rate"):
        ppo.stack_configs([TINY, dataclasses.replace(TINY, learning_rate=1e-3)])
    with pytest.raises(ValueError, match="gae_lambda must lie in"):
        dataclasses.replace(TINY, gae_lambda=jnp.array([0.5, 1.5]))  # an array of variants is checked too
    with pytest.raises(ValueError, match="bootstrap_truncation must be True or False"):
        dataclasses.replace(TINY, bootstrap_truncation=0.0)
    with pytest.raises(ValueError, match="only in gae_lambda"):
        ppo.make_train(TINY)(jax.random.key(0), dataclasses.replace(TINY, ent_coef=0.5))
    assert jax.tree.leaves(TINY) == [TINY.gae_lambda, TINY.clip_eps, TINY.bootstrap_truncation]


def test_the_learners_gae_and_loss_are_the_ones_training_uses():
    def run(**hooks):
        return jax.jit(ppo.make_train(TINY, **hooks))(jax.random.key(0)).metrics

    default = run()
    same = run(gae_fn=lambda *args: ppo.returns.gae(*args), loss_fn=lambda *args: ppo.ppo_loss(*args))
    np.testing.assert_allclose(same.value_loss, default.value_loss, rtol=1e-5)
    frozen_critic = run(loss_fn=lambda p, apply, batch, config: ppo.ppo_loss(jax.lax.stop_gradient(p), apply, batch, config))
    assert np.allclose(frozen_critic.approx_kl, 0.0)  # no gradient: the policy never moves
    no_advantage = run(gae_fn=lambda r, v, nv, t, d, g, lam: (jnp.zeros_like(r), v))
    assert not np.allclose(no_advantage.value_loss, default.value_loss)
    with pytest.raises(ValueError, match="normalize_advantages"):
        ppo.make_train(dataclasses.replace(TINY, normalize_advantages=False), loss_fn=ppo.ppo_loss)


@pytest.mark.parametrize(
    ("change", "name"),
    [({"num_minibatches": 3}, "num_minibatches"), ({"total_timesteps": 10}, "total_timesteps"),
     ({"gae_lambda": 1.5}, "gae_lambda"), ({"activation": "sigmoid"}, "activation"), ({"num_envs": 0}, "num_envs"),
     ({"clip_eps": -0.1}, "clip_eps")],
)  # fmt: skip
def test_bad_configs_are_refused_by_name(change, name):
    with pytest.raises(ValueError, match=name):
        dataclasses.replace(TINY, **change)


def test_the_purejaxrl_configuration():
    config = ppo.PUREJAXRL_CONFIG
    assert (config.num_envs, config.num_steps, config.total_timesteps) == (4, 128, 500_000)
    assert (config.update_epochs, config.num_minibatches, config.gamma, config.gae_lambda) == (4, 4, 0.99, 0.95)
    assert (config.clip_eps, config.ent_coef, config.vf_coef, config.max_grad_norm) == (0.2, 0.01, 0.5, 0.5)
    assert (config.learning_rate, config.anneal_lr, config.activation) == (2.5e-4, True, "tanh")
    assert config.num_updates == 976 and config.minibatch_size == 128
