"""Plots the chapters share: learning curves with a confidence band across seeds."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes

from course_lib import stats


def learning_curve(
    ax: Axes,
    curves: np.ndarray,
    *,
    x: np.ndarray | None = None,
    label: str | None = None,
    color: str | None = None,
    band: str = "ci95",
) -> Axes:
    """Plot the mean of ``curves`` across runs, with a shaded band.

    Args:
        ax: the axes to draw on.
        curves: ``(num_runs, num_points)``: one row per seed (or agent).
        x: ``(num_points,)`` x positions; defaults to 0, 1, 2, ...
        label, color: passed to matplotlib.
        band: ``"ci95"`` for a 95 % confidence interval of the mean (Student t, from
            ``stats.half_widths``), ``"std"`` for one standard deviation of the runs.
    """
    curves = np.asarray(curves, dtype=float)
    if curves.ndim != 2:
        raise ValueError(f"curves must have shape (num_runs, num_points), got shape {curves.shape}")
    if band not in ("ci95", "std"):
        raise ValueError(f"band must be 'ci95' or 'std', got {band!r}")
    num_runs, num_points = curves.shape
    x = np.arange(num_points) if x is None else np.asarray(x)
    if x.shape != (num_points,):
        raise ValueError(f"x must have shape ({num_points},) to match curves, got shape {x.shape}")
    mean = curves.mean(axis=0)
    if band == "ci95":
        half_width = stats.half_widths(curves)
    else:
        half_width = curves.std(axis=0, ddof=1) if num_runs > 1 else np.zeros(num_points)
    (line,) = ax.plot(x, mean, label=label, color=color)
    ax.fill_between(x, mean - half_width, mean + half_width, color=line.get_color(), alpha=0.25, linewidth=0)
    return ax


def new_axes(width: float = 7.0, height: float = 3.5, **subplot_kw) -> tuple[plt.Figure, Axes]:
    """A figure and axes at the size the chapters use."""
    return plt.subplots(figsize=(width, height), **subplot_kw)


def q_table_heatmap(
    ax: Axes,
    q_table: np.ndarray,
    height: int,
    width: int,
    *,
    walls: np.ndarray | None = None,
    goal: tuple[int, int] | None = None,
    lesser_goals: np.ndarray | None = None,
) -> Axes:
    """The value ``max_a Q(s, a)`` of each GridWorld cell as a heat map, with an arrow for the greedy action.

    Args:
        q_table: ``(height * width, 4)``, actions ordered up, right, down, left (as ``GridWorld``).
        walls: ``(height, width)`` bool; walls are drawn grey, without arrows.
        goal: ``(row, col)`` of the goal, marked G.
        lesser_goals: ``(height, width)`` bool; lesser goals are marked g, without arrows.
    """
    q_table = np.asarray(q_table, dtype=float)
    if q_table.shape != (height * width, 4):
        raise ValueError(f"q_table must have shape ({height * width}, 4) for a {height}x{width} grid, got {q_table.shape}")
    walls = np.zeros((height, width), bool) if walls is None else np.asarray(walls, bool)
    lesser_goals = np.zeros((height, width), bool) if lesser_goals is None else np.asarray(lesser_goals, bool)
    for name, mask in (("walls", walls), ("lesser_goals", lesser_goals)):
        if mask.shape != (height, width):
            raise ValueError(f"{name} must have shape ({height}, {width}), got {mask.shape}")
    values = np.ma.masked_array(q_table.max(axis=1).reshape(height, width), mask=walls)
    cmap = plt.get_cmap("viridis").with_extremes(bad="0.55")
    image = ax.imshow(values, cmap=cmap)
    plt.colorbar(image, ax=ax, label="max_a Q(s, a)")
    d_row = np.array([-1, 0, 1, 0])
    d_col = np.array([0, 1, 0, -1])
    greedy = q_table.argmax(axis=1).reshape(height, width)
    for row in range(height):
        for col in range(width):
            if walls[row, col] or lesser_goals[row, col] or (goal is not None and (row, col) == tuple(goal)):
                continue
            action = greedy[row, col]
            ax.arrow(col - 0.25 * d_col[action], row - 0.25 * d_row[action], 0.3 * d_col[action], 0.3 * d_row[action],
                     head_width=0.18, head_length=0.15, color="white", length_includes_head=True)
    for row, col in np.argwhere(lesser_goals):
        ax.text(col, row, "g", ha="center", va="center", color="white", fontsize=12, weight="bold")
    if goal is not None:
        ax.text(goal[1], goal[0], "G", ha="center", va="center", color="white", fontsize=14, weight="bold")
    ax.set_xticks(range(width))
    ax.set_yticks(range(height))
    return ax


def episode_length_bars(
    ax: Axes, lengths: np.ndarray, *, thresholds: tuple[int, int] = (200, 475)
) -> Axes:
    """One bar per episode, coloured by whether it reached the two thresholds (CartPole: 200 and 475)."""
    lengths = np.asarray(lengths)
    if lengths.ndim != 1:
        raise ValueError(f"lengths must be 1-D (one length per episode), got shape {lengths.shape}")
    low, high = thresholds
    colors = np.where(lengths >= high, "tab:green", np.where(lengths >= low, "tab:orange", "tab:red"))
    ax.bar(np.arange(len(lengths)), lengths, color=colors, width=1.0)
    for value, style in ((low, ":"), (high, "--")):
        ax.axhline(value, color="0.3", linestyle=style, linewidth=1)
    ax.set(xlabel="episode", ylabel="length (steps)")
    from matplotlib.patches import Patch

    ax.legend(
        handles=[Patch(color="tab:red", label=f"< {low}"), Patch(color="tab:orange", label=f"{low}-{high - 1}"),
                 Patch(color="tab:green", label=f">= {high}")],
        loc="upper left", fontsize="small",
    )
    return ax
