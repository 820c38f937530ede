"""Chapter 03's checks: the references pass, typical buffer and priority mistakes are caught."""

import jax
import jax.numpy as jnp
import pytest

from course_lib.buffers import prioritized, uniform
from course_lib.exercises import ch03


def not_started(*args):
    raise NotImplementedError


def run(check, learner, capsys):
    used = check(learner)
    return " ".join(capsys.readouterr().out.split()), used is learner


def no_wrap(state, transition):
    data = jax.tree.map(lambda buf, x: buf.at[state.position].set(x), state.data, transition)
    return uniform.UniformBufferState(data, state.position + 1, jnp.minimum(state.size + 1, 4))


def size_grows_forever(state, transition):
    return uniform.add(state, transition)._replace(size=state.size + 1)


@pytest.mark.parametrize(
    "learner, status, says",
    [
        (uniform.add, "✅", ""),
        (no_wrap, "❌", "wraps around"),
        (size_grows_forever, "❌", "jnp.minimum"),
        (not_started, "⏳", ""),
    ],
)
def test_buffer_add_check(learner, status, says, capsys):
    out, kept = run(ch03.check_buffer_add, learner, capsys)
    assert status in out and says in out, out
    assert kept == (status == "✅")


def from_all_slots(state, key, batch_size):
    """A typical slip: drawing from the whole capacity, empty slots included."""
    capacity = jax.tree.leaves(state.data)[0].shape[0]
    indices = jax.random.randint(key, (batch_size,), 0, capacity)
    return jax.tree.map(lambda leaf: leaf[indices], state.data)


def uniform_floats(state, key, batch_size):
    """Correct, written differently: floor of uniform floats scaled by the size."""
    indices = jnp.floor(jax.random.uniform(key, (batch_size,)) * state.size).astype(jnp.int32)
    return jax.tree.map(lambda leaf: leaf[indices], state.data)


@pytest.mark.parametrize(
    "learner, status, says",
    [
        (uniform.sample, "✅", ""),
        (uniform_floats, "✅", ""),
        (from_all_slots, "❌", "filled slots"),
        (not_started, "⏳", ""),
    ],
)
def test_buffer_sample_check(learner, status, says, capsys):
    used = ch03.check_buffer_sample(learner)
    out = " ".join(capsys.readouterr().out.split())
    assert status in out and says in out, out
    assert (used is learner) == (status == "✅")


@pytest.mark.parametrize(
    "learner, status, says",
    [
        (prioritized.td_error_probabilities, "✅", ""),
        (lambda d, a, e: (jnp.abs(d) + e) ** a / ((jnp.abs(d) + e) ** a).sum(), "✅", ""),
        (lambda d, a, e: (d + e) ** a / ((d + e) ** a).sum(), "❌", ""),
        (lambda d, a, e: jnp.abs(d) ** a / (jnp.abs(d) ** a).sum(), "❌", ""),
        (not_started, "⏳", ""),
    ],
)
def test_td_error_probabilities_check(learner, status, says, capsys):
    out, kept = run(ch03.check_td_error_probabilities, learner, capsys)
    assert status in out and says in out, out
    assert kept == (status == "✅")


def test_td_error_probabilities_sum_to_one_and_respect_alpha():
    errors = jnp.array([0.5, -2.0, 0.0, 1.0])
    probs = prioritized.td_error_probabilities(errors, 0.6)
    assert float(probs.sum()) == pytest.approx(1.0, rel=1e-6)
    assert float(probs[1]) > float(probs[0]) > float(probs[2]) > 0
    assert jnp.allclose(prioritized.td_error_probabilities(errors, 0.0), 0.25)
    with pytest.raises(ValueError, match="alpha must lie in"):
        prioritized.td_error_probabilities(errors, 1.5)
