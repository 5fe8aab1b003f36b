"""`import_mlflow(uri)`: MLflow experiments and runs, with params, tags, metrics and every metric point.

Sources: an MLflow SQL tracking database file (`sqlite:///mlflow.db`, `sqlite:////abs/path.db`, or the
file's path) or a file-store folder (`mlruns`, `./mlruns`, `file:///abs/mlruns`). Both are read directly
and read-only: no MLflow server, no MLflow install and no schema upgrade are needed, and the source is never
modified. Each MLflow experiment becomes (or joins) the trackbook experiment of the same name; deleted
experiments and runs are left out.

What a run becomes: its name (run ids break ties), state (FINISHED -> COMPLETE, FAILED -> FAILED,
KILLED -> CANCELLED, SCHEDULED -> NEW, RUNNING -> RUNNING with its last activity as heartbeat, so a run that
stopped logging reads as CRASHED), start and end times, params (MLflow keeps them as text; numbers and
True/False become numbers and booleans), the note (`mlflow.note.content`) as description, all tags in the
run's metadata, each metric's latest value (MLflow's rule: highest step, then latest time) as a metric, and
each metric's full history as a series. Values are MLflow's as its client returns them (NaN stays NaN; MLflow's
SQL store saves +-inf as +-1.797e308, and so they stay).
"""

from __future__ import annotations

import math
import os
import re
import time
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import numpy as np

from ..session import resolve
from ..store import Store
from ..store.imports import MlflowDatabase
from .ingest import ingest
from .progress import Progress
from .source import RunContent, Series, SourceRun
from .summary import ImportSummary

TOOL = "mlflow"
STATES = {"FINISHED": "COMPLETE", "FAILED": "FAILED", "KILLED": "CANCELLED", "SCHEDULED": "NEW", "RUNNING": "RUNNING"}
FILE_STORE_STATUS = {1: "RUNNING", 2: "SCHEDULED", 3: "FINISHED", 4: "FAILED", 5: "KILLED"}
NOTE_TAG = "mlflow.note.content"
RUN_NAME_TAG = "mlflow.runName"
_INT = re.compile(r"-?(0|[1-9][0-9]*)")
_FLOAT = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]*)?([eE][-+]?[0-9]+)?|-?\.[0-9]+([eE][-+]?[0-9]+)?")  # no "007"


def import_mlflow(
    uri: str | os.PathLike[str], *, store: str | os.PathLike[str] | Store | None = None, progress: bool = False
) -> ImportSummary:
    """Import every experiment and run of an MLflow tracking URI into the store (see the module docstring).

    Importing the same source again adds nothing; runs that changed in the source since are brought up to
    date. `store` defaults to the session's store; `progress` draws a progress bar on standard error.
    Raises ValueError for a URI that is not an MLflow sqlite database or mlruns folder, FileNotFoundError
    when it does not exist.
    """
    started = time.monotonic()
    kind, path = parse_uri(uri)
    if store is not None and not isinstance(store, (str, os.PathLike, Store)):
        raise TypeError(f"store must be a path or a Store, got {type(store).__name__}")
    st, writer = resolve(store)
    writer.flush()
    summary = ImportSummary(TOOL, str(uri), st.path)
    if kind == "sqlite":
        database = MlflowDatabase(path)
        try:
            sources, left_out = _database_runs(database, str(path))
            bar = Progress(len(sources), "mlflow", enabled=progress)
            summary.runs_left_out = left_out
            ingest(sources, st, summary, bar)
            bar.close()
        finally:
            database.close()
    else:
        sources, left_out = _folder_runs(path)
        bar = Progress(len(sources), "mlflow", enabled=progress)
        summary.runs_left_out = left_out
        ingest(sources, st, summary, bar)
        bar.close()
    summary.seconds = time.monotonic() - started
    return summary


