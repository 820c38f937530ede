"""course_lib.agents.dqn.make_train: the training loop's plumbing, and that it learns."""

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from course_lib.agents import dqn
from course_lib.buffers import prioritized

TINY = dqn.DQNConfig(
    num_steps=300, buffer_size=512, batch_size=8, learning_starts=16, eval_every=100, eval_episodes=2,
    epsilon_decay_steps=100,
)


def run_steps(config, num_steps, seed=0, step_fn=dqn.train_step):
    parts = dqn.make_parts(config)
    state = dqn.init_state(parts, jax.random.key(seed))
    step = jax.jit(functools.partial(step_fn, parts))
    states, metrics = [state], []
    for key in jax.random.split(jax.random.key(seed + 1), num_steps):
        state, m = step(state, key)
        states.append(state)
        metrics.append(m)
    return parts, states, jax.tree.map(lambda *xs: jnp.stack(xs), *metrics)


def test_train_returns_well_shaped_results_and_is_reproducible():
    train = jax.jit(dqn.make_train(TINY))
    first, again = train(jax.random.key(3)), train(jax.random.key(3))
    assert first.steps.done.shape == (300,) and first.eval_returns.shape == (3,)
    assert jax.tree.all(jax.tree.map(lambda a, b: bool(jnp.array_equal(a, b)), first, again))
    other = train(jax.random.key(4))
    assert not jnp.array_equal(first.steps.loss, other.steps.loss)
    # CartPole pays 1 per step, so each finished episode's return is its length.
    done = np.asarray(first.steps.done)
    ends = np.flatnonzero(done)
    lengths = np.diff(np.concatenate([[-1], ends]))
    assert np.array_equal(np.asarray(first.steps.episode_return)[ends], lengths)
    assert np.all(np.asarray(first.steps.episode_return)[~done] == 0)
    # No update before learning_starts, an update (a loss) at every step after.
    loss = np.asarray(first.steps.loss)
    assert np.all(loss[: TINY.learning_starts - 1] == 0) and np.all(loss[TINY.learning_starts :] > 0)


def test_evaluation_can_be_turned_off_and_seeds_vmap():
    config = dqn.DQNConfig(num_steps=64, buffer_size=64, batch_size=8, learning_starts=8, eval_every=0)
    results = jax.jit(jax.vmap(dqn.make_train(config)))(jax.random.split(jax.random.key(0), 3))
    assert results.eval_returns.shape == (3, 0) and results.steps.done.shape == (3, 64)


def test_the_best_evaluated_parameters_are_kept():
    result = jax.jit(dqn.make_train(TINY))(jax.random.key(5))
    returns = np.asarray(result.eval_returns)
    assert float(result.best_return) == returns.max()
    # Re-evaluating the kept parameters on the evaluation's own key reproduces the best return.
    parts = dqn.make_parts(TINY)
    _, _, eval_key = jax.random.split(jax.random.key(5), 3)
    best = int(np.argmax(returns))
    key = jax.random.split(eval_key, len(returns))[best]
    again = dqn.greedy_return(parts, result.best_params, key, TINY.eval_episodes)
    assert float(again) == returns[best]
    no_eval = dqn.DQNConfig(num_steps=32, buffer_size=32, batch_size=8, learning_starts=8, eval_every=0)
    off = jax.jit(dqn.make_train(no_eval))(jax.random.key(0))
    assert float(off.best_return) == -np.inf
    assert jax.tree.all(jax.tree.map(lambda a, b: bool(jnp.array_equal(a, b)), off.params, off.best_params))


def same(a, b) -> bool:
    """Equal in every leaf, floats up to the last bits: a while_loop's body and a scan's, or a batched
    and a single program, may be compiled to other floating-point code (as on another CPU)."""
    return jax.tree.all(jax.tree.map(lambda x, y: bool(np.allclose(x, y, rtol=1e-4, atol=1e-5, equal_nan=True)), a, b))


