"""Plots the chapters share: learning curves with a confidence band across seeds."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes


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
        band: ``"ci95"`` for a 95 % confidence interval of the mean (1.96 standard errors, a normal
            approximation that suits 8 or more runs), ``"std"`` for one standard deviation of the runs.
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
    spread = curves.std(axis=0, ddof=1) if num_runs > 1 else np.zeros(num_points)
    half_width = 1.96 * spread / np.sqrt(num_runs) if band == "ci95" else spread
    (line,) = ax.plot(x, mean, label=label, color=color)
    ax.fill_between(x, mean - half_width, mean + half_width, color=line.get_color(), alpha=0.25, linewidth=0)
    return ax


def new_axes(width: float = 7.0, height: float = 3.5, **subplot_kw) -> tuple[plt.Figure, Axes]:
    """A figure and axes at the size the chapters use."""
    return plt.subplots(figsize=(width, height), **subplot_kw)
