"""The module-level tracking API: `init`, `start_run`, `log_*`, `end_run`, `get_experiment_df`, `history`.

Names, signatures, errors and semantics follow `google.cloud.aiplatform`, so code written for
`from google.cloud import aiplatform as vertex_ai` runs with `import trackbook as vertex_ai`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from . import frames
from . import values as _values
from .experiment import Experiment, _no_experiment
from .run import ExperimentRun, check_new_run, warn_if_live_elsewhere
from .session import resolve, session
from .states import ExecutionState
from .store import Store

if TYPE_CHECKING:
    from .artifact import Artifact


def init(
    *,
    project: str | None = None,
    location: str | None = None,
    experiment: str | None = None,
    experiment_description: str | None = None,
    experiment_tensorboard: Any = None,
    staging_bucket: str | None = None,
    credentials: Any = None,
    encryption_spec_key_name: str | None = None,
    network: str | None = None,
    service_account: str | None = None,
    api_endpoint: str | None = None,
    api_key: str | None = None,
    api_transport: str | None = None,
    request_metadata: Any = None,
    store: str | os.PathLike[str] | Store | None = None,
) -> None:
    """Set the store, the experiment and its description.

    The cloud-only arguments (project, location, staging_bucket, credentials, ...) are accepted and ignored.
    `store` picks the store file (default: TRACKBOOK_STORE, else ./trackbook.db); it is opened, and created
    when missing, right away, so a path that cannot be used fails here. Setting `experiment` drops the
    active run without ending it, as Vertex does.
    """
    if experiment_description is not None and experiment is None:
        raise ValueError("Experiment needs to be set in `init` in order to add experiment descriptions.")
    if store is not None:
        path = store.path if isinstance(store, Store) else Path(store).expanduser().absolute()
        resolve(store)  # open now, so a bad path fails at init (and leaves the session as it was)
        if path != session.store_path:
            session.experiment = None
            session.run = None
        session.store_path = path
    if experiment_tensorboard is not None and not isinstance(experiment_tensorboard, bool):
        session.tensorboard = experiment_tensorboard
    if experiment is not None:
        _values.check_name(experiment, "experiment name")
        session.run = None
        session.experiment = Experiment.get_or_create(experiment, description=experiment_description)
        tensorboard = experiment_tensorboard if experiment_tensorboard is not None else session.tensorboard
        if tensorboard not in (None, False) and session.experiment.backing_tensorboard_resource_name is None:
            session.experiment.assign_backing_tensorboard(tensorboard)
    elif store is None:
        resolve(None)


def start_run(run: str, *, tensorboard: Any = None, resume: bool = False) -> ExperimentRun:
    """Start (or with `resume=True` continue) a run of the current experiment and make it active.

    An active run is ended COMPLETE first. AlreadyExists when the run exists and resume is False; NotFound
    when resume is True and it does not exist. A call that fails (these errors, a bad name) leaves the active
    run as it was. Resuming a run that another live process still has RUNNING gives a TrackbookWarning:
    both may log, but their automatic steps collide.
    """
    experiment = _current_experiment()
    if experiment is None:
        raise ValueError(
            "No experiment set for this run. Make sure to call aiplatform.init(experiment='my-experiment') "
            "before invoking start_run. "
        )
    _values.check_name(run, "run name")
    # Every check comes before the active run is ended, so a bad call changes nothing.
    if resume:
        active = ExperimentRun(run, experiment)
        warn_if_live_elsewhere(active)
    else:
        check_new_run(experiment, run)
    if session.run is not None:
        session.run.end_run()
    if resume:
        active.update_state(ExecutionState.RUNNING)
    else:
        active = ExperimentRun.create(run, experiment=experiment)
    session.run = active
    return active


def end_run(state: Any = ExecutionState.COMPLETE) -> None:
    """End the active run (COMPLETE by default) and make everything it logged durable."""
    run = _active_run("end_run")
    state = ExecutionState.parse(state)  # a bad state raises here, with the run still active
    try:
        run.end_run(state=state)
    finally:
        session.run = None


def log_params(params: dict[str, Any]) -> None:
    """Merge params into the active run."""
    _active_run("log_params").log_params(params)


def log_metrics(metrics: dict[str, Any]) -> None:
    """Merge summary metrics into the active run."""
    _active_run("log_metrics").log_metrics(metrics)


def log_time_series_metrics(metrics: dict[str, Any], step: int | None = None, wall_time: Any = None) -> None:
    """Append a point per key to the active run's series (automatic steps start at 1)."""
    run = session.run
    if run is None:
        run = _active_run("log_time_series_metrics")
    run.log_time_series_metrics(metrics, step, wall_time)