def test_stop_at_ends_training_at_the_first_evaluation_that_reaches_it():
    """The stopped run is the full run cut at that evaluation: the same steps, the same evaluations and
    the same best parameters; what it never ran reports no episodes, no loss and NaN evaluations."""
    key = jax.random.key(5)
    full = jax.jit(dqn.make_train(TINY))(key)
    returns = np.asarray(full.eval_returns)
    assert returns[0] < returns.max(), "the case needs a later evaluation to stop on"
    stop_at = float(returns.max())
    first = int(np.argmax(returns >= stop_at))  # the evaluation it stops after
    ran = (first + 1) * TINY.eval_every
    stopped = jax.jit(dqn.make_train(dataclasses.replace(TINY, stop_at=stop_at)))(key)
    assert np.array_equal(np.asarray(stopped.eval_returns)[: first + 1], returns[: first + 1])
    assert np.all(np.isnan(np.asarray(stopped.eval_returns)[first + 1 :]))
    assert same(jax.tree.map(lambda leaf: leaf[:ran], stopped.steps), jax.tree.map(lambda leaf: leaf[:ran], full.steps))
    assert np.array_equal(np.asarray(stopped.steps.done)[:ran], np.asarray(full.steps.done)[:ran])
    assert not np.any(np.asarray(stopped.steps.done)[ran:]) and not np.any(np.asarray(stopped.steps.loss)[ran:])
    assert float(stopped.best_return) == stop_at
    assert same(stopped.best_params, full.best_params)
    # A bar no evaluation reaches changes nothing; one the first evaluation reaches stops after it.
    assert same(jax.jit(dqn.make_train(dataclasses.replace(TINY, stop_at=501.0)))(key), full)
    early = jax.jit(dqn.make_train(dataclasses.replace(TINY, stop_at=float(returns[0]))))(key)
    assert np.isfinite(np.asarray(early.eval_returns)).sum() == 1


def test_stop_at_under_vmap_stops_each_seed_where_it_would_alone():
    keys = jax.random.split(jax.random.key(8), 4)
    # The bar is read from these seeds' own evaluations, not typed in, so that the seeds stop at
    # different evaluations on any CPU: the case is about seeds of one batch that stop at different times.
    unstopped = np.asarray(jax.jit(jax.vmap(dqn.make_train(TINY)))(keys).eval_returns)

    def evaluations_until(bar: float) -> list[int]:
        reached = unstopped >= bar
        return [int(np.argmax(row)) + 1 if row.any() else row.size for row in reached]

    bars = [bar for bar in np.unique(unstopped) if len(set(evaluations_until(bar))) > 1]
    assert bars, f"the case needs seeds that would stop at different times: {unstopped}"
    config = dataclasses.replace(TINY, stop_at=float(bars[0]))
    together = jax.jit(jax.vmap(dqn.make_train(config)))(keys)
    alone = [jax.jit(dqn.make_train(config))(key) for key in keys]
    assert same(together, jax.tree.map(lambda *leaves: jnp.stack(leaves), *alone))
    assert np.array_equal(np.asarray(together.eval_returns), np.stack([a.eval_returns for a in alone]), equal_nan=True)
    evaluations_run = np.isfinite(np.asarray(together.eval_returns)).sum(axis=1)
    assert evaluations_run.tolist() == evaluations_until(bars[0])
    assert len(set(evaluations_run.tolist())) > 1


def test_progress_is_reported_while_the_loop_runs_and_a_custom_step_is_used():
    seen = []

    def loud_step(parts, state, key):
        state, metrics = dqn.train_step(parts, state, key)
        return state, metrics._replace(loss=jnp.float32(7.0))

    train = dqn.make_train(TINY, step_fn=loud_step, progress=lambda step: seen.append(int(step)), progress_every=50)
    result = jax.block_until_ready(jax.jit(train)(jax.random.key(0)))
    assert sorted(seen) == [50, 100, 150, 200, 250, 300]
    assert np.all(np.asarray(result.steps.loss) == 7.0)
    with pytest.raises(ValueError, match="progress_every"):
        dqn.make_train(TINY, progress_every=0)


