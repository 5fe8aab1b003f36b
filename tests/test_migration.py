"""Schema creation and migration under concurrency: exactly once, every process goes on."""

from __future__ import annotations

import sqlite3
import subprocess
import textwrap
from pathlib import Path

from support import PYTHON, python_env
from trackbook.store import APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION, Store

OPEN_AND_LOG = textwrap.dedent(
    """
    import sys, time, trackbook
    path, name, start = sys.argv[1], sys.argv[2], float(sys.argv[3])
    while time.time() < start:  # all processes open the file at the same instant
        pass
    trackbook.init(store=path, experiment="race")
    trackbook.start_run(name)
    trackbook.log_time_series_metrics({"x": 1.0})
    trackbook.end_run()
    """
)


def _race(path: Path, n: int) -> None:
    import time

    start = time.time() + 1.5
    procs = [
        subprocess.Popen([PYTHON, "-c", OPEN_AND_LOG, str(path), f"p{i}", str(start)], env=python_env(),
                         stderr=subprocess.PIPE, text=True)
        for i in range(n)
    ]
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0] * n, errors
    assert not any(errors), errors


def _runs(path: Path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return sorted(r for (r,) in conn.execute(
            "SELECT name FROM context WHERE schema_title = 'system.ExperimentRun'"))
    finally:
        conn.close()


def test_eight_processes_create_a_new_store_at_the_same_instant(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    _race(path, 8)
    assert _runs(path) == [f"p{i}" for i in range(8)]
    store = Store(path)
    assert [v for v, *_ in store.migrations()] == list(range(1, SCHEMA_VERSION + 1))  # each version once
    assert sqlite3.connect(path).execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def _old_store(path: Path, version: int) -> None:
    """A store as an older trackbook left it: migrations 1..version only."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("BEGIN")
    for v in range(1, version + 1):
        for statement in MIGRATIONS[v - 1]:
            conn.execute(statement)
        conn.execute("INSERT INTO schema_migration (version, applied_at, host, pid) VALUES (?, 0, 'old', 0)", (v,))
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute(f"PRAGMA user_version = {version}")
    conn.execute(
        "INSERT INTO context (schema_title, experiment_id, name, create_time, update_time)"
        " VALUES ('system.Experiment', 0, 'race', 0, 0)"
    )
    conn.execute("COMMIT")
    conn.close()


def test_eight_processes_open_an_old_store_and_migrate_it_exactly_once(tmp_path: Path) -> None:
    assert SCHEMA_VERSION >= 2
    path = tmp_path / "old.db"
    _old_store(path, 1)
    _race(path, 8)
    assert _runs(path) == [f"p{i}" for i in range(8)]
    applied = Store(path).migrations()
    assert [v for v, *_ in applied] == list(range(1, SCHEMA_VERSION + 1))
    assert applied[0][2] == "old"  # version 1 was not re-applied
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("SELECT count(*) FROM context WHERE name = 'race'").fetchone()[0] == 1  # data kept


def test_a_schema_4_store_keeps_its_series_heads_and_numbers_new_ones(tmp_path: Path) -> None:
    from trackbook.board.feed import Feed
    from trackbook.store import Batch

    path = tmp_path / "four.db"
    _old_store(path, 4)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("INSERT INTO context (schema_title, experiment_id, name, state, create_time, update_time)"
                 " VALUES ('system.ExperimentRun', 1, 'r', 'COMPLETE', 0, 0)")
    conn.execute("INSERT INTO series_key (id, name) VALUES (1, 'loss')")
    conn.execute("INSERT INTO series VALUES (2, 1, 0, 0, 1.0)")
    conn.execute("INSERT INTO series_last VALUES (2, 1, 0, 0, 1.0)")
    conn.close()
    store = Store(path)
    assert store.schema_version() == SCHEMA_VERSION >= 5
    assert store.last_values([2]) == [(2, "loss", 0, 0, 1.0)] and store.series_cursor() == 0
    feed = Feed(store, ["race"])
    assert feed.scan().rows[0]["last"]["loss"] == [0, 1.0]
    store.commit(Batch([2, 1, 1, 1, 2.0], {}, {}, []))
    assert store.series_cursor() == 1
    assert feed.scan().rows[0]["last"]["loss"] == [1, 2.0]