def parse_uri(uri: str | os.PathLike[str]) -> tuple[str, Path]:
    """("sqlite", database file) or ("folder", mlruns folder) for a tracking URI or a path."""
    if not isinstance(uri, (str, os.PathLike)):
        raise TypeError(f"uri must be a str or a path, got {type(uri).__name__}")
    text = os.fspath(uri)
    if text.startswith("sqlite:"):
        # SQLAlchemy's form: sqlite:///relative/path.db, sqlite:////absolute/path.db
        rest = text[len("sqlite:") :]
        if not rest.startswith("///"):
            raise ValueError(f"{text!r} is not an sqlite URI; write sqlite:///relative.db or sqlite:////abs/path.db")
        path = Path(unquote(rest[3:].split("?", 1)[0]))
        if not path.is_file():
            raise FileNotFoundError(f"no MLflow database at {path} (from {text})")
        return "sqlite", path
    if text.startswith("file:"):
        rest = text[len("file:") :]
        if rest.startswith("//"):  # file:///abs/path or file://localhost/abs/path
            parsed = urlparse(text)
            if parsed.netloc not in ("", "localhost"):
                raise ValueError(f"cannot import from {text!r}: a file URI on another host ({parsed.netloc})")
            rest = parsed.path
        path = Path(unquote(rest))
    elif len(urlparse(text).scheme) > 1:  # http://, postgresql://, databricks, ... (one letter: a Windows drive)
        raise ValueError(
            f"cannot import from {text!r}: trackbook reads MLflow's files directly, so give the tracking database "
            "(sqlite:///mlflow.db) or the mlruns folder; for a server or another database, point at its backend file"
        )
    else:
        path = Path(text)
    path = path.expanduser()
    if not path.exists():
        raise FileNotFoundError(f"no MLflow data at {path}")
    if path.is_file():
        with path.open("rb") as f:
            if f.read(16) == b"SQLite format 3\x00":
                return "sqlite", path
        raise ValueError(f"{path} is neither an MLflow sqlite database nor an mlruns folder")
    return "folder", path


# -- the SQL store ------------------------------------------------------------------------------------------


def _database_runs(db: MlflowDatabase, location: str) -> tuple[list[SourceRun], int]:
    experiments = {e.experiment_id: e for e in db.experiments()}
    counts = db.metric_counts()
    sources: list[SourceRun] = []
    left_out = 0
    order = {e.experiment_id: (e.creation_time or 0, i) for i, e in enumerate(experiments.values())}
    for row in sorted(db.runs(), key=lambda r: (order.get(r.experiment_id, (0, -1)), r.start_time or 0)):
        exp = experiments.get(row.experiment_id)
        if exp is None or exp.lifecycle_stage == "deleted" or row.lifecycle_stage == "deleted":
            left_out += 1
            continue
        n_points, last_ts = counts.get(row.run_id, (0, 0))
        fingerprint = f"{row.status}:{row.end_time}:{n_points}:{last_ts}"

        def load(row: Any = row, exp: Any = exp, last_ts: int = last_ts) -> RunContent:
            tags = db.tags(row.run_id)
            history = {key: _series(points) for key, points in db.metric_points(row.run_id)}
            return _content(
                row.run_id, exp.experiment_id, row.status, row.start_time, row.end_time, last_ts,
                db.params(row.run_id), tags, history, location,
            )

        name = row.name or db.tags(row.run_id).get(RUN_NAME_TAG) or row.run_id
        sources.append(SourceRun(TOOL, row.run_id, fingerprint, exp.name, name, load))
    return sources, left_out


# -- the file store -------------------------------------------------------------------------------------------


def _folder_runs(root: Path) -> tuple[list[SourceRun], int]:
    yaml = _yaml()
    sources: list[SourceRun] = []
    left_out = 0
    found_experiment = False
    experiments = []
    for exp_dir in (p for p in root.iterdir() if p.is_dir() and (p / "meta.yaml").is_file()):
        meta = _read_yaml(yaml, exp_dir / "meta.yaml")
        if "name" in meta:
            experiments.append((meta.get("creation_time") or 0, exp_dir.name, exp_dir, meta))
    for _, _, exp_dir, meta in sorted(experiments, key=lambda e: e[:2]):  # MLflow's order of creation
        found_experiment = True
        exp_deleted = meta.get("lifecycle_stage") == "deleted"
        exp_id = str(meta.get("experiment_id", exp_dir.name))
        runs = []
        for run_dir in (p for p in exp_dir.iterdir() if p.is_dir() and (p / "meta.yaml").is_file()):
            info = _read_yaml(yaml, run_dir / "meta.yaml")
            if "run_id" not in info and "run_uuid" not in info:
                continue
            runs.append((info.get("start_time") or 0, run_dir, info))
        for _, run_dir, info in sorted(runs, key=lambda r: (r[0], r[1].name)):
            if exp_deleted or info.get("lifecycle_stage") == "deleted":
                left_out += 1
                continue
            run_id = str(info.get("run_id") or info.get("run_uuid"))
            status = info.get("status", 3)
            status = FILE_STORE_STATUS.get(status, "FINISHED") if isinstance(status, int) else str(status)
            metric_files = _files(run_dir / "metrics")
            sizes = sum(f.stat().st_size for _, f in metric_files)
            last_ts = max((int(f.stat().st_mtime * 1000) for _, f in metric_files), default=0)
            fingerprint = f"{status}:{info.get('end_time')}:{sizes}:{len(metric_files)}"

            def load(run_dir: Path = run_dir, info: dict[str, Any] = info, status: str = status,
                     last_ts: int = last_ts, run_id: str = run_id, exp_id: str = exp_id) -> RunContent:
                params = {k: _text(f) for k, f in _files(run_dir / "params")}
                tags = {k: _text(f) for k, f in _files(run_dir / "tags")}
                history = {k: _series(_metric_lines(f)) for k, f in _files(run_dir / "metrics")}
                last = max((int(s.wall_ms.max()) for s in history.values() if len(s.wall_ms)), default=last_ts)
                return _content(
                    run_id, exp_id, status, info.get("start_time"), info.get("end_time"), last,
                    params, tags, history, str(root),
                )

            name = info.get("run_name") or _tag(run_dir, RUN_NAME_TAG) or run_id
            sources.append(SourceRun(TOOL, run_id, fingerprint, str(meta["name"]), str(name), load))
    if not found_experiment:
        raise ValueError(f"{root} is not an MLflow mlruns folder (no experiment folder with a meta.yaml in it)")
    return sources, left_out