def test_the_buffer_stores_the_true_next_observation_even_when_an_episode_ends():
    parts, states, metrics = run_steps(TINY, 120)
    data = states[-1].buffer.data
    obs, next_obs = np.asarray(data.obs[:120]), np.asarray(data.next_obs[:120])
    done = np.asarray(metrics.done)
    assert done.any(), "the random policy should end some episodes in 120 steps"
    continues = ~done[:-1]
    np.testing.assert_array_equal(next_obs[:-1][continues], obs[1:][continues])
    # Where an episode ended, the next stored obs is a reset one, not the final observation.
    assert not np.allclose(next_obs[:-1][done[:-1]], obs[1:][done[:-1]])
    assert np.all(np.abs(obs[1:][done[:-1]]) <= 0.05)  # CartPole resets inside (-0.05, 0.05)
    # Only a real termination (pole down or cart out) is stored as terminated.
    assert np.array_equal(np.asarray(data.terminated[:120]), done)  # no 500-step truncation in 120 steps


def test_the_target_is_copied_every_period_and_kept_in_between():
    _, states, _ = run_steps(TINY, 25)
    same = lambda a, b: jax.tree.all(jax.tree.map(lambda x, y: bool(jnp.array_equal(x, y)), a, b))
    assert same(states[20].target_params, states[20].params)  # step 20 is a multiple of 10
    assert same(states[25].target_params, states[20].params)
    assert not same(states[25].params, states[20].params)


def test_soft_target_update_moves_a_fraction_tau():
    config = dqn.DQNConfig(**{**TINY.__dict__, "target_update_period": 1, "tau": 0.1})
    _, states, _ = run_steps(config, 20)
    before, after = states[19], states[20]
    expected = jax.tree.map(lambda p, t: 0.1 * p + 0.9 * t, after.params, before.target_params)
    assert jax.tree.all(jax.tree.map(lambda a, b: bool(jnp.allclose(a, b, atol=1e-7)), expected, after.target_params))


def test_prioritized_replay_updates_the_sampled_priorities():
    config = dqn.DQNConfig(**{**TINY.__dict__, "prioritized": True})
    _, states, metrics = run_steps(config, 40)
    buffer = states[-1].buffer
    assert isinstance(buffer, prioritized.PrioritizedBufferState)
    priorities = np.asarray(buffer.priorities[:40])
    assert len(np.unique(priorities)) > 10, "sampled transitions should carry their own TD-error priority"
    assert np.all(np.asarray(metrics.loss)[20:] > 0)


def test_double_dqn_target_uses_the_online_argmax_and_the_target_value():
    parts = dqn.make_parts(TINY)
    online = parts.q_network.init(jax.random.key(0), jnp.zeros(4))
    target = parts.q_network.init(jax.random.key(1), jnp.zeros(4))
    t = dqn.Transition(jnp.zeros(4), jnp.int32(0), jnp.float32(1.0), jnp.array([0.1, -0.5, 0.2, 1.0]), jnp.array(False))
    best = int(jnp.argmax(parts.q_network.apply(online, t.next_obs)))
    expected = 1.0 + 0.9 * float(parts.q_network.apply(target, t.next_obs)[best])
    got = dqn.td_target(parts.q_network.apply, target, t, 0.9, online_params=online)
    assert float(got) == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"num_steps": 0}, "num_steps must be a whole number"),
        ({"learning_starts": 4}, "learning_starts must be >= batch_size"),
        ({"eval_every": 7}, "eval_every must be 0 or divide num_steps"),
        ({"loss": "l1"}, "loss must be one of"),
        ({"tau": 1.5}, "tau must lie in \\(0, 1\\]"),
        ({"tau": 0.0}, "tau must lie in \\(0, 1\\]"),  # a target that never moves
        ({"gamma": -0.1}, "gamma must lie in \\[0, 1\\]"),
        ({"stop_at": 475.0, "eval_every": 0}, "stop_at needs evaluations to stop on"),
        ({"stop_at": float("nan")}, "stop_at must be finite"),
    ],
)
def test_bad_configs_are_named(changes, message):
    with pytest.raises(ValueError, match=message):
        dqn.DQNConfig(**{**TINY.__dict__, **changes})
    with pytest.raises(TypeError, match="stop_at must be a number"):
        dqn.DQNConfig(**{**TINY.__dict__, "stop_at": "475"})


