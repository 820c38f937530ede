"""Reading learning curves: a trailing mean that skips updates in which no episode ended, and the first
point at a threshold. Used by chapter 06 and by ``make bench``'s times to 475."""

from __future__ import annotations

import numpy as np

from course_lib import _validate


def trailing_mean(values: np.ndarray, window: int) -> np.ndarray:
    """Mean of the last ``window`` entries along the last axis (fewer at the start), NaNs skipped; NaN
    until one is seen.

    One update's mean return is the mean of the few episodes that ended in it (NaN if none did): a
    single lucky episode of 500 would otherwise read as "reached 475", and a long episode as a gap."""
    _validate.positive_int("window", window)
    values = np.asarray(values, dtype=float)
    seen = ~np.isnan(values)
    sums = np.cumsum(np.where(seen, values, 0.0), axis=-1)
    counts = np.cumsum(seen, axis=-1)
    sums[..., window:] = sums[..., window:] - sums[..., :-window].copy()
    counts[..., window:] = counts[..., window:] - counts[..., :-window].copy()
    return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def first_at_least(values: np.ndarray, threshold: float) -> int | None:
    """Index of the first value >= ``threshold`` in a 1-D curve (NaN never counts), or None."""
    values = np.asarray(values, dtype=float)
    if values.ndim != 1:
        raise ValueError(f"values must be a 1-D curve, got shape {values.shape}")
    hits = np.flatnonzero(np.nan_to_num(values, nan=-np.inf) >= threshold)
    return int(hits[0]) if hits.size else None