def log_classification_metrics(
    *,
    labels: list[str] | None = None,
    matrix: list[list[int]] | None = None,
    fpr: list[float] | None = None,
    tpr: list[float] | None = None,
    threshold: list[float] | None = None,
    display_name: str | None = None,
) -> Artifact:
    """Record a confusion matrix and/or ROC curve with the active run; returns the
    google.ClassificationMetrics artifact, as Vertex does."""
    return _active_run("log_classification_metrics").log_classification_metrics(
        labels=labels, matrix=matrix, fpr=fpr, tpr=tpr, threshold=threshold, display_name=display_name
    )


def get_experiment_df(experiment: str | None = None, *, include_time_series: bool = True) -> pd.DataFrame:
    """The run table of an experiment (the current one by default) as a DataFrame, in Vertex's layout."""
    if experiment is None:
        current = _current_experiment()
        if current is None:
            raise ValueError(_no_experiment("get_experiment_df"))
        return current.get_data_frame(include_time_series=include_time_series)
    if not isinstance(experiment, str):  # Vertex takes a name only
        is_experiment = isinstance(experiment, Experiment)
        hint = "; pass experiment.name or call experiment.get_data_frame()" if is_experiment else ""
        raise TypeError(
            "experiment must be a str (an experiment name or resource name) or None, got "
            f"{type(experiment).__name__}{hint}"
        )
    return Experiment(experiment).get_data_frame(include_time_series=include_time_series)


def history(
    experiment: str | Sequence[str] | None = None,
    runs: str | Sequence[str] | None = None,
    metrics: str | Sequence[str] | None = None,
    *,
    store: str | os.PathLike[str] | Store | None = None,
) -> pd.DataFrame:
    """Every series point of the matching runs as one long DataFrame.

    Columns: experiment_name, run_name, metric, step, wall_time, value. `experiment` is a name or a list of
    names (default: the current experiment, or every experiment when none is set); `runs` and `metrics`
    narrow it down by name. ValueError naming an unknown run, or a metric none of the runs has logged.
    """
    from . import selection

    st, writer = resolve(store)
    writer.flush()
    exps = find_experiments(st, experiment)
    names = {e.id: e.name for e in exps}
    rows, keys = selection.select(st, st.runs(list(names)), selection.describe(exps), runs, metrics)
    return frames.history_frame(st, rows, names, keys)


def flush(timeout: float | None = 30.0) -> bool:
    """Make everything logged so far durable; False when a store could not be written within `timeout`."""
    from .session import flush as _flush

    return _flush(timeout)


def get_active_run() -> ExperimentRun | None:
    """The active run, or None."""
    return session.run


def get_current_experiment() -> Experiment | None:
    """The current experiment, or None."""
    return _current_experiment()


# -- helpers ------------------------------------------------------------------------------------------------


def _current_experiment() -> Experiment | None:
    if session.experiment is None and os.environ.get("AIP_EXPERIMENT_NAME"):
        session.experiment = Experiment.get_or_create(os.environ["AIP_EXPERIMENT_NAME"])
    return session.experiment


def _active_run(method: str) -> ExperimentRun:
    if _current_experiment() is None:
        raise ValueError(_no_experiment(method))
    if session.run is None:
        raise ValueError(
            f"No run set. Make sure to call aiplatform.start_run('my-run') before trying to {method}. "
        )
    return session.run


def find_experiments(st: Store, experiment: str | Sequence[str] | None) -> list[Any]:
    """Store rows of the named experiments (NotFound for a missing one); None: current, else all."""
    from .exceptions import NotFound

    if experiment is None:
        current = session.experiment
        if current is not None and current._store is st:
            experiment = current.name
        else:
            return st.experiments()
    names = [experiment] if isinstance(experiment, str) else list(experiment)
    out = []
    for name in names:
        row = st.experiment(name)
        if row is None:
            known = ", ".join(repr(e.name) for e in st.experiments()) or "none yet"
            raise NotFound(f"404 Experiment {name!r} not found in {st.path} (experiments: {known})")
        out.append(row)
    return out