# --- Several environments side by side (config.num_envs > 1). -----------------------------------------

VECTOR = dqn.DQNConfig(
    num_steps=320, num_envs=4, buffer_size=512, batch_size=8, learning_starts=16, train_every=2,
    target_update_period=40, eval_every=160, eval_episodes=2, epsilon_decay_steps=100,
)  # fmt: skip


def run_vector_steps(config, num_steps, seed=0):
    return run_steps(config, num_steps, seed, step_fn=dqn.vector_train_step)


def test_several_environments_store_every_transition_and_keep_the_replay_ratio():
    parts, states, metrics = run_vector_steps(VECTOR, 10)
    assert states[0].obs.shape == (4, 4) and states[0].episode_return.shape == (4,)
    assert [int(s.step) for s in states] == [4 * i for i in range(11)]
    assert [int(s.buffer.size) for s in states] == [4 * i for i in range(11)]
    # Each stored transition starts from the observation its environment was in.
    stored = np.asarray(states[3].buffer.data.obs[8:12])
    np.testing.assert_array_equal(stored, np.asarray(states[2].obs))
    # train_every 2 with 4 environments: 2 updates per training step once step >= learning_starts (16),
    # so the parameters move exactly from the step that reaches 16 on, and the Adam count says 2 each.
    adam_counts = [int(s.opt_state[1][0].count) for s in states]
    assert adam_counts == [0, 0, 0, 0, 2, 4, 6, 8, 10, 12, 14], adam_counts
    assert np.all(np.asarray(metrics.loss)[:3] == 0) and np.all(np.asarray(metrics.loss)[3:, -1] > 0)
    assert np.all(np.asarray(metrics.loss)[:, :-1] == 0), "the step's loss sits at its last environment only"
    # The target is copied when the step count reaches a multiple of 40 (step 40 = training step 10).
    for before, after in zip(states[:-1], states[1:]):
        copied = int(after.step) % 40 == 0
        same = all(np.array_equal(a, b) for a, b in zip(jax.tree.leaves(after.target_params), jax.tree.leaves(after.params)))
        kept = all(np.array_equal(a, b) for a, b in zip(jax.tree.leaves(after.target_params), jax.tree.leaves(before.target_params)))
        assert same if copied else kept


def test_fewer_updates_than_environments_run_every_few_steps():
    config = dqn.DQNConfig(**{**VECTOR.__dict__, "train_every": 8})  # one update every other training step
    _, states, _ = run_vector_steps(config, 8)
    assert [int(s.opt_state[1][0].count) for s in states] == [0, 0, 0, 0, 1, 1, 2, 2, 3]
    assert config.updates_per_step == 1 and VECTOR.updates_per_step == 2


def test_make_train_with_several_environments_reports_per_environment_step():
    result = jax.jit(dqn.make_train(VECTOR))(jax.random.key(0))
    assert result.steps.done.shape == (320,) and result.steps.loss.shape == (320,)
    assert result.eval_returns.shape == (2,)
    again = jax.jit(dqn.make_train(VECTOR))(jax.random.key(0))
    np.testing.assert_array_equal(np.asarray(result.steps.episode_return), np.asarray(again.steps.episode_return))
    # Every finished episode is one of CartPole's: at least 8 steps (the pole cannot fall sooner).
    returns = np.asarray(result.steps.episode_return)[np.asarray(result.steps.done)]
    assert returns.size > 4 and returns.min() >= 8


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"num_steps": 322, "eval_every": 0}, "num_steps must be a multiple of num_envs"),
        ({"target_update_period": 42}, "target_update_period must be a multiple of num_envs"),
        ({"eval_every": 161, "num_steps": 322 * 4}, "multiple of num_envs"),
        ({"train_every": 3}, "train_every \\(3\\) and num_envs \\(4\\) must divide one another"),
        ({"num_envs": 0}, "num_envs must be a whole number"),
    ],
)
def test_bad_vector_configs_are_named(changes, message):
    with pytest.raises(ValueError, match=message):
        dqn.DQNConfig(**{**VECTOR.__dict__, **changes})
