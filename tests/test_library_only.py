"""_validate.library_only: a training run made only of course_lib's code is traced without its traced checks
(they cannot fail there, and their host callbacks keep the program out of JAX's persistent compilation
cache); a run that holds any of the learner's code keeps them. Outputs are the same either way."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from course_lib import _validate, returns
from course_lib.agents import dqn, ppo
from course_lib.buffers import uniform
from course_lib.envs import CartPole

DQN_SMALL = dataclasses.replace(dqn.ARTICLE_CONFIG, num_steps=200, learning_starts=64, eval_every=100, eval_episodes=2)
PPO_SMALL = dataclasses.replace(ppo.PUREJAXRL_CONFIG, total_timesteps=1_024)
KEY = jax.random.key(0)


def callbacks(train) -> int:
    """How many host callbacks the compiled program of ``train(KEY)`` holds."""
    return jax.jit(train).lower(KEY).as_text().count("callback")


def learner_step(parts, state, key):
    return dqn.train_step(parts, state, key)


def learner_gae(*args):
    return returns.gae(*args)


@pytest.mark.parametrize(
    "make, library, learners",
    [
        (
            lambda **kw: dqn.make_train(DQN_SMALL, **kw),
            {},
            [{"step_fn": learner_step}, {"env": CartPole()}, {"buffer_add": lambda s, t: uniform.add(s, t)}],
        ),
        (lambda **kw: ppo.make_train(PPO_SMALL, **kw), {}, [{"gae_fn": learner_gae}, {"env": CartPole()}]),
    ],
    ids=["dqn", "ppo"],
)
def test_only_runs_without_learner_code_drop_their_traced_checks(make, library, learners):
    assert callbacks(make(**library)) == 0
    for learner in learners:
        assert callbacks(make(**learner)) > 0, f"{list(learner)} is the learner's code: its checks must stay"


def test_a_progress_bar_is_not_learner_code_but_keeps_its_own_callback():
    with_bar = dqn.make_train(DQN_SMALL, progress=lambda step: None, progress_every=100)
    assert 0 < callbacks(with_bar) < callbacks(dqn.make_train(DQN_SMALL, env=CartPole()))


def test_the_results_are_bitwise_the_same_with_or_without_the_checks():
    library = jax.jit(dqn.make_train(DQN_SMALL))(KEY)
    checked = jax.jit(dqn.make_train(DQN_SMALL, env=CartPole()))(KEY)
    for a, b in zip(jax.tree.leaves(library), jax.tree.leaves(checked)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_inside_library_only_concrete_checks_still_raise_and_traced_ones_are_left_out():
    with _validate.library_only():
        with pytest.raises(ValueError, match="gamma"):
            returns.discounted_returns(jnp.ones(3), 1.5)
        traced = jax.jit(lambda gamma: returns.discounted_returns(jnp.ones(3), gamma)).lower(1.5)
        assert "callback" not in traced.as_text()
    # Outside, the same traced program holds its check again.
    assert "callback" in jax.jit(lambda gamma: returns.discounted_returns(jnp.ones(3), gamma)).lower(1.5).as_text()


def test_library_only_when_false_keeps_the_checks_and_never_lifts_an_outer_one():
    lower = lambda: jax.jit(lambda gamma: returns.discounted_returns(jnp.ones(3), gamma)).lower(1.5).as_text()
    with _validate.library_only(False):
        assert "callback" in lower()
    with _validate.library_only(), _validate.library_only(False):
        assert "callback" not in lower()


def test_library_only_is_restored_after_an_error():
    with pytest.raises(RuntimeError), _validate.library_only():
        raise RuntimeError("inside")
    with pytest.raises(Exception, match="gamma"):
        jax.block_until_ready(jax.jit(returns.discounted_returns)(jnp.ones(3), 1.5))


def test_a_traced_setting_from_the_learners_program_is_still_checked():
    """A learner's jit that builds the run's config from a traced value: the config checks it in the
    learner's program, outside the library-only trace, so lambda = 1.5 still raises."""
    train = ppo.make_train(PPO_SMALL)
    run = jax.jit(lambda lam: train(KEY, dataclasses.replace(PPO_SMALL, gae_lambda=lam)))
    with pytest.raises(Exception, match="gae_lambda must lie in"):
        jax.block_until_ready(run(1.5))
