"""Draw CartPole with matplotlib: one frame from a state, or an episode as an animation.

Animations use ``FuncAnimation.to_jshtml``: frames embedded as PNGs in self-contained HTML and
JavaScript, so they play in JupyterLab and in the static book, with no ffmpeg and no network.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import animation
from matplotlib.axes import Axes
from matplotlib.patches import Rectangle

from course_lib.envs.cartpole import CartPoleParams, CartPoleState

CART_WIDTH, CART_HEIGHT = 0.5, 0.3


def _state_rows(states: CartPoleState) -> np.ndarray:
    """``(T, 4)`` rows of x, x_dot, theta, theta_dot from a state or a time-stacked state."""
    rows = np.stack([np.asarray(states.x), np.asarray(states.x_dot), np.asarray(states.theta), np.asarray(states.theta_dot)], axis=-1)
    return rows.reshape(-1, 4)


def _setup(ax: Axes, params: CartPoleParams) -> None:
    limit = params.x_threshold + 0.4
    ax.set_xlim(-limit, limit)
    ax.set_ylim(-0.4, 2 * params.length + 0.7)
    ax.set_aspect("equal")
    ax.axhline(0.0, color="0.3", linewidth=1)
    for edge in (-params.x_threshold, params.x_threshold):
        ax.axvline(edge, color="tab:red", linestyle=":", linewidth=1)
    ax.set_yticks([])
    ax.set_xlabel("cart position x (m); dotted lines: the track's ends")


def render_frame(ax: Axes, state: CartPoleState, params: CartPoleParams = CartPoleParams(), title: str | None = None) -> Axes:
    """Draw one state of CartPole on ``ax``: the cart, the pole (true length 2 * params.length), the track."""
    x, _, theta, _ = _state_rows(state)[0]
    _setup(ax, params)
    pole_length = 2 * params.length
    ax.add_patch(Rectangle((x - CART_WIDTH / 2, 0.0), CART_WIDTH, CART_HEIGHT, color="tab:blue"))
    top = (x + pole_length * np.sin(theta), CART_HEIGHT + pole_length * np.cos(theta))
    ax.plot([x, top[0]], [CART_HEIGHT, top[1]], color="tab:orange", linewidth=5, solid_capstyle="round")
    ax.set_title(title if title is not None else f"θ = {np.degrees(theta):+.1f}°, x = {x:+.2f} m")
    return ax


def animate_episode(
    states: CartPoleState,
    params: CartPoleParams = CartPoleParams(),
    *,
    every: int = 2,
    max_frames: int = 250,
    title: str = "",
) -> str:
    """An episode as self-contained HTML (display it with ``IPython.display.HTML``).

    Args:
        states: a ``CartPoleState`` whose fields have a leading time axis ``(T,)``, e.g. the states a
            ``lax.scan`` rollout returns.
        params: the physical constants used (for the pole length and track).
        every: draw every ``every``-th state (the environment runs at 50 steps per second).
        max_frames: at most this many frames, to keep the page small.
        title: shown above the animation, followed by the step number.
    """
    rows = _state_rows(states)[::every][:max_frames]
    if len(rows) == 0:
        raise ValueError("states must hold at least one state (a leading time axis of length >= 1)")
    fig, ax = plt.subplots(figsize=(6, 2.6))
    _setup(ax, params)
    pole_length = 2 * params.length
    cart = ax.add_patch(Rectangle((0, 0), CART_WIDTH, CART_HEIGHT, color="tab:blue"))
    (pole,) = ax.plot([], [], color="tab:orange", linewidth=5, solid_capstyle="round")
    label = ax.set_title(title)

    def draw(index: int):
        x, _, theta, _ = rows[index]
        cart.set_x(x - CART_WIDTH / 2)
        pole.set_data([x, x + pole_length * np.sin(theta)], [CART_HEIGHT, CART_HEIGHT + pole_length * np.cos(theta)])
        label.set_text(f"{title}  step {index * every}".strip())
        return cart, pole, label

    movie = animation.FuncAnimation(fig, draw, frames=len(rows), interval=1000 * params.tau * every, blit=True)
    html = movie.to_jshtml(default_mode="once")
    plt.close(fig)
    return html
