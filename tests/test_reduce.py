"""The min/max (M4) reduction keeps every extreme and every gap."""

from __future__ import annotations

import numpy as np
import pytest

from trackbook.reduce import reduce_minmax, reduction_indices


def test_short_series_come_back_whole() -> None:
    x = np.arange(10.0)
    y = np.sin(x)
    rx, ry = reduce_minmax(x, y, 10)
    assert np.array_equal(rx, x) and np.array_equal(ry, y)


def test_a_single_spike_survives_a_100x_reduction() -> None:
    rng = np.random.default_rng(1)
    x = np.arange(1, 100_001, dtype=np.float64)
    y = rng.normal(size=len(x)) * 0.01
    y[73_123] = 50.0
    y[12_345] = -40.0
    rx, ry = reduce_minmax(x, y, 250)
    assert len(rx) <= 4 * 250
    assert 50.0 in ry and -40.0 in ry
    assert rx[np.argmax(ry)] == x[73_123]
    assert np.all(np.diff(rx) > 0)  # still ascending
    assert rx[0] == x[0] and rx[-1] == x[-1]


def test_every_bucket_keeps_its_min_and_max() -> None:
    rng = np.random.default_rng(2)
    x = np.sort(rng.uniform(0, 1000, 20_000))
    y = rng.normal(size=len(x))
    idx = reduction_indices(x, y, 100)
    b = np.minimum((x - x[0]) / (x[-1] - x[0]) * 100, 99).astype(int)
    for bucket in range(100):
        members = np.flatnonzero(b == bucket)
        kept = np.intersect1d(members, idx)
        assert y[kept].max() == y[members].max() and y[kept].min() == y[members].min()


def test_nan_gaps_are_kept() -> None:
    x = np.arange(10_000, dtype=np.float64)
    y = np.ones(len(x))
    y[5000:5003] = np.nan
    rx, ry = reduce_minmax(x, y, 50)
    assert np.isnan(ry).sum() == 3 and set(rx[np.isnan(ry)]) == {5000, 5001, 5002}


def test_extra_columns_follow_and_bad_buckets_raise() -> None:
    x = np.arange(1000, dtype=np.float64)
    rx, ry, rw = reduce_minmax(x, x * 2, 10, extra=x * 3)
    assert np.array_equal(rw, rx * 3) and np.array_equal(ry, rx * 2)
    with pytest.raises(ValueError, match="buckets must be positive"):
        reduce_minmax(x, x, 0)
