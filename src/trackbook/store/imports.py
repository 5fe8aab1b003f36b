"""SQL the importers (MLflow, TensorBoard) need beyond the core API.

`ImportQueries` is mixed into `Store`: it finds the runs already imported (their source identity lives in the
run's metadata JSON under "imported_from") and writes one imported run, context row and every point, in one
transaction, so an interrupted import leaves either the whole run or nothing. `MlflowDatabase` reads an
MLflow tracking database (the SQLAlchemy store's tables, sqlite file) read-only, without MLflow installed.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .lineage import _put_properties
from .sql import EXPERIMENT_RUN, RUN_TYPES

IMPORTED_FROM = "imported_from"  # the metadata key holding a run's source identity


@dataclass(frozen=True)
class ImportedRun:
    """A run brought in by an importer: where it lives here and what it was in its source."""

    run_id: int
    experiment_id: int
    name: str
    tool: str
    source_id: str
    fingerprint: str


@dataclass
class SeriesData:
    """One series to write: its key id and its points, steps unique and >= 0."""

    key_id: int
    steps: np.ndarray  # int64
    wall_ms: np.ndarray  # int64
    values: np.ndarray  # float64, NaN allowed


class ImportQueries:
    """Import bookkeeping statements of `Store`."""

    conn: sqlite3.Connection

    def write(self) -> Any:  # provided by Store
        raise NotImplementedError

    def imported_runs(self, tool: str) -> dict[str, ImportedRun]:
        """Every run imported from `tool` ("mlflow", "tensorboard"), by its source identity."""
        rows = self.conn.execute(
            "SELECT id, experiment_id, name, metadata FROM context WHERE schema_title IN (?, ?) AND metadata LIKE ?",
            (*RUN_TYPES, f'%"{IMPORTED_FROM}"%'),
        ).fetchall()
        out: dict[str, ImportedRun] = {}
        for run_id, experiment_id, name, metadata in rows:
            try:
                source = json.loads(metadata).get(IMPORTED_FROM) or {}
            except (ValueError, AttributeError):
                continue
            if source.get("tool") == tool and isinstance(source.get("id"), str):
                out[source["id"]] = ImportedRun(
                    run_id, experiment_id, name, tool, source["id"], str(source.get("fingerprint", ""))
                )
        return out

    def run_names(self, experiment_id: int) -> set[str]:
        """The names of the runs of an experiment."""
        rows = self.conn.execute(
            "SELECT name FROM context WHERE experiment_id = ? AND schema_title IN (?, ?)",
            (experiment_id, *RUN_TYPES),
        ).fetchall()
        return {r[0] for r in rows}

    def import_run(
        self,
        experiment_id: int,
        name: str,
        *,
        state: str,
        create_time: float,
        end_time: float | None,
        heartbeat: float | None,
        description: str | None,
        params: str,
        metrics: str,
        metadata: str,
        series: Sequence[SeriesData],
    ) -> tuple[int, int]:
        """Create a finished-or-foreign run with all its points in one transaction: (run id, points written).

        The run is not owned by this process (no host or pid). Raises sqlite3.IntegrityError when the
        experiment already has a run of that name (nothing is written then).
        """
        now = time.time()
        with self.write() as conn:
            cur = conn.execute(
                "INSERT INTO context (schema_title, experiment_id, name, display_name, description, metadata, params,"
                " metrics, state, create_time, update_time, end_time, heartbeat)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    EXPERIMENT_RUN, experiment_id, name, name, description, metadata, params, metrics, state,
                    create_time, now, end_time, heartbeat,
                ),
            )
            run_id = int(cur.lastrowid)  # type: ignore[arg-type]
            _put_properties(conn, "context", run_id, metadata)
            points = _write_series(conn, run_id, series)
        return run_id, points

    def update_imported_run(
        self,
        run_id: int,
        *,
        state: str,
        end_time: float | None,
        heartbeat: float | None,
        description: str | None,
        params: str,
        metrics: str,
        metadata: str,
        series: Sequence[SeriesData],
    ) -> int:
        """Bring an imported run up to date with its source in one transaction; returns the points added.

        Points are upserted by step, so points already there are rewritten in place, never duplicated.
        """
        with self.write() as conn:
            before = conn.execute("SELECT count(*) FROM series WHERE run_id = ?", (run_id,)).fetchone()[0]
            conn.execute(
                "UPDATE context SET state = ?, end_time = ?, heartbeat = ?, description = ?, params = ?, metrics = ?,"
                " metadata = ?, update_time = ? WHERE id = ?",
                (state, end_time, heartbeat, description, params, metrics, metadata, time.time(), run_id),
            )
            _put_properties(conn, "context", run_id, metadata)
            _write_series(conn, run_id, series)
            after = conn.execute("SELECT count(*) FROM series WHERE run_id = ?", (run_id,)).fetchone()[0]
        return int(after - before)


def _write_series(conn: sqlite3.Connection, run_id: int, series: Sequence[SeriesData]) -> int:
    from .core import _LAST_SQL, _insert_points

    written = 0
    for s in series:
        n = len(s.steps)
        if not n:
            continue
        flat: list[Any] = [None] * (5 * n)
        flat[0::5] = [run_id] * n
        flat[1::5] = [s.key_id] * n
        flat[2::5] = s.steps.tolist()
        flat[3::5] = s.wall_ms.tolist()
        flat[4::5] = s.values.tolist()  # NaN binds as NULL, which the store reads back as NaN
        _insert_points(conn, flat)
        conn.execute(_LAST_SQL, (run_id, s.key_id))
        written += n
    return written


# -- reading an MLflow tracking database --------------------------------------------------------------------


@dataclass(frozen=True)
class MlflowExperimentRow:
    experiment_id: str
    name: str
    lifecycle_stage: str
    creation_time: int | None


@dataclass(frozen=True)
class MlflowRunRow:
    run_id: str
    experiment_id: str
    name: str | None
    status: str
    start_time: int | None
    end_time: int | None
    lifecycle_stage: str


class MlflowDatabase:
    """An MLflow SQL tracking database (sqlite file), opened read-only: the file is never modified.

    Reads the tables of MLflow's SQLAlchemy store (experiments, runs, params, tags, metrics), whose columns
    used here are the same from MLflow 1.x to 3.x; no schema upgrade is needed, and MLflow need not be installed.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        uri = self.path.resolve().as_uri() + "?mode=ro"
        self.conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
        tables = {r[0] for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        missing = {"experiments", "runs", "params", "tags", "metrics"} - tables
        if missing:
            self.conn.close()
            raise ValueError(
                f"{self.path} is an SQLite database but not an MLflow tracking store (no table "
                f"{', '.join(sorted(missing))})"
            )

    def close(self) -> None:
        self.conn.close()

    def experiments(self) -> list[MlflowExperimentRow]:
        rows = self.conn.execute(
            "SELECT experiment_id, name, lifecycle_stage, creation_time FROM experiments ORDER BY experiment_id"
        ).fetchall()
        return [MlflowExperimentRow(str(r[0]), r[1], r[2] or "active", r[3]) for r in rows]

    def runs(self) -> list[MlflowRunRow]:
        rows = self.conn.execute(
            "SELECT run_uuid, experiment_id, name, status, start_time, end_time, lifecycle_stage FROM runs"
            " ORDER BY start_time, run_uuid"
        ).fetchall()
        return [MlflowRunRow(r[0], str(r[1]), r[2], r[3] or "FINISHED", r[4], r[5], r[6] or "active") for r in rows]

    def metric_counts(self) -> dict[str, tuple[int, int]]:
        """run id -> (number of metric points, latest point timestamp): what changes when a run logs more."""
        rows = self.conn.execute("SELECT run_uuid, count(*), max(timestamp) FROM metrics GROUP BY run_uuid")
        return {r[0]: (int(r[1]), int(r[2] or 0)) for r in rows}

    def params(self, run_id: str) -> dict[str, str]:
        return dict(self.conn.execute("SELECT key, value FROM params WHERE run_uuid = ?", (run_id,)).fetchall())

    def tags(self, run_id: str) -> dict[str, str]:
        return dict(self.conn.execute("SELECT key, value FROM tags WHERE run_uuid = ?", (run_id,)).fetchall())

    def metric_points(self, run_id: str) -> Iterator[tuple[str, list[tuple[int, int, float]]]]:
        """Each metric key of a run with all its points (step, timestamp ms, value; NaN restored), in
        logging order (timestamp, then step)."""
        rows = self.conn.execute(
            "SELECT key, step, timestamp, value, is_nan FROM metrics WHERE run_uuid = ? ORDER BY key, timestamp, step",
            (run_id,),
        )
        current: str | None = None
        points: list[tuple[int, int, float]] = []
        for key, step, timestamp, value, is_nan in rows:
            if key != current:
                if current is not None:
                    yield current, points
                current, points = key, []
            points.append((int(step or 0), int(timestamp or 0), float("nan") if is_nan else float(value)))
        if current is not None:
            yield current, points

