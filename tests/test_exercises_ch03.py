"""Chapter 03's checks: the references and answers written differently pass; the wrong answers a learner
plausibly writes get "not yet" with the hint that names their mistake; the placeholder is "not started".

The wrong answers here are written as a learner would, independently of the checks' own Mistake functions.
"""

import jax
import jax.numpy as jnp
import pytest

from course_lib.buffers import prioritized, uniform
from course_lib.exercises import ch03
from tests.exercise_helpers import assert_verdict, not_started, run


# ---------------------------------------------------------------------------------------------------------
# Exercise 3.1: buffer_add
# ---------------------------------------------------------------------------------------------------------


def capacity_of(state):
    return jax.tree.leaves(state.data)[0].shape[0]


def write(state, transition, slot):
    return jax.tree.map(lambda buf, x: buf.at[slot].set(x), state.data, transition)


def add_where(state, transition):
    """Correct, written differently: jnp.where for the wrap and the cap, the last leaf for the capacity."""
    capacity = jax.tree.leaves(state.data)[-1].shape[0]
    data = jax.tree.map(lambda buf, x: buf.at[state.position].set(x), state.data, transition)
    position = jnp.where(state.position + 1 == capacity, 0, state.position + 1)
    size = jnp.where(state.size < capacity, state.size + 1, state.size)
    return uniform.UniformBufferState(data, position, size)


def add_dynamic_update(state, transition):
    """Correct, written differently: lax.dynamic_update_index_in_dim and _replace."""
    capacity = len(jax.tree.leaves(state.data)[0])
    data = jax.tree.map(
        lambda buf, x: jax.lax.dynamic_update_index_in_dim(buf, jnp.asarray(x, buf.dtype), state.position, 0),
        state.data,
        transition,
    )
    return state._replace(
        data=data, position=jnp.mod(state.position + 1, capacity), size=jnp.clip(state.size + 1, 0, capacity)
    )


def add_no_wrap(state, transition):
    return uniform.UniformBufferState(
        write(state, transition, state.position), state.position + 1, jnp.minimum(state.size + 1, capacity_of(state))
    )


def add_size_grows_forever(state, transition):
    capacity = capacity_of(state)
    return uniform.UniformBufferState(
        write(state, transition, state.position), (state.position + 1) % capacity, state.size + 1
    )


def add_capacity_from_size_attribute(state, transition):
    capacity = jax.tree.leaves(state.data)[0].size  # the number of elements, not the number of slots
    return uniform.UniformBufferState(
        write(state, transition, state.position),
        (state.position + 1) % capacity,
        jnp.minimum(state.size + 1, capacity),
    )


def add_capacity_from_last_axis(state, transition):
    capacity = jax.tree.leaves(state.data)[0].shape[-1]
    return uniform.UniformBufferState(
        write(state, transition, state.position),
        (state.position + 1) % capacity,
        jnp.minimum(state.size + 1, capacity),
    )


def add_capacity_typed_in(state, transition):
    return uniform.UniformBufferState(
        write(state, transition, state.position), (state.position + 1) % 10_000, jnp.minimum(state.size + 1, 10_000)
    )


def add_at_size(state, transition):
    capacity = capacity_of(state)
    return uniform.UniformBufferState(
        write(state, transition, state.size), (state.position + 1) % capacity, jnp.minimum(state.size + 1, capacity)
    )


def add_advance_then_write(state, transition):
    capacity = capacity_of(state)
    position = (state.position + 1) % capacity
    return uniform.UniformBufferState(
        write(state, transition, position), position, jnp.minimum(state.size + 1, capacity)
    )


def add_python_if(state, transition):
    capacity = capacity_of(state)
    position = state.position + 1
    if position == capacity:  # a Python `if` on an array: fine op by op, an error under jit
        position = 0
    size = state.size + 1 if state.size < capacity else state.size
    return uniform.UniformBufferState(write(state, transition, state.position), jnp.int32(position), jnp.int32(size))


