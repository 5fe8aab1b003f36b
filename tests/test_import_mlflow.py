"""`trackbook import mlflow`: runs written by real MLflow (sqlite database and mlruns folder) come over with
every point, checked against MLflow's own client reading the same files; importing twice adds nothing."""

from __future__ import annotations

import hashlib
import math
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import trackbook
from support import PYTHON, python_env
from trackbook.importers import import_mlflow
from trackbook.importers.mlflow import param_value
from trackbook.session import resolve

STATES = {"FINISHED": "COMPLETE", "FAILED": "FAILED", "KILLED": "CANCELLED", "RUNNING": "RUNNING"}


def write_mlflow(uri: str) -> dict[str, str]:
    """A small but awkward MLflow history: steps, no steps, NaN, a failed, a killed, a deleted, a running run,
    two runs of the same name. Returns {label: run id}."""
    import mlflow

    mlflow.set_tracking_uri(uri)
    ids: dict[str, str] = {}
    mlflow.set_experiment("baseline")
    with mlflow.start_run(run_name="lr-0.1") as run:
        mlflow.log_params({"lr": 0.1, "epochs": 3, "optimizer": "adam", "use_bn": True, "layers": "[64, 32]"})
        mlflow.set_tags({"team": "vision", "mlflow.note.content": "the baseline"})
        for step in range(40):
            mlflow.log_metrics({"loss": 1.0 / (step + 1), "train/acc": step / 40}, step=step)
        for step in range(0, 40, 10):
            mlflow.log_metric("val_acc", float("nan") if step == 20 else step / 50, step=step)
        mlflow.log_metric("final_acc", 0.93)
        ids["lr-0.1"] = run.info.run_id
    with mlflow.start_run(run_name="lr-0.01") as run:
        mlflow.log_param("lr", 0.01)
        mlflow.log_metric("loss", 2.0, step=0)
        mlflow.log_metric("loss", 1.5, step=1)
        mlflow.log_metric("loss", 1.2, step=1)  # step 1 again, as a resumed training logs it
        ids["failed"] = run.info.run_id
        mlflow.end_run(status="FAILED")
    with mlflow.start_run(run_name="lr-0.1") as run:  # MLflow allows a second run of the same name
        mlflow.log_metric("loss", 0.5, step=3)
        ids["same-name"] = run.info.run_id
    with mlflow.start_run(run_name="mistake") as run:
        mlflow.log_metric("loss", 9.0)
        ids["deleted"] = run.info.run_id
    mlflow.MlflowClient(uri).delete_run(ids["deleted"])
    mlflow.set_experiment("other")
    with mlflow.start_run(run_name="no-steps") as run:
        for value in (0.3, 0.2, 0.1, float("inf"), 0.05):
            mlflow.log_metric("loss", value)  # every point at step 0
        ids["no-steps"] = run.info.run_id
    with mlflow.start_run(run_name="stopped") as run:
        ids["killed"] = run.info.run_id
        mlflow.end_run(status="KILLED")
    client = mlflow.MlflowClient(uri)
    running = client.create_run(client.get_experiment_by_name("other").experiment_id, run_name="live")
    client.log_metric(running.info.run_id, "loss", 1.0, step=0)
    ids["running"] = running.info.run_id
    return ids


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The same history written by MLflow into an sqlite database and into an mlruns folder."""
    root = tmp_path_factory.mktemp("mlflow")
    mp = pytest.MonkeyPatch()
    mp.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # MLflow 3 keeps the file store behind this switch
    mp.chdir(root)
    try:
        db_uri, folder = f"sqlite:///{root / 'mlflow.db'}", root / "mlruns"
        yield {"sqlite": (db_uri, write_mlflow(db_uri)), "folder": (str(folder), write_mlflow(folder.as_uri()))}
    finally:
        mp.undo()


def copy_source(sources: dict[str, Any], kind: str, tmp_path: Path) -> tuple[str, dict[str, str], str]:
    """A private copy of a source (tests that change it must not change the others'); (uri, ids, client uri)."""
    uri, ids = sources[kind]
    if kind == "sqlite":
        target = tmp_path / "mlflow.db"
        shutil.copy(uri[len("sqlite:///") :], target)
        return f"sqlite:///{target}", ids, f"sqlite:///{target}"
    target = tmp_path / "mlruns"
    shutil.copytree(uri, target)
    return str(target), ids, target.as_uri()


def epoch_ms(times: pd.Series) -> list[int]:
    return ((times - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(milliseconds=1)).tolist()


def same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


def check_every_point(client_uri: str, ids: dict[str, str], store_runs: dict[str, Any]) -> None:
    """Each active MLflow run is in the store with its params, latest metrics and every metric point."""
    import mlflow

    client = mlflow.MlflowClient(client_uri)
    for label, run_id in ids.items():
        if label == "deleted":
            assert run_id not in store_runs
            continue
        source = client.get_run(run_id)
        run = store_runs[run_id]
        assert run.get_state() in (STATES[source.info.status], "CRASHED")
        assert run.get_params() == {k: param_value(v) for k, v in source.data.params.items()}
        metrics = run.get_metrics()
        assert metrics.keys() == source.data.metrics.keys()
        assert all(same(metrics[k], v) for k, v in source.data.metrics.items()), label
        history = trackbook.history(runs=run.name, experiment=run.experiment_name)
        for key in source.data.metrics:
            points = client.get_metric_history(run_id, key)
            got = history[history.metric == key]
            wall = epoch_ms(got.wall_time)
            steps = [p.step for p in points]
            if len(set(steps)) == len(steps):
                expected = sorted((p.step, p.timestamp, p.value) for p in points)
                actual = list(zip(got.step.tolist(), wall, got.value.tolist()))
                assert len(actual) == len(expected)
                assert all(e[:2] == a[:2] and same(e[2], a[2]) for e, a in zip(expected, actual)), (label, key)
            elif len(set(steps)) == 1:  # all at one step: every point, numbered in logging order
                ordered = sorted(points, key=lambda p: (p.timestamp, p.step))
                assert got.step.tolist() == list(range(len(points)))
                assert wall == [p.timestamp for p in ordered]
                assert all(same(p.value, v) for p, v in zip(ordered, got.value.tolist())), (label, key)
            else:  # some steps logged again: the later point of each step
                latest = {p.step: p for p in sorted(points, key=lambda p: (p.timestamp, p.step))}
                assert got.step.tolist() == sorted(latest)
                assert [latest[s].value for s in sorted(latest)] == got.value.tolist(), (label, key)


def imported_runs() -> dict[str, Any]:
    """{MLflow run id: ExperimentRun} of every imported run in the session's store."""
    out = {}
    for exp in trackbook.Experiment.list():
        for run in trackbook.ExperimentRun.list(experiment=exp):
            meta = resolve()[0].context_by_id(run._id).metadata
            import json

            out[json.loads(meta)["imported_from"]["run_id"]] = run
    return out


@pytest.mark.parametrize("kind", ["sqlite", "folder"])
def test_import_brings_every_run_param_metric_and_point(tb, sources, kind, tmp_path) -> None:
    uri, ids, client_uri = copy_source(sources, kind, tmp_path)
    summary = import_mlflow(uri)
    assert (summary.runs_imported, summary.runs_updated, summary.runs_unchanged, summary.runs_left_out) == (6, 0, 0, 1)
    assert summary.experiments == {"baseline": 3, "other": 3}
    assert sorted(summary.experiments_created) == ["baseline", "other"]
    assert summary.points == 40 * 2 + 4 + 1 + 2 + 1 + 5 + 1
    text = str(summary)
    assert "6 imported, 0 updated, 0 already imported and unchanged (skipped), 1 deleted in the source" in text
    assert "'loss' has 5 points at one step" in text and "imported as 'lr-0.1-" in text
    assert "baseline/lr-0.01: 'loss' was logged again at 1 step it already had" in text
    stored = imported_runs()
    check_every_point(client_uri, ids, stored)
    baseline = stored[ids["lr-0.1"]]
    assert baseline.name == "lr-0.1" and stored[ids["same-name"]].name.startswith("lr-0.1-")
    assert baseline.get_params()["use_bn"] is True and baseline.get_params()["layers"] == "[64, 32]"
    store = resolve()[0]
    row = store.context_by_id(baseline._id)
    assert row.description == "the baseline" and row.host is None and row.pid is None
    import json

    origin = json.loads(row.metadata)["imported_from"]
    assert origin["tags"]["team"] == "vision" and origin["status"] == "FINISHED"
    df = trackbook.get_experiment_df("baseline")
    assert set(df.run_name) == {"lr-0.1", "lr-0.01", stored[ids["same-name"]].name}
    first = df[df.run_name == "lr-0.1"].iloc[0]
    assert first["param.lr"] == 0.1 and first["metric.final_acc"] == 0.93 and first["state"] == "COMPLETE"
    board = trackbook.board("baseline")  # the board lists the runs with their series
    try:
        rows = {row["name"]: row for row in board._snapshot["runs"]}
    finally:
        board.close()
    assert rows.keys() == set(df.run_name)
    assert set(rows["lr-0.1"]["last"]) == {"loss", "train/acc", "val_acc", "final_acc"}
    assert rows["lr-0.1"]["params"]["lr"] == 0.1 and rows["lr-0.01"]["state"] == "FAILED"


def test_a_second_import_adds_nothing(tb, sources, tmp_path) -> None:
    uri, _, _ = copy_source(sources, "sqlite", tmp_path)
    import_mlflow(uri)
    before = trackbook.history()
    names = sorted(r.name for r in trackbook.ExperimentRun.list(experiment="baseline"))
    again = import_mlflow(uri)
    assert (again.runs_imported, again.runs_updated, again.runs_unchanged, again.points) == (0, 0, 6, 0)
    assert "6 already imported and unchanged (skipped)" in str(again)
    assert again.experiments_created == []
    assert sorted(r.name for r in trackbook.ExperimentRun.list(experiment="baseline")) == names
    after = trackbook.history()
    assert len(after) == len(before) and after.equals(before)


def test_a_run_that_changed_in_the_source_is_brought_up_to_date(tb, sources, tmp_path) -> None:
    import mlflow

    uri, ids, client_uri = copy_source(sources, "sqlite", tmp_path)
    import_mlflow(uri)
    client = mlflow.MlflowClient(client_uri)
    for step in (1, 2, 3):
        client.log_metric(ids["running"], "loss", 1.0 / (step + 1), step=step)
    client.set_terminated(ids["running"], "FINISHED")
    update = import_mlflow(uri)
    assert (update.runs_imported, update.runs_updated, update.runs_unchanged, update.points) == (0, 1, 5, 3)
    stored = imported_runs()
    assert stored[ids["running"]].get_state() == "COMPLETE"
    check_every_point(client_uri, ids, stored)


def test_the_source_is_never_modified(tb, sources, tmp_path) -> None:
    def digest(path: Path) -> str:
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        h = hashlib.sha256()
        for f in files:
            h.update(f.relative_to(path.parent).as_posix().encode() + f.read_bytes())
        return h.hexdigest()

    db, _, _ = copy_source(sources, "sqlite", tmp_path)
    folder, _, _ = copy_source(sources, "folder", tmp_path)
    db_path = Path(db[len("sqlite:///") :])
    before = (digest(db_path), digest(Path(folder)))
    import_mlflow(db)
    import_mlflow(folder)
    assert (digest(db_path), digest(Path(folder))) == before
    assert sorted(p.name for p in db_path.parent.iterdir() if p.name.startswith("mlflow.db")) == ["mlflow.db"]


def test_reading_needs_no_mlflow_install(sources, tmp_path) -> None:
    uri, _, _ = copy_source(sources, "sqlite", tmp_path)
    code = (
        "import sys\nsys.modules['mlflow'] = None\n"
        "from trackbook.importers import import_mlflow\n"
        f"s = import_mlflow({uri!r}, store={str(tmp_path / 'tb.db')!r})\n"
        "print(s.runs_imported, s.points)\n"
    )
    out = subprocess.run([PYTHON, "-c", code], capture_output=True, text=True, env=python_env(), timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["6", str(40 * 2 + 4 + 1 + 2 + 1 + 5 + 1)]


def test_the_command_line_imports_with_a_progress_bar_and_a_summary(sources, tmp_path) -> None:
    uri, _, _ = copy_source(sources, "folder", tmp_path)
    store = tmp_path / "cli.db"
    command = [PYTHON, "-m", "trackbook.cli", "import", "mlflow", uri, "--store", str(store)]
    first = subprocess.run(command, capture_output=True, text=True, env=python_env(), timeout=300)
    assert first.returncode == 0, first.stderr
    assert "mlflow [########################] 6/6 runs" in first.stderr
    assert "runs: 6 imported, 0 updated" in first.stderr  # experiments in MLflow's order of creation:
    assert "experiments: baseline (3 runs, new), other (3 runs, new)" in first.stderr
    second = subprocess.run(command, capture_output=True, text=True, env=python_env(), timeout=300)
    assert "runs: 0 imported, 0 updated, 6 already imported and unchanged (skipped)" in second.stderr
    missing = subprocess.run([PYTHON, "-m", "trackbook.cli", "import", "mlflow", str(tmp_path / "nope"), "--store",
                              str(store)], capture_output=True, text=True, env=python_env(), timeout=300)
    assert missing.returncode == 1 and "no MLflow data at" in missing.stderr


def test_what_is_not_an_mlflow_source_is_refused_clearly(tb, tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="no MLflow database at"):
        import_mlflow(f"sqlite:///{tmp_path / 'missing.db'}")
    with pytest.raises(ValueError, match="reads MLflow's files directly"):
        import_mlflow("http://localhost:5000")
    with pytest.raises(TypeError, match="uri must be a str or a path, got int"):
        import_mlflow(5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="store must be a path or a Store, got int"):
        import_mlflow(tmp_path, store=5)  # type: ignore[arg-type]
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.commit()
    with pytest.raises(ValueError, match="not an MLflow tracking store"):
        import_mlflow(str(other))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="is not an MLflow mlruns folder"):
        import_mlflow(tmp_path / "empty")
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(ValueError, match="neither an MLflow sqlite database nor an mlruns folder"):
        import_mlflow(text)
    assert trackbook.Experiment.list() == []


def test_param_text_becomes_the_number_or_boolean_it_spells() -> None:
    assert [param_value(t) for t in ("3", "-2", "0.01", "1e-3", "True", "False", "adam", "007", "nan", "[1, 2]")] == [
        3, -2, 0.01, 0.001, True, False, "adam", "007", "nan", "[1, 2]"
    ]
    assert isinstance(param_value("3"), int) and param_value(str(2**70)) == str(2**70)
    assert np.isclose(param_value("2.5E+2"), 250.0)
