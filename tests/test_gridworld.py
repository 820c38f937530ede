"""GridWorld rules, and the auto_reset wrapper on both environments."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from course_lib.envs import CartPole, GridWorld, GridWorldState, auto_reset

UP, RIGHT, DOWN, LEFT = range(4)
SMALL = ("S.#", "..G")


def at(row, col, time=0):
    return GridWorldState(jnp.array([row, col], jnp.int32), jnp.int32(time))


@pytest.mark.parametrize(
    "start, action, expected",
    [
        ((0, 0), RIGHT, (0, 1)),
        ((0, 0), UP, (0, 0)),  # the edge
        ((0, 0), LEFT, (0, 0)),
        ((0, 1), RIGHT, (0, 1)),  # a wall
        ((0, 1), DOWN, (1, 1)),
    ],
)
def test_moves_walls_and_edges(start, action, expected):
    env = GridWorld(SMALL)
    obs, state, reward, terminated, _, _ = env.step(jax.random.key(0), at(*start), action)
    assert tuple(np.asarray(state.position)) == expected
    assert int(obs) == expected[0] * 3 + expected[1]
    assert float(reward) == pytest.approx(-0.01) and not bool(terminated)


def test_goal_pays_and_terminates():
    env = GridWorld(SMALL, goal_reward=5.0)
    _, _, reward, terminated, truncated, _ = env.step(jax.random.key(0), at(1, 1), RIGHT)
    assert float(reward) == 5.0 and bool(terminated) and not bool(truncated)


def test_lesser_goal_pays_less_and_also_terminates():
    env = GridWorld(("g.S.G",), lesser_goal_reward=0.3)
    _, _, reward, terminated, _, _ = env.step(jax.random.key(0), at(0, 1), LEFT)
    assert float(reward) == pytest.approx(0.3) and bool(terminated)
    _, _, reward, terminated, _, _ = env.step(jax.random.key(0), at(0, 3), RIGHT)
    assert float(reward) == 1.0 and bool(terminated)
    _, _, reward, terminated, _, _ = env.step(jax.random.key(0), at(0, 2), LEFT)
    assert float(reward) == pytest.approx(-0.01) and not bool(terminated)
    assert env.render_text() == "g . S . G"


def test_truncation_at_max_steps():
    env = GridWorld(SMALL, max_steps=3)
    *_, truncated, _ = env.step(jax.random.key(0), at(0, 0, time=2), DOWN)
    assert bool(truncated)


def test_slip_probability_is_respected():
    env = GridWorld(("...", ".S.", "..G"), slip_probability=0.4)
    keys = jax.random.split(jax.random.key(0), 20_000)
    _, start = env.reset(keys[0])
    _, states, *_ = jax.vmap(env.step, in_axes=(0, None, None))(keys, start, UP)
    moved_up = np.asarray((states.position == jnp.array([0, 1])).all(axis=1)).mean()
    # A slip picks one of 4 directions at random, so UP happens with 0.6 + 0.4 / 4 = 0.7.
    assert abs(moved_up - 0.7) < 0.015


def test_vmap_over_layouts():
    env = GridWorld(SMALL)
    params = env.default_params
    other = params._replace(goal=jnp.array([0, 1], jnp.int32))
    stacked = jax.tree.map(lambda a, b: jnp.stack([jnp.asarray(a), jnp.asarray(b)]), params, other)
    _, _, rewards, terminated, _, _ = jax.vmap(env.step, in_axes=(None, None, None, 0))(
        jax.random.key(0), at(0, 0), RIGHT, stacked
    )
    assert terminated.tolist() == [False, True]


def test_render_text_shows_the_layout_and_greedy_arrows():
    env = GridWorld(SMALL)
    assert env.render_text() == "S . #\n. . G"
    q_table = jnp.zeros((6, 4)).at[:, DOWN].set(1.0)
    assert env.render_text(q_table=q_table) == "↓ ↓ #\n↓ ↓ G"
    with pytest.raises(ValueError, match="q_table must have shape \\(6, 4\\)"):
        env.render_text(q_table=jnp.zeros((5, 4)))


@pytest.mark.parametrize(
    "layout, message",
    [
        ([], "non-empty list"),
        (["S.", "G"], "equally long"),
        (["S.x", "..G"], "may only contain"),
        (["...", "..G"], "exactly one 'S'"),
        (["S.G", "..G"], "exactly one 'G'"),
    ],
)
def test_bad_layouts_are_explained(layout, message):
    with pytest.raises(ValueError, match=message):
        GridWorld(layout)


def test_bad_settings_are_named():
    with pytest.raises(ValueError, match="slip_probability must lie in \\[0, 1\\]"):
        GridWorld(SMALL, slip_probability=1.5)
    with pytest.raises(ValueError, match="max_steps must be a whole number"):
        GridWorld(SMALL, max_steps=0)


@pytest.mark.parametrize("env", [CartPole(), GridWorld(SMALL, slip_probability=0.5)], ids=["cartpole", "gridworld"])
def test_auto_reset_restarts_finished_episodes_and_keeps_the_final_observation(env):
    wrapped = auto_reset(env)
    assert wrapped.num_actions == env.num_actions and wrapped.observation_shape == env.observation_shape

    def body(carry, key):
        obs, state = carry
        action_key, step_key = jax.random.split(key)
        action = jax.random.randint(action_key, (), 0, env.num_actions)
        unwrapped = env.step(jax.random.split(step_key)[0], state, action, env.default_params)
        next_obs, next_state, reward, terminated, truncated, info = wrapped.step(step_key, state, action)
        return (next_obs, next_state), (obs, next_obs, unwrapped[0], info["final_observation"], terminated | truncated, next_state.time)

    obs, state = wrapped.reset(jax.random.key(1))
    _, (obs_before, obs_after, true_next, final, done, time) = jax.lax.scan(
        body, (obs, state), jax.random.split(jax.random.key(2), 3_000)
    )
    assert int(done.sum()) > 10, "the rollout must contain finished episodes"
    np.testing.assert_array_equal(final, true_next)  # info holds what the plain env returned
    assert (np.asarray(time)[np.asarray(done)] == 0).all()  # a finished episode restarts at time 0
    ongoing = ~np.asarray(done)
    np.testing.assert_array_equal(np.asarray(obs_after)[ongoing], np.asarray(true_next)[ongoing])