def add_into_its_input(state, transition):
    """Writes into the input's own container when it can (a dict), instead of building a new one."""
    capacity = capacity_of(state)
    data = state.data
    if isinstance(data, dict):
        for name in data:
            data[name] = data[name].at[state.position].set(transition[name])
    else:
        data = write(state, transition, state.position)
    return uniform.UniformBufferState(data, (state.position + 1) % capacity, jnp.minimum(state.size + 1, capacity))


@pytest.mark.parametrize(
    "learner, status, says",
    [
        (uniform.add, "✅", "jax.jit and jax.vmap"),
        (add_where, "✅", ""),
        (add_dynamic_update, "✅", ""),
        (add_no_wrap, "❌", "must go back to 0"),
        (add_size_grows_forever, "❌", "cap it (jnp.minimum)"),
        (add_capacity_from_size_attribute, "❌", "not its number of elements (.size)"),
        (add_capacity_typed_in, "❌", "the capacity you used is too large"),
        (add_capacity_from_last_axis, "❌", "not the last axis"),
        (add_at_size, "❌", "written at slot state.size instead of state.position"),
        (add_advance_then_write, "❌", "written one slot ahead"),
        (add_python_if, "❌", "fails under jax.jit"),
        (add_into_its_input, "❌", "changed its argument `state` in place"),
        (not_started, "⏳", "not started"),
    ],
)
def test_buffer_add_check(learner, status, says, capsys):
    assert_verdict(*run(ch03.check_buffer_add, learner, capsys), learner, status, says)


def test_buffer_add_cases_vary_capacity_and_first_leaf():
    """The cases must not be degenerate: several capacities, wrapped buffers, and first leaves of several
    shapes (so a capacity read from the wrong axis or leaf fails somewhere)."""
    cases = ch03._add_cases()
    states = [case.args[0] for case in cases]
    capacities = {capacity_of(state) for state in states}
    assert {1, 3, 8} <= capacities
    first_leaf_ranks = {jax.tree.leaves(state.data)[0].ndim for state in states}
    assert {1, 2} <= first_leaf_ranks
    assert any(int(s.size) == capacity_of(s) and int(s.position) == capacity_of(s) - 1 for s in states)
    assert any(int(s.size) == capacity_of(s) and 0 < int(s.position) < capacity_of(s) - 1 for s in states)


# ---------------------------------------------------------------------------------------------------------
# Exercise 3.2: buffer_sample
# ---------------------------------------------------------------------------------------------------------


def gather(state, indices):
    return jax.tree.map(lambda leaf: leaf[indices], state.data)


def sample_uniform_floats(state, key, batch_size):
    """Correct, written differently: floor of uniform floats scaled by the size."""
    indices = jnp.floor(jax.random.uniform(key, (batch_size,)) * state.size).astype(jnp.int32)
    return gather(state, indices)


def sample_split_keys(state, key, batch_size):
    """Correct, written differently: one key per draw, vmapped."""
    keys = jax.random.split(key, batch_size)
    indices = jax.vmap(lambda k: jax.random.randint(k, (), 0, state.size))(keys)
    return jax.tree.map(lambda leaf: jnp.take(leaf, indices, axis=0), state.data)


def sample_choice_with_mask(state, key, batch_size):
    """Correct, written differently: jax.random.choice over all slots, empty ones with probability 0."""
    capacity = jax.tree.leaves(state.data)[0].shape[0]
    filled = (jnp.arange(capacity) < state.size).astype(jnp.float32)
    indices = jax.random.choice(key, capacity, (batch_size,), replace=True, p=filled / filled.sum())
    return gather(state, indices)


def sample_without_replacement(state, key, batch_size):
    capacity = jax.tree.leaves(state.data)[0].shape[0]
    filled = (jnp.arange(capacity) < state.size).astype(jnp.float32)
    return gather(state, jax.random.choice(key, capacity, (batch_size,), replace=False, p=filled / filled.sum()))


def sample_shuffled(state, key, batch_size):
    """Without replacement, by a shuffle of the filled slots (empty ones sorted last)."""
    capacity = jax.tree.leaves(state.data)[0].shape[0]
    order = jnp.where(jnp.arange(capacity) < state.size, jax.random.uniform(key, (capacity,)), 2.0)
    return gather(state, jnp.argsort(order)[:batch_size])