def _files(folder: Path) -> list[tuple[str, Path]]:
    """(key, file) for every file under `folder`; keys with '/' are nested folders in MLflow's layout."""
    if not folder.is_dir():
        return []
    out = []
    for dirpath, _, filenames in os.walk(folder):
        for filename in filenames:
            path = Path(dirpath) / filename
            out.append((path.relative_to(folder).as_posix(), path))
    return sorted(out)


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _tag(run_dir: Path, key: str) -> str | None:
    path = run_dir / "tags" / key
    return _text(path) if path.is_file() else None


def _metric_lines(path: Path) -> list[tuple[int, int, float]]:
    """(step, timestamp, value) of each line "timestamp value [step]" of a metric file, in file order."""
    points = []
    with path.open(encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) < 2:
                continue
            step = int(parts[2]) if len(parts) > 2 else 0
            points.append((step, int(parts[0]), float(parts[1])))
    return points


def _yaml() -> Any:
    try:
        import yaml
    except ImportError:
        raise ImportError("reading an mlruns folder needs PyYAML: pip install pyyaml") from None
    return yaml


def _read_yaml(yaml: Any, path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return {}
    return data if isinstance(data, dict) else {}


# -- shared -----------------------------------------------------------------------------------------------------


def _series(points: list[tuple[int, int, float]]) -> Series:
    if not points:
        return Series(np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.float64))
    array = np.array(points, dtype=np.float64)
    return Series(array[:, 0].astype(np.int64), array[:, 1].astype(np.int64), array[:, 2])


def _latest(s: Series) -> float:
    """MLflow's latest value: highest step, then latest timestamp (then the larger value)."""
    values = np.where(np.isnan(s.values), -np.inf, s.values)
    i = np.lexsort((values, s.wall_ms, s.steps))[-1]
    return float(s.values[i])


def _content(
    run_id: str,
    experiment_id: str,
    status: str,
    start_ms: int | None,
    end_ms: int | None,
    last_activity_ms: int,
    params: dict[str, str],
    tags: dict[str, str],
    history: dict[str, Series],
    location: str,
) -> RunContent:
    state = STATES.get(status, "COMPLETE")
    start = (start_ms or last_activity_ms or 0) / 1000
    return RunContent(
        state=state,
        create_time=start,
        end_time=end_ms / 1000 if end_ms and state != "RUNNING" else None,
        heartbeat=max(last_activity_ms / 1000, start) if state == "RUNNING" else None,
        description=tags.get(NOTE_TAG) or None,
        params={k: param_value(v) for k, v in params.items()},
        metrics={k: _latest(s) for k, s in history.items() if len(s.steps)},
        series=history,
        origin={"uri": location, "experiment_id": experiment_id, "run_id": run_id, "status": status, "tags": tags},
    )


def param_value(text: str) -> str | int | float | bool:
    """An MLflow param (always text) as the number or boolean it spells, else the text itself."""
    if _INT.fullmatch(text):
        value = int(text)
        return value if -(2**63) <= value < 2**63 else text
    if _FLOAT.fullmatch(text):
        number = float(text)
        return number if math.isfinite(number) else text
    if text in ("True", "False"):
        return text == "True"
    return text

