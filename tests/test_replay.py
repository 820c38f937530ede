"""The replay buffer chosen once (course_lib.buffers.replay) and its use by the DQN training run."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from course_lib.agents import dqn
from course_lib.buffers import prioritized, replay, uniform

EXAMPLE = {"obs": jnp.zeros(2), "action": jnp.int32(0)}


def filled(buffer: replay.Replay, count: int):
    state = buffer.init(EXAMPLE)
    for i in range(count):
        state = buffer.add(state, {"obs": jnp.full(2, float(i)), "action": jnp.int32(i)})
    return state


def test_uniform_replay_is_the_uniform_buffer_with_unit_weights_and_no_priorities():
    buffer = replay.uniform_replay(capacity=8, batch_size=5)
    state = filled(buffer, 11)
    assert isinstance(state, uniform.UniformBufferState) and int(state.size) == 8
    key = jax.random.key(3)
    batch, indices, weights = buffer.sample(state, key, jnp.int32(100))
    want = uniform.sample(state, key, 5)
    assert indices is None and np.array_equal(weights, np.ones(5))
    assert jax.tree.all(jax.tree.map(np.array_equal, batch, want))
    assert buffer.update(state, indices, jnp.arange(5.0)) is state


def test_prioritized_replay_anneals_beta_and_stores_abs_td_error_plus_epsilon():
    buffer = replay.prioritized_replay(capacity=8, batch_size=4, alpha=1.0, beta_start=0.4, beta_steps=100)
    state = filled(buffer, 6)
    state = buffer.update(state, jnp.array([0, 1]), jnp.array([-3.0, 0.0]))
    assert np.allclose(state.priorities[:2], [3.0 + 1e-6, 1e-6])
    key = jax.random.key(0)
    for step, beta in ((0, 0.4), (50, 0.7), (100, 1.0)):
        _, indices, weights = buffer.sample(state, key, jnp.int32(step))
        _, want_indices, want_weights = prioritized.sample(state, key, 4, beta)
        assert np.array_equal(indices, want_indices) and np.allclose(weights, want_weights)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(capacity=0, batch_size=4), "capacity"),
        (dict(capacity=8, batch_size=0), "batch_size"),
        (dict(capacity=8, batch_size=4, alpha=1.5), "alpha"),
        (dict(capacity=8, batch_size=4, beta_start=-0.1), "beta_start"),
    ],
)
def test_prioritized_replay_rejects_bad_settings(kwargs, match):
    with pytest.raises(ValueError, match=match):
        replay.prioritized_replay(**kwargs)


def test_bookkeeping_drops_the_data_and_with_data_puts_it_back():
    state = filled(replay.prioritized_replay(8, 2), 3)
    small = replay.bookkeeping(state)
    assert small.data is None and np.array_equal(small.priorities, state.priorities)
    assert replay.with_data(small, state.data) == state


TINY = dataclasses.replace(
    dqn.ARTICLE_CONFIG, num_steps=300, hidden_sizes=(8,), buffer_size=64, eval_every=0, epsilon_decay_steps=100
)


def test_make_parts_chooses_the_buffer_once_from_the_config():
    assert isinstance(dqn.init_state(dqn.make_parts(TINY), jax.random.key(0)).buffer, uniform.UniformBufferState)
    prioritized_parts = dqn.make_parts(dataclasses.replace(TINY, prioritized=True))
    state = dqn.init_state(prioritized_parts, jax.random.key(0))
    assert isinstance(state.buffer, prioritized.PrioritizedBufferState)
    learned = dqn.learn(prioritized_parts, state._replace(buffer=prioritized_parts.replay.add(
        state.buffer, jax.tree.map(lambda leaf: leaf[0], state.buffer.data))), jax.random.key(1))  # fmt: skip
    assert learned.replay.data is None  # the stored transitions stay out of lax.cond's outputs
    with pytest.raises(ValueError, match="prioritized must be False"):
        dqn.make_parts(dataclasses.replace(TINY, prioritized=True), buffer_add=lambda s, t: uniform.add(s, t))


def test_the_learners_buffer_functions_are_the_ones_the_training_run_uses():
    def run(**kwargs):
        return jax.jit(dqn.make_train(TINY, **kwargs))(jax.random.key(0)).steps.loss

    default = run()
    same = run(buffer_add=lambda s, t: uniform.add(s, t), buffer_sample=lambda s, k, b: uniform.sample(s, k, b))
    assert np.array_equal(default, same)
    first_slot_only = run(buffer_sample=lambda s, k, b: jax.tree.map(lambda leaf: leaf[jnp.zeros(b, int)], s.data))
    assert not np.allclose(default, first_slot_only)
