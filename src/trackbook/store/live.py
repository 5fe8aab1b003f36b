"""SQL the board uses to follow a store live: what changed since a cursor, series tails and ranges.
Mixed into `Store` (uses `self.conn`).

The board polls cheaply: `data_version()` says whether anyone committed since the last look, `run_versions`
lists every followed run with its update time and liveness columns (a few bytes a run), and `series_heads`
gives the last point of every series; only rows and tails that changed are then read in full.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from itertools import chain
from typing import Any

import numpy as np

_EXPERIMENT = "system.Experiment"
_RUN_TYPES = ("system.ExperimentRun", "system.PipelineRun")
_CHUNK = 500  # ids per IN (...) list, well under every engine's limit on bound parameters


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
            return self.conn.execute(sql + " ORDER BY id", (_EXPERIMENT,)).fetchall()
        wanted = list(names)
        if not wanted:
            return []
        rows: list[tuple[int, str]] = []
        for chunk in _chunks(wanted):
            rows += self.conn.execute(sql + f" AND name IN ({_marks(len(chunk))})", (_EXPERIMENT, *chunk)).fetchall()
        return sorted(rows)

    def run_versions(
        self, experiment_ids: Sequence[int]
    ) -> list[tuple[int, str, float, float, str | None, str | None, int | None, float | None]]:
        """(id, name, create_time, update_time, state, host, pid, heartbeat) of every run of these experiments.

        Small enough to read on every change: a row changed when its update_time did (params, metrics and
        state updates all set it); host, pid and heartbeat decide whether a RUNNING run has crashed.
        """
        out: list[Any] = []
        for chunk in _chunks(list(experiment_ids)):
            out += self.conn.execute(
                "SELECT id, name, create_time, update_time, state, host, pid, heartbeat FROM context"
                f" WHERE schema_title IN (?, ?) AND experiment_id IN ({_marks(len(chunk))}) ORDER BY id",
                (*_RUN_TYPES, *chunk),
            ).fetchall()
        return out

    def run_rows(
        self, run_ids: Sequence[int]
    ) -> list[tuple[int, int, str, float, float, float | None, str | None, str, str, str | None, int | None,
                    float | None]]:
        """(id, experiment_id, name, create_time, update_time, end_time, state, params, metrics, host, pid,
        heartbeat) of these runs: what a row of the board's run table is made of."""
        out: list[Any] = []
        for chunk in _chunks(list(run_ids)):
            out += self.conn.execute(
                "SELECT id, experiment_id, name, create_time, update_time, end_time, state, params, metrics,"
                f" host, pid, heartbeat FROM context WHERE id IN ({_marks(len(chunk))}) AND schema_title IN (?, ?)"
                " ORDER BY id",
                (*chunk, *_RUN_TYPES),
            ).fetchall()
        return out

    def series_heads(self, run_ids: Sequence[int]) -> list[tuple[int, int, int, int, float | None]]:
        """(run_id, key_id, step, wall_ms, value) of the last point of every series of these runs.

        Comparing a head with the last step already sent tells which series grew (a NULL value is NaN).
        """
        out: list[Any] = []
        for chunk in _chunks(list(run_ids)):
            out += self.conn.execute(
                "SELECT run_id, key_id, step, wall_time, value FROM series_last"
                f" WHERE run_id IN ({_marks(len(chunk))}) ORDER BY run_id, key_id",
                chunk,
            ).fetchall()
        return out

    def series_key_names(self) -> dict[int, str]:
        """Every interned series key: id -> name."""
        return dict(self.conn.execute("SELECT id, name FROM series_key").fetchall())

    def series_points(
        self, run_id: int, key_id: int, *, after: int | None = None, start: int | None = None, stop: int | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Points of one series in step order as (steps int64, wall_ms int64, values float64, NaN kept).

        `after` keeps steps > after (a live tail); `start`/`stop` keep start <= step <= stop (a zoomed range).
        """
        sql = "SELECT step, wall_time, COALESCE(value, 'nan') FROM series WHERE run_id = ? AND key_id = ?"
        args: list[Any] = [run_id, key_id]
        if after is not None:
            sql += " AND step > ?"
            args.append(after)
        if start is not None:
            sql += " AND step >= ?"
            args.append(start)
        if stop is not None:
            sql += " AND step <= ?"
            args.append(stop)
        rows = self.conn.execute(sql + " ORDER BY step", args).fetchall()
        if not rows:
            return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.float64)
        # COALESCE(value, 'nan') turns NULL (NaN) into text fromiter parses; fromiter runs at C speed.
        m = np.fromiter(chain.from_iterable(rows), dtype=np.float64, count=3 * len(rows)).reshape(-1, 3)
        return m[:, 0].astype(np.int64), m[:, 1].astype(np.int64), m[:, 2]


def _marks(n: int) -> str:
    return ", ".join("?" * n)


def _chunks(items: list[Any]) -> Iterator[list[Any]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]
