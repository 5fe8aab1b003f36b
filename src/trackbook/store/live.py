"""SQL the board uses to follow a store live: what changed since a cursor, series tails and ranges.
Mixed into `Store` (uses `self.conn`).

The board polls cheaply: `data_version()` says whether anyone committed since the last look, `run_digest`
whether any followed run changed, `run_versions` lists every followed run with its update time and liveness
columns (a few bytes a run), and
`series_heads_since` gives the last points that moved past a cursor (`series_last.seq`, a change number set
in the transaction that wrote the points); `series_heads` reads every head of some runs (a board's first
look, runs it starts following). Only rows and tails that changed are then read in full.

Long series are summarised where they lie: `series_buckets` cuts a step range into equal buckets (one per
pixel column of a chart) and SQLite returns each bucket's minimum, maximum, counts and first and last
points, so a 100,000-point series crosses into Python as a few hundred rows.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

import numpy as np

from .sql import EXPERIMENT, RUN_TYPES, chunks, float_matrix, marks, series_columns

MAX_BUCKETS = 4096  # buckets one summary may have (the widest chart the board reduces to is narrower)
_NAN_RANGES = 32  # step ranges looked up one by one for NaN points; more become one scan of the whole span

# One bucket per row of a connection-local table of integers: joining it to `series` with a step range per
# bucket lets the aggregate run in step order without sorting (a GROUP BY on a computed bucket number makes
# SQLite sort every point first, 2x slower). The first and last point of each bucket are then looked up by
# the primary key.
_BUCKET_TABLE = "CREATE TEMP TABLE IF NOT EXISTS board_bucket (i INTEGER PRIMARY KEY)"
_BUCKET_FILL = (
    "WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM k WHERE i + 1 < ?)"
    " INSERT INTO board_bucket (i) SELECT i FROM k WHERE true ON CONFLICT (i) DO NOTHING"
)
_BUCKETS_SQL = (
    "WITH b AS ("
    " SELECT k.i AS i, MIN(s.value) AS lo, MAX(s.value) AS hi, COUNT(*) AS n, COUNT(s.value) AS nv"
    " FROM board_bucket k JOIN series s ON s.run_id = ? AND s.key_id = ?"
    " AND s.step >= ? + k.i * ? AND s.step < ? + (k.i + 1) * ?{stop}"
    " WHERE k.i < ? GROUP BY k.i)"
    " SELECT b.i, COALESCE(b.lo, 'nan'), COALESCE(b.hi, 'nan'), b.n, b.nv,"
    " f.step, f.wall_time, COALESCE(f.value, 'nan'), l.step, l.wall_time, COALESCE(l.value, 'nan')"
    " FROM b"
    " JOIN series f ON f.run_id = ? AND f.key_id = ? AND f.step = (SELECT MIN(step) FROM series"
    " WHERE run_id = ? AND key_id = ? AND step >= ? + b.i * ?)"
    " JOIN series l ON l.run_id = ? AND l.key_id = ? AND l.step = (SELECT MAX(step) FROM series"
    " WHERE run_id = ? AND key_id = ? AND step < ? + (b.i + 1) * ? AND step <= ?)"
    " ORDER BY b.i"
)
_BUCKETS_SQL_ALL = _BUCKETS_SQL.format(stop="")
_BUCKETS_SQL_TO = _BUCKETS_SQL.format(stop=" AND s.step <= ?")


class LiveQueries:
    """Change-feed and range-read statements of `Store` (the board's)."""

    conn: sqlite3.Connection

    def data_version(self) -> tuple[int, int]:
        """A token that changes whenever anyone commits to the file: another connection (thread or process,
        `PRAGMA data_version`) or this thread's own connection (its count of changes)."""
        conn = self.conn
        return int(conn.execute("PRAGMA data_version").fetchone()[0]), conn.total_changes

    def experiment_names(self, names: Sequence[str] | None = None) -> list[tuple[int, str]]:
        """(id, name) of the named experiments that exist, or of every experiment when `names` is None."""
        sql = "SELECT id, name FROM context WHERE schema_title = ? AND experiment_id = 0"
        if names is None:
            return self.conn.execute(sql + " ORDER BY id", (EXPERIMENT,)).fetchall()
        wanted = list(names)
        if not wanted:
            return []
        rows: list[tuple[int, str]] = []
        for chunk in chunks(wanted):
            rows += self.conn.execute(sql + f" AND name IN ({marks(len(chunk))})", (EXPERIMENT, *chunk)).fetchall()
        return sorted(rows)

    def run_versions(
        self, experiment_ids: Sequence[int]
    ) -> list[tuple[int, str, float, float, str | None, str | None, int | None, float | None]]:
        """(id, name, create_time, update_time, state, host, pid, heartbeat) of every run of these experiments.

        Small enough to read on every change: a row changed when its update_time did (params, metrics and
        state updates all set it); host, pid and heartbeat decide whether a RUNNING run has crashed.
        """
        out: list[Any] = []
        for chunk in chunks(list(experiment_ids)):
            out += self.conn.execute(
                "SELECT id, name, create_time, update_time, state, host, pid, heartbeat FROM context"
                f" WHERE schema_title IN (?, ?) AND experiment_id IN ({marks(len(chunk))}) ORDER BY id",
                (*RUN_TYPES, *chunk),
            ).fetchall()
        return out

    def run_digest(self, experiment_ids: Sequence[int]) -> list[tuple[Any, ...]]:
        """A digest of the rows `run_versions` would return, summed in SQL (no row crosses into Python): how
        many runs, and the sums of their ids, update times, heartbeats, pids and state lengths. A run created or
        deleted (ids are never reused) or one whose update time, state, owner or heartbeat changed changes it,
        short of two changes cancelling each other to the last bit."""
        out: list[tuple[Any, ...]] = []
        for chunk in chunks(list(experiment_ids)):
            out.append(self.conn.execute(
                "SELECT COUNT(*), SUM(id), SUM(update_time), SUM(heartbeat), SUM(pid), SUM(LENGTH(state))"
                f" FROM context WHERE schema_title IN (?, ?) AND experiment_id IN ({marks(len(chunk))})",
                (*RUN_TYPES, *chunk),
            ).fetchone())
        return out

    def run_rows(
        self, run_ids: Sequence[int]
    ) -> list[tuple[int, int, str, float, float, float | None, str | None, str, str, str | None, int | None,
                    float | None]]:
        """(id, experiment_id, name, create_time, update_time, end_time, state, params, metrics, host, pid,
        heartbeat) of these runs: what a row of the board's run table is made of."""
        out: list[Any] = []
        for chunk in chunks(list(run_ids)):
            out += self.conn.execute(
                "SELECT id, experiment_id, name, create_time, update_time, end_time, state, params, metrics,"
                f" host, pid, heartbeat FROM context WHERE id IN ({marks(len(chunk))}) AND schema_title IN (?, ?)"
                " ORDER BY id",
                (*chunk, *RUN_TYPES),
            ).fetchall()
        return out

    def series_heads(self, run_ids: Sequence[int]) -> list[tuple[int, int, int, int, float | None]]:
        """(run_id, key_id, step, wall_ms, value) of the last point of every series of these runs.

        Comparing a head with the last step already sent tells which series grew (a NULL value is NaN).
        """
        out: list[Any] = []
        for chunk in chunks(list(run_ids)):
            out += self.conn.execute(
                "SELECT run_id, key_id, step, wall_time, value FROM series_last"
                f" WHERE run_id IN ({marks(len(chunk))}) ORDER BY run_id, key_id",
                chunk,
            ).fetchall()
        return out

    def series_cursor(self) -> int:
        """The change number of the last series head written: `series_heads_since` of it returns what comes next.
        Read it before the heads it covers (a head written in between is then read twice, never missed)."""
        return int(self.conn.execute("SELECT COALESCE(MAX(seq), 0) FROM series_last").fetchone()[0])

    def series_heads_since(self, cursor: int) -> list[tuple[int, int, int, int, float | None, int]]:
        """(run_id, key_id, step, wall_ms, value, seq) of every series head written after `cursor`, any run's,
        in the order written: an index range, however many runs and series the store holds."""
        return self.conn.execute(
            "SELECT run_id, key_id, step, wall_time, value, seq FROM series_last WHERE seq > ? ORDER BY seq",
            (cursor,),
        ).fetchall()

    def series_points(
        self, run_id: int, key_id: int, *, start: int | None = None, stop: int | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Points of one series in step order as (steps int64, wall_ms int64, values float64, NaN kept);
        `start`/`stop` keep start <= step <= stop (a live tail, a zoomed range)."""
        sql = "SELECT step, wall_time, COALESCE(value, 'nan') FROM series WHERE run_id = ? AND key_id = ?"
        args: list[Any] = [run_id, key_id]
        if start is not None:
            sql += " AND step >= ?"
            args.append(start)
        if stop is not None:
            sql += " AND step <= ?"
            args.append(stop)
        return series_columns(self.conn.execute(sql + " ORDER BY step", args).fetchall())

    def series_span(
        self, run_id: int, key_id: int, *, start: int | None = None, stop: int | None = None
    ) -> tuple[int, int] | None:
        """(first step, last step) of a series within start <= step <= stop, or None when it has no point
        there. Two primary-key seeks, whatever the series' length."""
        where = "run_id = ? AND key_id = ? AND step >= ? AND step <= ?"
        lo = -(2**63) if start is None else start
        hi = 2**63 - 1 if stop is None else stop
        args = (run_id, key_id, lo, hi)
        row = self.conn.execute(
            f"SELECT (SELECT MIN(step) FROM series WHERE {where}), (SELECT MAX(step) FROM series WHERE {where})",
            args + args,
        ).fetchone()
        return None if row[0] is None else (int(row[0]), int(row[1]))

    def series_buckets(
        self, run_id: int, key_id: int, first: int, width: int, count: int, stop: int | None = None
    ) -> np.ndarray:
        """A summary of the points first <= step <= stop cut into `count` buckets of `width` steps (bucket i
        holds first + i * width <= step < first + (i + 1) * width; no `stop`: up to the last step, which
        spares a comparison per point), one row per bucket that has points:
        (i, min value, max value, points, non-NaN points, first step, its wall ms, its value, last step, its
        wall ms, its value) as a float64 matrix. NaN (a stored NULL) never wins the min or max; a bucket of
        NaN only has NaN for both, and fewer non-NaN points than points says the bucket holds a NaN.
        """
        if not 0 < count <= MAX_BUCKETS or width <= 0:
            raise ValueError(f"series_buckets needs 1 to {MAX_BUCKETS} buckets of a positive width, got "
                             f"{count} of {width}")
        conn = self.conn
        conn.execute(_BUCKET_TABLE)
        top = conn.execute("SELECT MAX(i) FROM board_bucket").fetchone()[0]
        if top is None or top < MAX_BUCKETS - 1:
            conn.execute(_BUCKET_FILL, (MAX_BUCKETS,))
        ids = (run_id, key_id)
        bound = 2**63 - 1 if stop is None else stop
        rows = conn.execute(
            _BUCKETS_SQL_TO if stop is not None else _BUCKETS_SQL_ALL,
            (*ids, first, width, first, width, *(() if stop is None else (stop,)), count,
             *ids, *ids, first, width,
             *ids, *ids, first, width, bound),
        ).fetchall()
        if not rows:
            return np.empty((0, 11), np.float64)
        return float_matrix(rows, 11)

    def series_nan_points(
        self, run_id: int, key_id: int, ranges: Sequence[tuple[int, int]]
    ) -> tuple[np.ndarray, np.ndarray]:
        """(steps, wall ms) of the NaN points of a series within these [lo, hi) step ranges, in step order.

        Few ranges are read one by one (each a short range scan); many become one scan from the first to the
        last range, which costs about what reading the bucket summary did.
        """
        if not ranges:
            return np.empty(0, np.int64), np.empty(0, np.int64)
        sql = ("SELECT step, wall_time FROM series WHERE run_id = ? AND key_id = ? AND step >= ? AND step < ?"
               " AND value IS NULL ORDER BY step")
        spans = list(ranges) if len(ranges) <= _NAN_RANGES else [(ranges[0][0], ranges[-1][1])]
        rows: list[Any] = []
        for lo, hi in spans:
            rows += self.conn.execute(sql, (run_id, key_id, lo, hi)).fetchall()
        if not rows:
            return np.empty(0, np.int64), np.empty(0, np.int64)
        m = np.array(rows, dtype=np.int64).reshape(-1, 2)
        if len(spans) < len(ranges):  # one wide scan: keep the points inside the ranges asked for
            los = np.array([r[0] for r in ranges], np.int64)
            his = np.array([r[1] for r in ranges], np.int64)
            j = np.searchsorted(los, m[:, 0], side="right") - 1
            m = m[(j >= 0) & (m[:, 0] < his[np.maximum(j, 0)])]
        return m[:, 0], m[:, 1]