def sample_whole_buffer(state, key, batch_size):
    return state.data


def sample_from_all_slots(state, key, batch_size):
    capacity = jax.tree.leaves(state.data)[0].shape[0]
    return gather(state, jax.random.randint(key, (batch_size,), 0, capacity))


def sample_below_position(state, key, batch_size):
    return gather(state, jax.random.randint(key, (batch_size,), 0, state.position))


def sample_one_key_in_a_loop(state, key, batch_size):
    indices = jnp.array([jax.random.randint(key, (), 0, state.size) for _ in range(batch_size)])
    return gather(state, indices)


def sample_one_index(state, key, batch_size):
    index = jax.random.randint(key, (1,), 0, state.size)
    return gather(state, jnp.repeat(index, batch_size))


def sample_neighbours(state, key, batch_size):
    start = jax.random.randint(key, (), 0, state.size)
    return gather(state, jnp.mod(start + jnp.arange(batch_size), state.size))


def sample_each_field_apart(state, key, batch_size):
    names = state.data._fields
    keys = dict(zip(names, jax.random.split(key, len(names))))
    return type(state.data)(
        **{
            name: getattr(state.data, name)[jax.random.randint(keys[name], (batch_size,), 0, state.size)]
            for name in names
        }
    )


def sample_newest_never(state, key, batch_size):
    return gather(state, jax.random.randint(key, (batch_size,), 0, state.size - 1))


def sample_without_batch_axis(state, key, batch_size):
    index = jax.random.randint(key, (), 0, state.size)
    return jax.tree.map(lambda leaf: leaf[index], state.data)


def sample_batch_of_32(state, key, batch_size):
    return gather(state, jax.random.randint(key, (32,), 0, state.size))


def sample_python_int(state, key, batch_size):
    return gather(state, jax.random.randint(key, (batch_size,), 0, int(state.size)))


def sample_returns_indices_too(state, key, batch_size):
    indices = jax.random.randint(key, (batch_size,), 0, state.size)
    return gather(state, indices), indices


@pytest.mark.parametrize(
    "learner, status, says",
    [
        (uniform.sample, "✅", "all 4 cases"),
        (sample_uniform_floats, "✅", ""),
        (sample_split_keys, "✅", ""),
        (sample_choice_with_mask, "✅", ""),
        (sample_from_all_slots, "❌", "empty slots (all zeros) are sampled"),
        (sample_without_replacement, "❌", "the draws are without replacement"),
        (sample_shuffled, "❌", "a batch can be larger than the buffer"),
        (sample_whole_buffer, "❌", "you returned the whole buffer"),
        (sample_below_position, "❌", "stop at state.position"),
        (sample_one_key_in_a_loop, "❌", "never reuse one key or one index"),
        (sample_one_index, "❌", "the draws within a batch are not independent"),
        (sample_neighbours, "❌", "a run of neighbouring slots"),
        (sample_each_field_apart, "❌", "gather every field (jax.tree.map) at those same indices"),
        (sample_newest_never, "❌", "the newest filled slot is never drawn"),
        (sample_without_batch_axis, "❌", "the batch axis is missing"),
        (sample_batch_of_32, "❌", "holds 32 transitions, not batch_size = 5"),
        (sample_python_int, "❌", "fails under jax.vmap"),
        (sample_returns_indices_too, "❌", "not a tuple with other values"),
        (not_started, "⏳", "not started"),
    ],
)
def test_buffer_sample_check(learner, status, says, capsys):
    assert_verdict(*run(ch03.check_buffer_sample, learner, capsys), learner, status, says)


def test_buffer_sample_check_returns_the_reference_when_wrong(capsys):
    assert ch03.check_buffer_sample(sample_from_all_slots) is uniform.sample
    assert ch03.check_buffer_sample(sample_without_batch_axis) is uniform.sample
    capsys.readouterr()


# ---------------------------------------------------------------------------------------------------------
# Exercise 3.3: td_error_probabilities
# ---------------------------------------------------------------------------------------------------------


def probs_exp_log(td_errors, alpha, epsilon):
    """Correct, written differently: the power as exp(alpha * log)."""
    scaled = jnp.exp(alpha * jnp.log(jnp.abs(td_errors) + epsilon))
    return scaled / jnp.sum(scaled)


