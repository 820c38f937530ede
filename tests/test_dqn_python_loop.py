"""course_lib.agents.dqn_python_loop: the Python-loop DQN that chapter 05 and the benchmarks time."""

import dataclasses

import pytest

from course_lib.agents import dqn, dqn_python_loop

SMALL = dqn.DQNConfig(buffer_size=64, batch_size=8, learning_starts=16, epsilon_decay_steps=100)


def test_a_short_run_counts_episodes_and_times_the_steady_state():
    result = dqn_python_loop.train(SMALL, 300, seed=1)
    returns = result.episode_returns
    assert returns and all(r >= 1 and r == int(r) for r in returns)  # CartPole pays 1 per step
    assert sum(returns) <= 300
    assert result.steps_per_second > 0 and result.seconds > 0
    assert dqn_python_loop.train(SMALL, 300, seed=1).episode_returns == returns  # seeded


def test_no_update_means_no_steady_state_rate():
    late = dataclasses.replace(SMALL, learning_starts=500)
    assert dqn_python_loop.train(late, 50).steps_per_second == 0.0


def test_prioritized_replay_is_refused():
    with pytest.raises(ValueError, match="prioritized"):
        dqn_python_loop.train(dataclasses.replace(SMALL, prioritized=True), 10)


def test_double_dqn_is_read_from_the_config():
    """The update is dqn.update_loss, which reads config.double_dqn: the same seed takes another path."""
    plain = dqn_python_loop.train(SMALL, 1_000, seed=1).episode_returns  # 600 steps are still alike
    double = dqn_python_loop.train(dataclasses.replace(SMALL, double_dqn=True), 1_000, seed=1).episode_returns
    assert double != plain


def test_num_steps_must_be_positive():
    with pytest.raises(ValueError, match="num_steps"):
        dqn_python_loop.train(SMALL, 0)
