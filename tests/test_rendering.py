"""CartPole frames and animations, the Q-table heat map and episode-length bars."""

import matplotlib

matplotlib.use("Agg")

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
import pytest

from course_lib import plotting
from course_lib.envs import CartPole, GridWorld
from course_lib.envs.rendering import animate_episode, render_frame


def rollout(steps=30):
    env = CartPole()
    _, state = env.reset(jax.random.key(0))

    def body(state, key):
        _, state, *_ = env.step(key, state, 1)
        return state, state

    return jax.lax.scan(body, state, jax.random.split(jax.random.key(1), steps))[1]


def test_frame_draws_the_pole_at_the_state_angle():
    states = rollout()
    fig, ax = plt.subplots()
    state = jax.tree.map(lambda leaf: leaf[10], states)
    render_frame(ax, state)
    (pole,) = [line for line in ax.lines if line.get_linewidth() == 5]
    (x0, x1), (y0, y1) = pole.get_data()
    assert np.arctan2(x1 - x0, y1 - y0) == pytest.approx(float(state.theta), abs=1e-5)
    assert np.hypot(x1 - x0, y1 - y0) == pytest.approx(1.0)  # the whole pole: twice the half-length
    plt.close(fig)


def test_animation_is_self_contained_html():
    html = animate_episode(rollout(), every=3, title="pushing right")
    assert "<script" in html and "data:image/png;base64" in html
    assert html.count("data:image/png;base64") == 10  # 30 states, every 3rd
    with pytest.raises(ValueError, match="at least one state"):
        animate_episode(jax.tree.map(lambda leaf: leaf[:0], rollout()))


def test_q_table_heatmap_draws_one_arrow_per_free_cell():
    env = GridWorld(("S.#", "..G"))
    fig, ax = plt.subplots()
    plotting.q_table_heatmap(ax, jnp.zeros((6, 4)), 2, 3, walls=env.default_params.walls, goal=(1, 2))
    assert len(ax.patches) == 4  # 6 cells, minus a wall and the goal
    with pytest.raises(ValueError, match="q_table must have shape \\(6, 4\\)"):
        plotting.q_table_heatmap(ax, jnp.zeros((5, 4)), 2, 3)
    plt.close(fig)


def test_q_table_heatmap_marks_lesser_goals_without_arrows():
    env = GridWorld(("gS.", "..G"))
    fig, ax = plt.subplots()
    plotting.q_table_heatmap(ax, jnp.zeros((6, 4)), 2, 3, goal=(1, 2), lesser_goals=env.default_params.lesser_goals)
    assert len(ax.patches) == 4  # 6 cells, minus the lesser goal and the goal
    assert sorted(text.get_text() for text in ax.texts) == ["G", "g"]
    with pytest.raises(ValueError, match="lesser_goals must have shape \\(2, 3\\)"):
        plotting.q_table_heatmap(ax, jnp.zeros((6, 4)), 2, 3, lesser_goals=np.zeros((3, 3), bool))
    plt.close(fig)


def test_episode_length_bars_colour_by_threshold():
    fig, ax = plt.subplots()
    plotting.episode_length_bars(ax, np.array([50, 250, 500]))
    colours = [tuple(np.round(bar.get_facecolor(), 3)) for bar in ax.patches]
    assert len(set(colours)) == 3
    with pytest.raises(ValueError, match="lengths must be 1-D"):
        plotting.episode_length_bars(ax, np.zeros((2, 2)))
    plt.close(fig)
