"""Pieces every store module's SQL is built from: the context schema titles, the context column list, runs of
"?" placeholders, id lists cut to a size every engine binds (and deletes by such lists), rows turned into
numpy columns, and the one statement that sets a run's state."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from itertools import chain
from typing import Any

import numpy as np

EXPERIMENT = "system.Experiment"
EXPERIMENT_RUN = "system.ExperimentRun"
PIPELINE_RUN = "system.PipelineRun"
RUN_TYPES = (EXPERIMENT_RUN, PIPELINE_RUN)

# The columns of a `core.Context`, in its fields' order (tests/test_store.py checks that they agree).
CONTEXT_FIELDS = (
    "id", "schema_title", "experiment_id", "name", "display_name", "description", "metadata", "params", "metrics",
    "state", "create_time", "update_time", "end_time", "host", "pid", "heartbeat",
)
CONTEXT_COLUMNS = ", ".join(CONTEXT_FIELDS)

_STATE_SQL = "UPDATE context SET state = ?, update_time = ?, end_time = ?, heartbeat = ? WHERE id = ?"

CHUNK = 500  # ids per IN (...) list, well under every engine's limit on bound parameters


def marks(n: int) -> str:
    """`n` comma-separated "?" placeholders."""
    return ", ".join("?" * n)


def chunks(items: list[Any], size: int = CHUNK) -> Iterator[list[Any]]:
    """`items` in consecutive slices of at most `size`."""
    for i in range(0, len(items), size):
        yield items[i : i + size]


def delete_in(conn: sqlite3.Connection, ids: list[int], statements: tuple[str, ...]) -> None:
    """Run each `DELETE ... IN ({})` statement for `ids`, a chunk at a time, inside the caller's transaction."""
    for chunk in chunks(ids):
        held = marks(len(chunk))
        for sql in statements:
            conn.execute(sql.format(held), chunk)


def empty_series() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A series without points: (steps int64, wall_ms int64, values float64)."""
    return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.float64)


def float_matrix(rows: list[tuple[Any, ...]], width: int) -> np.ndarray:
    """Rows of `width` numbers as a float64 matrix.

    Queries select COALESCE(value, 'nan'), so a stored NaN (NULL) arrives as the text 'nan', which fromiter
    parses; fromiter over the flattened rows runs at C speed.
    """
    return np.fromiter(chain.from_iterable(rows), dtype=np.float64, count=len(rows) * width).reshape(-1, width)


def series_columns(rows: list[tuple[Any, ...]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(step, wall_time, COALESCE(value, 'nan')) rows as (steps int64, wall_ms int64, values float64)."""
    if not rows:
        return empty_series()
    m = float_matrix(rows, 3)
    return m[:, 0].astype(np.int64), m[:, 1].astype(np.int64), m[:, 2]


def write_state(conn: sqlite3.Connection, run_id: int, state: str, when: float) -> None:
    """Set a run's state as of `when`, inside the caller's transaction: its update time and heartbeat (whoever
    sets a state is alive) and its end time (an ending state records `when`; NEW and RUNNING clear it)."""
    ended = state not in ("RUNNING", "NEW")
    conn.execute(_STATE_SQL, (state, when, when if ended else None, when, run_id))
