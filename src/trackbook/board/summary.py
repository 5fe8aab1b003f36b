"""A series as a chart draws it: every point when there are few, else one summary per pixel column.

Short ranges are read whole. A longer range is cut into `px` equal step buckets and the store summarises
each one where it lies (`Store.series_buckets`), so only a few rows per bucket reach Python. Each bucket
becomes its first point, its minimum and maximum (at the bucket's middle step: within one pixel column the
exact position draws the same) and its last point, plus every NaN point in it (a gap). A spike is a
bucket's maximum, so it never vanishes; a zoom reads the range again, at full detail once it fits.
"""

from __future__ import annotations

import numpy as np

from ..store import Store
from ..store.live import MAX_BUCKETS
from ..store.sql import empty_series

PER_PIXEL = 4  # a range with up to this many points per pixel column is sent whole

# Columns of a bucket row (Store.series_buckets).
_I, _LO, _HI, _N, _NV, _FS, _FW, _FV, _LS, _LW, _LV = range(11)

Points = tuple[np.ndarray, np.ndarray, np.ndarray, bool]  # steps int64, wall ms int64, values float64, full


def chart_points(store: Store, run_id: int, key_id: int, px: int, *, start: int | None = None,
                 stop: int | None = None) -> Points:
    """The points of start <= step <= stop to draw at `px` pixels: (steps, wall ms, values, full), where
    `full` says every stored point of the range is there."""
    px = max(1, min(MAX_BUCKETS, int(px)))
    span = store.series_span(run_id, key_id, start=start, stop=stop)
    if span is None:
        return (*empty_series(), True)
    first, last = span
    if last - first + 1 <= PER_PIXEL * px:  # steps are unique integers: at most this many points
        steps, wall, values = store.series_points(run_id, key_id, start=first, stop=last)
        return steps, wall, values, True
    width = -(-(last - first + 1) // px)
    count = -(-(last - first + 1) // width)
    m = store.series_buckets(run_id, key_id, first, width, count, None if stop is None else last)
    if int(m[:, _N].sum()) <= PER_PIXEL * px:  # sparse steps: few points after all
        steps, wall, values = store.series_points(run_id, key_id, start=first, stop=last)
        return steps, wall, values, True
    nan_ranges = _nan_ranges(m, first, width)
    nan_steps, nan_wall = store.series_nan_points(run_id, key_id, nan_ranges)
    steps, wall, values = bucket_points(m, nan_steps, nan_wall)
    return steps, wall, values, False


def bucket_points(m: np.ndarray, nan_steps: np.ndarray | None = None,
                  nan_wall: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points to draw from bucket rows: per bucket its first point, minimum, maximum and last point (each
    once), with the NaN points merged in, in step order."""
    nb = len(m)
    if not nb:
        return empty_series()
    fs, ls = m[:, _FS].astype(np.int64), m[:, _LS].astype(np.int64)
    fw, lw = m[:, _FW].astype(np.int64), m[:, _LW].astype(np.int64)
    fv, lv, lo, hi = m[:, _FV], m[:, _LV], m[:, _LO], m[:, _HI]
    mid, mid_wall = (fs + ls) // 2, (fw + lw) // 2

    def shown(v: np.ndarray) -> np.ndarray:
        return (v == fv) | (v == lv)

    # Four candidates per bucket, in drawing order; an extreme already drawn as the first or last point (or
    # a bucket of NaN only, whose extremes are NaN) adds nothing.
    keep = np.stack([
        np.ones(nb, bool),
        ~np.isnan(lo) & ~shown(lo),
        ~np.isnan(hi) & (hi != lo) & ~shown(hi),
        ls != fs,
    ], axis=1)
    steps = np.stack([fs, mid, mid, ls], axis=1)[keep]
    wall = np.stack([fw, mid_wall, mid_wall, lw], axis=1)[keep]
    values = np.stack([fv, lo, hi, lv], axis=1)[keep]
    if nan_steps is not None and len(nan_steps):
        new = ~np.isin(nan_steps, np.concatenate([fs, ls]))  # a NaN first or last point is already there
        steps = np.concatenate([steps, nan_steps[new]])
        wall = np.concatenate([wall, np.asarray(nan_wall, np.int64)[new]])
        values = np.concatenate([values, np.full(int(new.sum()), np.nan)])
        order = np.argsort(steps, kind="stable")
        steps, wall, values = steps[order], wall[order], values[order]
    return steps, wall, values


def _nan_ranges(m: np.ndarray, first: int, width: int) -> list[tuple[int, int]]:
    """[lo, hi) step ranges of the buckets holding a NaN that is not their first or last point; adjacent
    buckets are merged."""
    missing = m[:, _N] - m[:, _NV]
    ends_nan = np.isnan(m[:, _FV]).astype(np.int64) + (np.isnan(m[:, _LV]) & (m[:, _LS] != m[:, _FS]))
    out: list[tuple[int, int]] = []
    for i in m[missing > ends_nan, _I].astype(np.int64).tolist():
        lo, hi = first + i * width, first + (i + 1) * width
        if out and out[-1][1] == lo:
            out[-1] = (out[-1][0], hi)
        else:
            out.append((lo, hi))
    return out
