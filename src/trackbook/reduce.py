"""Reduce a long series to a chart's pixel width without losing spikes.

The x range is cut into `buckets` equal-width buckets; each keeps its first and last point and its minimum
and maximum (M4), in x order, so the drawn line has every extreme a full-detail line would show. NaN points
(gaps) are kept where they fall. Series already short enough come back unchanged.
"""

from __future__ import annotations

import numpy as np


def reduce_minmax(
    x: np.ndarray, y: np.ndarray, buckets: int, *, extra: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray] | tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Indices-preserving M4 reduction of (x ascending, y) to at most ~4 * buckets points.

    Returns (x, y), or (x, y, extra) when `extra` (e.g. wall times aligned with x) is given.
    """
    idx = reduction_indices(x, y, buckets)
    if extra is None:
        return x[idx], y[idx]
    return x[idx], y[idx], extra[idx]


def reduction_indices(x: np.ndarray, y: np.ndarray, buckets: int) -> np.ndarray:
    """The sorted indices of the points M4 keeps: per bucket first, last, argmin, argmax, plus every NaN."""
    n = len(x)
    if buckets <= 0:
        raise ValueError(f"buckets must be positive, got {buckets}")
    if n <= 4 * buckets:
        return np.arange(n)
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    lo, hi = x[0], x[-1]
    span = hi - lo
    if span <= 0:
        b = np.zeros(n, dtype=np.int64)
    else:
        b = np.minimum(((x - lo) / span * buckets).astype(np.int64), buckets - 1)
    # Bucket boundaries in the (sorted) x order.
    starts = np.flatnonzero(np.r_[True, b[1:] != b[:-1]])
    ends = np.r_[starts[1:], n] - 1
    nan = np.isnan(y)
    # reduceat over each bucket; NaN must not win min/max, so fill with +-inf for the search.
    y_lo = np.where(nan, np.inf, y)
    y_hi = np.where(nan, -np.inf, y)
    mins = np.minimum.reduceat(y_lo, starts)
    maxs = np.maximum.reduceat(y_hi, starts)
    # Position of the first min/max within each bucket.
    seg = np.repeat(np.arange(len(starts)), ends - starts + 1)
    is_min = y_lo == mins[seg]
    is_max = y_hi == maxs[seg]
    first_min = _first_true_per_segment(is_min, starts, ends)
    first_max = _first_true_per_segment(is_max, starts, ends)
    keep = np.concatenate([starts, ends, first_min, first_max, np.flatnonzero(nan)])
    return np.unique(keep)


def _first_true_per_segment(mask: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """For each [start, end] segment, the index of its first True (the start when there is none)."""
    pos = np.where(mask, np.arange(len(mask)), len(mask))
    first = np.minimum.reduceat(pos, starts)
    return np.where(first <= ends, first, starts)