def probs_softmax_of_logs(td_errors, alpha, epsilon):
    """Correct, written differently: a softmax of alpha * log p is p^alpha normalised."""
    return jax.nn.softmax(alpha * jnp.log(jnp.abs(td_errors) + epsilon))


def probs_normalise_twice(td_errors, alpha, epsilon):
    """Correct, written differently: normalise the priorities first (it cancels out), then the powers."""
    priorities = jnp.abs(td_errors) + epsilon
    powered = jnp.power(priorities / priorities.sum(), alpha)
    return powered / powered.sum()


def probs_signed(td_errors, alpha, epsilon):
    p = (td_errors + epsilon) ** alpha
    return p / p.sum()


def probs_epsilon_after_power(td_errors, alpha, epsilon):
    p = jnp.abs(td_errors) ** alpha + epsilon
    return p / p.sum()


def probs_epsilon_inside_abs(td_errors, alpha, epsilon):
    p = jnp.abs(td_errors + epsilon) ** alpha
    return p / p.sum()


def probs_not_normalised(td_errors, alpha, epsilon):
    return jnp.power(jnp.abs(td_errors) + epsilon, alpha)


def probs_alpha_after_normalising(td_errors, alpha, epsilon):
    p = jnp.abs(td_errors) + epsilon
    return (p / p.sum()) ** alpha


def probs_softmax(td_errors, alpha, epsilon):
    return jax.nn.softmax(alpha * jnp.abs(td_errors) + epsilon)


def probs_alpha_typed_in(td_errors, alpha, epsilon):
    p = (jnp.abs(td_errors) + epsilon) ** 0.6
    return p / p.sum()


def probs_python_if(td_errors, alpha, epsilon):
    if alpha == 0:  # a Python `if` on alpha: fine op by op, an error under jit
        return jnp.full(td_errors.shape, 1 / td_errors.shape[0])
    p = (jnp.abs(td_errors) + epsilon) ** alpha
    return p / p.sum()


@pytest.mark.parametrize(
    "learner, status, says",
    [
        (prioritized.td_error_probabilities, "✅", "It also works under jax.jit"),
        (lambda d, a, e: (jnp.abs(d) + e) ** a / ((jnp.abs(d) + e) ** a).sum(), "✅", ""),
        (probs_exp_log, "✅", ""),
        (probs_softmax_of_logs, "✅", ""),
        (probs_normalise_twice, "✅", ""),
        (probs_signed, "❌", "take its absolute value (jnp.abs)"),
        (lambda d, a, e: jnp.abs(d) ** a / (jnp.abs(d) ** a).sum(), "❌", "epsilon is missing or fixed"),
        (probs_epsilon_after_power, "❌", "epsilon is added after the power"),
        (probs_epsilon_inside_abs, "❌", "epsilon is added inside the absolute value"),
        (probs_not_normalised, "❌", "do not sum to 1"),
        (probs_alpha_after_normalising, "❌", "alpha is applied after normalising"),
        (probs_softmax, "❌", "a softmax of the TD errors is not this distribution"),
        (probs_alpha_typed_in, "❌", "alpha seems fixed at 0.6"),
        (probs_python_if, "❌", "fails under jax.jit"),
        (not_started, "⏳", "not started"),
    ],
)
def test_td_error_probabilities_check(learner, status, says, capsys):
    assert_verdict(*run(ch03.check_td_error_probabilities, learner, capsys), learner, status, says)


def test_td_error_probabilities_sum_to_one_and_respect_alpha():
    errors = jnp.array([0.5, -2.0, 0.0, 1.0])
    probs = prioritized.td_error_probabilities(errors, 0.6)
    assert float(probs.sum()) == pytest.approx(1.0, rel=1e-6)
    assert float(probs[1]) > float(probs[0]) > float(probs[2]) > 0
    assert jnp.allclose(prioritized.td_error_probabilities(errors, 0.0), 0.25)
    with pytest.raises(ValueError, match="alpha must lie in"):
        prioritized.td_error_probabilities(errors, 1.5)
