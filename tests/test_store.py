"""The store file: schema, WAL, refusal of foreign/newer/damaged files, readable with plain sqlite3."""

from __future__ import annotations

import json
import math
import sqlite3
from pathlib import Path

import pytest

import trackbook
from trackbook.store import APPLICATION_ID, SCHEMA_VERSION, Store


def test_new_store_is_wal_with_a_recorded_schema(store_path: Path) -> None:
    store = Store(store_path)
    conn = sqlite3.connect(store_path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert [v for v, *_ in store.migrations()] == list(range(1, SCHEMA_VERSION + 1))
    Store(store_path)  # reopening migrates nothing
    assert len(store.migrations()) == SCHEMA_VERSION


def test_default_store_is_trackbook_db_in_the_working_directory(tmp_path, monkeypatch) -> None:
    from support import reset_session

    reset_session()
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TRACKBOOK_STORE", raising=False)
    trackbook.init(experiment="e")
    assert (tmp_path / "trackbook.db").exists()
    reset_session()
    other = tmp_path / "elsewhere" / "runs.db"
    monkeypatch.setenv("TRACKBOOK_STORE", str(other))
    trackbook.init(experiment="e")
    assert other.exists()
    reset_session()


def test_plain_sqlite3_can_read_the_file(tb, store_path: Path) -> None:
    tb.init(experiment="e")
    tb.start_run("r")
    tb.log_params({"lr": 0.1, "name": "x"})
    tb.log_metrics({"acc": math.nan})
    for s in range(3):
        tb.log_time_series_metrics({"loss": 1.0 + s})
    tb.end_run()
    conn = sqlite3.connect(store_path)
    rows = conn.execute(
        "SELECT e.name, r.name, r.state, json_extract(r.params, '$.lr'), r.metrics"
        " FROM context r JOIN context e ON e.id = r.experiment_id"
        " WHERE r.schema_title = 'system.ExperimentRun'"
    ).fetchall()
    assert rows == [("e", "r", "COMPLETE", 0.1, '{"acc":null}')]
    series = conn.execute(
        "SELECT s.step, s.value FROM series s JOIN series_key k ON k.id = s.key_id WHERE k.name = 'loss'"
        " ORDER BY s.step"
    ).fetchall()
    assert series == [(1, 1.0), (2, 2.0), (3, 3.0)]
    assert conn.execute("SELECT step, value FROM series_last").fetchall() == [(3, 3.0)]


def test_a_file_that_is_not_sqlite_is_refused_and_untouched(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_bytes(b"just some text, not a database\n" * 10)
    before = path.read_bytes()
    with pytest.raises(trackbook.StoreError, match="not a trackbook store"):
        Store(path)
    assert path.read_bytes() == before


def test_someone_elses_sqlite_database_is_refused_and_untouched(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
    conn.execute("INSERT INTO users (name) VALUES ('ada')")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with pytest.raises(trackbook.StoreError, match="not a trackbook store"):
        Store(path)
    assert path.read_bytes() == before


def test_a_newer_schema_is_refused_and_untouched(store_path: Path) -> None:
    Store(store_path).close()
    conn = sqlite3.connect(store_path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    before = store_path.read_bytes()
    with pytest.raises(trackbook.StoreError, match="newer trackbook"):
        Store(store_path)
    assert store_path.read_bytes() == before


def test_a_truncated_store_is_refused_with_a_clear_error(tb, store_path: Path, tmp_path: Path) -> None:
    tb.init(experiment="e")
    tb.start_run("r")
    for s in range(5000):
        tb.log_time_series_metrics({"loss": float(s)})
    tb.end_run()
    from support import reset_session

    reset_session()
    data = store_path.read_bytes()
    cut = tmp_path / "cut.db"
    cut.write_bytes(data[: len(data) // 3])
    before = cut.read_bytes()
    with pytest.raises(trackbook.StoreError, match=r"cut\.db is truncated"):
        Store(cut)
    assert cut.read_bytes() == before


def test_a_directory_or_unwritable_place_fails_at_init(tmp_path: Path) -> None:
    with pytest.raises(trackbook.StoreError, match="is a directory"):
        trackbook.init(store=tmp_path)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(trackbook.StoreError, match="cannot create the store directory"):
        trackbook.init(store=blocker / "sub" / "t.db")


def test_last_values_follow_the_largest_step(tb) -> None:
    tb.init(experiment="e")
    run = tb.start_run("r")
    tb.log_time_series_metrics({"a": 5.0}, step=5)
    tb.log_time_series_metrics({"a": 2.0}, step=2)  # an earlier step logged later is not "last"
    tb.end_run()
    assert tb.get_experiment_df()["time_series_metric.a"].tolist() == [5.0]
    assert run.get_time_series_data_frame().a.tolist() == [2.0, 5.0]


def test_deleting_a_run_removes_its_series(tb, store_path: Path) -> None:
    tb.init(experiment="e")
    run = tb.start_run("r")
    tb.log_time_series_metrics({"a": 1.0})
    tb.end_run()
    run.delete()
    conn = sqlite3.connect(store_path)
    assert conn.execute("SELECT count(*) FROM series").fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM series_last").fetchone()[0] == 0


def test_experiment_metadata_is_json(tb, store_path: Path) -> None:
    tb.init(experiment="e")
    conn = sqlite3.connect(store_path)
    (meta,) = conn.execute("SELECT metadata FROM context WHERE name = 'e'").fetchone()
    assert json.loads(meta) == {"experiment_deleted": False}


def test_the_context_columns_are_the_context_fields(store_path: Path) -> None:
    from dataclasses import fields

    from trackbook.store import Context
    from trackbook.store.sql import CONTEXT_FIELDS

    assert tuple(f.name for f in fields(Context)) == CONTEXT_FIELDS
    conn = sqlite3.connect(Store(store_path).path)
    assert {r[1] for r in conn.execute("PRAGMA table_info(context)")} == set(CONTEXT_FIELDS)


def test_a_series_reads_the_same_by_key_name_and_by_key_id(tb, store_path: Path) -> None:
    import numpy as np

    tb.init(experiment="e")
    run = tb.start_run("r")
    for s in range(5):
        tb.log_time_series_metrics({"a": math.nan if s == 2 else float(s)}, step=s * 2)
    tb.end_run()
    store = Store(store_path)
    kid = {name: k for k, name in store.key_names().items()}["a"]
    for start, stop in ((None, None), (2, 6), (3, None), (None, 4)):
        by_name = store.series(run._id, "a", start=start, stop=stop)
        by_id = store.series_points(run._id, kid, start=start, stop=stop)
        for x, y in zip(by_name, by_id, strict=True):
            assert x.dtype == y.dtype
            np.testing.assert_array_equal(x, y)
    steps, _, values = store.series(run._id, "a")
    assert steps.tolist() == [0, 2, 4, 6, 8] and math.isnan(values[2])
    assert store.series(run._id, "missing")[0].size == 0


def test_every_state_path_writes_state_update_end_and_heartbeat_alike(store_path: Path) -> None:
    from trackbook.store import Batch

    store = Store(store_path)
    exp = store.create_experiment("e", None)
    run = store.create_run(exp.id, "r")

    def columns() -> tuple:
        row = store.context_by_id(run.id)
        return row.state, row.update_time, row.end_time, row.heartbeat

    store.commit(Batch([], {}, {}, [(run.id, "FAILED", 1000.0)]))  # the writer's path
    assert columns() == ("FAILED", 1000.0, 1000.0, 1000.0)
    store.set_state(run.id, "RUNNING", owned=True)  # resuming
    state, update, end, beat = columns()
    assert (state, end) == ("RUNNING", None) and update == beat > 1000.0
    store.set_run_values(run.id, state="COMPLETE", release=True)  # a pipeline run's path
    state, update, end, beat = columns()
    assert state == "COMPLETE" and update == end == beat
    assert store.context_by_id(run.id).pid is None


def test_series_heads_are_numbered_in_commit_order_and_never_below_a_deleted_one(store_path: Path) -> None:
    from trackbook.store import Batch

    store = Store(store_path)
    exp = store.create_experiment("e", None)
    a, b = (store.create_run(exp.id, name).id for name in ("a", "b"))
    k = store.key_id("loss")
    store.commit(Batch([a, k, 0, 0, 1.0, b, k, 0, 0, 1.0], {}, {}, []))
    cursor = store.series_cursor()
    assert store.series_heads_since(cursor) == []
    store.commit(Batch([b, k, 1, 10, 2.0], {}, {}, []))
    ((run, key, step, wall, value, seq),) = store.series_heads_since(cursor)
    assert (run, key, step, wall, value) == (b, k, 1, 10, 2.0) and seq > cursor
    store.delete_contexts([b])  # b held the largest number
    store.commit(Batch([a, k, 1, 10, 3.0], {}, {}, []))
    assert [(r, s) for r, _, s, *_ in store.series_heads_since(seq)] == [(a, 1)]


def test_the_run_digest_changes_with_every_change_of_a_run_row_but_not_with_points(store_path: Path) -> None:
    from trackbook.store import Batch

    store = Store(store_path)
    exp = store.create_experiment("e", None)
    a = store.create_run(exp.id, "a").id
    k = store.key_id("loss")
    digests = [store.run_digest([exp.id])]
    store.commit(Batch([a, k, 0, 0, 1.0], {}, {}, []))  # points alone
    assert store.run_digest([exp.id]) == digests[-1]
    for change in (
        lambda: store.commit(Batch([], {}, {}, []), heartbeat_runs=[a]),
        lambda: store.commit(Batch([], {a: {"lr": 0.1}}, {}, [])),
        lambda: store.commit(Batch([], {}, {}, [(a, "COMPLETE", 5.0)])),
        lambda: store.create_run(exp.id, "b"),
        lambda: store.delete_contexts([a]),
    ):
        change()
        digests.append(store.run_digest([exp.id]))
        assert digests[-1] != digests[-2]
