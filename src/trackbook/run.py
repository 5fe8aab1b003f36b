"""ExperimentRun: one run of an experiment, with Vertex's names and semantics."""

from __future__ import annotations

import math
import os
import time
import uuid
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from . import frames
from . import values as _values
from .exceptions import AlreadyExists, NotFound, TrackbookWarning
from .resource import split_name
from .session import resolve, session
from .states import ExecutionState
from .store import HEARTBEAT_TIMEOUT, Context, Store, host_id, live_state, pid_alive

if TYPE_CHECKING:
    from .artifact import Artifact
    from .experiment import Experiment

CLASSIFICATION_METRICS = "google.ClassificationMetrics"


class ExperimentRun:
    """A run of an experiment: its params, summary metrics, time series and state.

    `ExperimentRun(name, experiment)` looks up an existing run (NotFound when missing) by its name, its
    resource id `<experiment>-<run>` or a resource name (`resource_name`, or `projects/.../contexts/<id>`);
    `ExperimentRun.create(name, experiment=...)` makes a new one. As a context manager the run ends
    COMPLETE (also on sys.exit(0)), CANCELLED when the block is interrupted (KeyboardInterrupt), or FAILED
    when it raises (a non-zero sys.exit included).
    """

    def __init__(
        self,
        run_name: str,
        experiment: str | Experiment | None = None,
        *,
        project: str | None = None,
        location: str | None = None,
        credentials: Any = None,
        store: str | Store | None = None,
    ) -> None:
        if not isinstance(run_name, str):
            raise TypeError(
                "run_name must be a str (a run name, its resource id or resource name), got "
                f"{type(run_name).__name__} {run_name!r}"
            )
        if store is None:
            store = split_name(run_name, "contexts", None)[1]  # a local resource name says which store
        exp = _experiment_of(experiment, store)
        row = exp._store.run(exp._id, run_name)
        if row is None:
            row = _run_by_resource_name(exp, run_name)
        if row is None:
            raise NotFound(f"404 Experiment run {run_name!r} not found in experiment {exp.name!r}")
        self._bind(exp, row)

    def _bind(self, experiment: Experiment, row: Context) -> None:
        self._experiment = experiment
        self._store = experiment._store
        self._writer = experiment._writer
        self._id = row.id
        self._name = row.name
        self._run_type = row.schema_title
        self._auto_step: int | None = None
        self._max_step = self._store.max_step(row.id)

    @classmethod
    def _from_row(cls, experiment: Experiment, row: Context) -> ExperimentRun:
        self = cls.__new__(cls)
        self._bind(experiment, row)
        return self

    # -- lookup and creation ----------------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        run_name: str,
        *,
        experiment: str | Experiment | None = None,
        tensorboard: Any = None,
        state: Any = ExecutionState.RUNNING,
        project: str | None = None,
        location: str | None = None,
        credentials: Any = None,
        store: str | Store | None = None,
    ) -> ExperimentRun:
        """Create a run; AlreadyExists when the experiment has one of that name."""
        _values.check_name(run_name, "run name")
        state_name = ExecutionState.parse(state).name
        exp = _experiment_of(experiment, store)
        row = exp._store.create_run(exp._id, run_name, state=state_name, owned=state_name == "RUNNING")
        run = cls._from_row(exp, row)
        if state_name == "RUNNING":
            run._writer.owned.add(run._id)
        return run

    @classmethod
    def get(
        cls,
        run_name: str,
        *,
        experiment: str | Experiment | None = None,
        project: str | None = None,
        location: str | None = None,
        credentials: Any = None,
        store: str | Store | None = None,
    ) -> ExperimentRun | None:
        """The run, or None when it does not exist."""
        try:
            return cls(run_name, experiment, store=store)
        except NotFound:
            return None

    @classmethod
    def list(
        cls,
        *,
        experiment: str | Experiment | None = None,
        project: str | None = None,
        location: str | None = None,
        credentials: Any = None,
        store: str | Store | None = None,
    ) -> list[ExperimentRun]:
        """Every run of the experiment (experiment runs and pipeline runs), oldest first."""
        exp = _experiment_of(experiment, store)
        return [cls._from_row(exp, row) for row in exp._store.runs([exp._id])]

    # -- properties ---------------------------------------------------------------------------------------

    @property
    def name(self) -> str:
        return self._name

    @property
    def experiment_name(self) -> str:
        return self._experiment.name

    @property
    def resource_id(self) -> str:
        return f"{self._experiment.name}-{self._name}"

    @property
    def resource_name(self) -> str:
        return f"{self._store.path}#contexts/{self.resource_id}"

    @property
    def run_type(self) -> str:
        return self._run_type

    project = property(lambda self: None, doc="Always None: runs are local.")
    location = property(lambda self: None, doc="Always None: runs are local.")
    credentials = property(lambda self: None, doc="Always None: runs are local.")

    @property
    def state(self) -> ExecutionState:
        """The state as the enum (`get_state()` gives its name)."""
        return ExecutionState[self.get_state()]

    def __repr__(self) -> str:
        return f"<trackbook.ExperimentRun {self._name!r} of experiment {self._experiment.name!r}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ExperimentRun) and (self._store.path, self._id) == (other._store.path, other._id)

    def __hash__(self) -> int:
        return hash((self._store.path, self._id))

    # -- logging ------------------------------------------------------------------------------------------

    def log_params(self, params: dict[str, Any]) -> None:
        """Merge params into the run (a repeated key overwrites; nested dicts are flattened with dots)."""
        self._writer.put(("params", self._id, _values.params(params)))

    def log_metrics(self, metrics: dict[str, Any]) -> None:
        """Merge summary metrics into the run (the last write of a key wins)."""
        self._writer.put(("metrics", self._id, _values.metrics(metrics)))

    def log_time_series_metrics(
        self, metrics: dict[str, Any], step: int | None = None, wall_time: Any = None
    ) -> None:
        """Append one point per key at `step` (automatic steps start at 1 and go up by one).

        No TensorBoard is needed: series are stored in the store file. The call only queues the point.
        """
        values = _values.series(metrics)
        if step is None:
            auto = self._auto_step
            step = self._auto_step = (self._max_step if auto is None else auto) + 1
        else:
            step = _values.step(step)
            if step > self._max_step:
                self._max_step = step
        wall = int(time.time() * 1000) if wall_time is None else _values.wall_time_ms(wall_time)
        points = self._writer.points
        if len(points) < self._writer.max_pending:
            points.append((self._id, step, wall, values))
        else:
            self._writer.drop(len(values))

    def log_classification_metrics(
        self,
        *,
        labels: list[str] | None = None,
        matrix: list[list[int]] | None = None,
        fpr: list[float] | None = None,
        tpr: list[float] | None = None,
        threshold: list[float] | None = None,
        display_name: str | None = None,
    ) -> Artifact:
        """Record a confusion matrix and/or an ROC curve as a google.ClassificationMetrics artifact (returned)."""
        if (labels is None) != (matrix is None):
            raise ValueError("labels and matrix must be set together.")
        given = [x is not None for x in (fpr, tpr, threshold)]
        if any(given) and not all(given):
            raise ValueError("fpr, tpr, and thresholds must be set together.")
        metadata: dict[str, Any] = {}
        if labels is not None and matrix is not None:
            labels = [str(_values.scalar("labels", x)) for x in labels]
            rows = [[_number("matrix", v) for v in row] for row in matrix]
            if len(rows) != len(labels):
                raise ValueError(
                    f"Length of labels and matrix must be the same. Got lengths {len(labels)} and {len(rows)} "
                    "respectively."
                )
            if any(len(row) != len(labels) for row in rows):
                raise ValueError("matrix must be square, with one row and one column per label")
            metadata["confusionMatrix"] = {
                "annotationSpecs": [{"displayName": label} for label in labels],
                "rows": rows,
            }
        if fpr is not None and tpr is not None and threshold is not None:
            if not len(fpr) == len(tpr) == len(threshold):
                raise ValueError(
                    "Length of fpr, tpr and threshold must be the same. Got lengths "
                    f"{len(fpr)}, {len(tpr)} and {len(threshold)} respectively."
                )
            metadata["confidenceMetrics"] = [
                {
                    "confidenceThreshold": _number("threshold", t),
                    "falsePositiveRate": _number("fpr", f),
                    "recall": _number("tpr", r),
                }
                for f, r, t in zip(fpr, tpr, threshold)
            ]
        import json

        name = f"{self.resource_id}-classification-{uuid.uuid4().hex[:12]}"
        artifact = self._store.create_artifact(
            name,
            CLASSIFICATION_METRICS,
            schema_version="0.0.1",
            display_name=display_name or "classification-metrics",
            metadata=json.dumps(metadata, allow_nan=False),
            attribute_to=(self._id,),
        )
        from .metadata.schema.google.artifact_schema import ClassificationMetrics

        return ClassificationMetrics._from_row(self._store, artifact)

    # -- reading ------------------------------------------------------------------------------------------

    def _row(self) -> Context:
        self._writer.flush()
        row = self._store.context_by_id(self._id)
        if row is None:
            raise NotFound(f"404 Experiment run {self._name!r} was deleted")
        return row

    def get_params(self) -> dict[str, Any]:
        return _values.decode(self._row().params)

    def get_metrics(self) -> dict[str, Any]:
        return _values.decode(self._row().metrics)

    def get_state(self) -> str:
        """The state's name: RUNNING, COMPLETE, FAILED, CRASHED, ..."""
        row = self._row()
        return live_state(row.state, row.host, row.pid, row.heartbeat) or "STATE_UNSPECIFIED"

    def get_time_series_data_frame(self) -> pd.DataFrame:
        """Columns step, wall_time and one per metric; empty (no columns) when nothing was logged."""
        self._writer.flush()
        return frames.time_series_frame(self._store, self._id)

    def get_classification_metrics(self) -> list[dict[str, Any]]:
        """[{id, display_name, labels, matrix, fpr, tpr, threshold}] for each classification-metrics artifact."""
        return [_classification_entry(a) for a in self._store.attributed_artifacts(self._id, CLASSIFICATION_METRICS)]

    # -- lineage (see trackbook.lineage and docs/lineage.md) ---------------------------------------------

    def get_artifacts(self) -> list[Any]:
        """The artifacts attributed to this run: those its executions used or made, classification metrics."""
        from .context import Context

        return Context._from_row(self._store, self._row()).get_artifacts()

    def get_executions(self) -> list[Any]:
        """The executions associated with this run (started with `start_execution` inside it, or associated)."""
        from .context import Context

        return Context._from_row(self._store, self._row()).get_executions()

    def associate_execution(self, execution: Any) -> None:
        """Associate an execution with this run; artifacts assigned to it from now on are attributed to the run."""
        from .execution import bind_to_run

        self._store.link_context(self._id, [], [execution._row.id])
        bind_to_run(execution, self)

    def log(self, *, pipeline_job: Any = None) -> None:
        """Log a submitted or run PipelineJob to this run: its pipeline run becomes a child of the run."""
        if pipeline_job is not None:
            from .context import context_row_of

            self._store.add_child_contexts(self._id, [context_row_of(self._store, pipeline_job).id])

    def get_logged_pipeline_jobs(self) -> list[Any]:
        """The PipelineJobs logged to this run with `log(pipeline_job=...)`."""
        from .pipeline import PipelineJob

        children = self._store.child_contexts(self._id, "system.PipelineRun")
        return [PipelineJob._from_row(self._store, c) for c in children]

    def chart(
        self, metric: str | Sequence[str] | None = None, *, x: str = "step", width: int = 600, height: int = 300
    ) -> Any:
        """An altair chart of this run's series `metric` (a name or a list; default: every series, one panel
        each). `x` is "step" or "wall_time". See trackbook.chart to overlay several runs."""
        from .charts import run_chart

        return run_chart(self, metric, x=x, width=width, height=height)

    # -- state ----------------------------------------------------------------------------------------------

    def update_state(self, state: Any) -> None:
        """Set the state (RUNNING claims the run for this process, so it gets heartbeats)."""
        name = ExecutionState.parse(state).name
        if name == "RUNNING":
            self._writer.flush()
            self._store.set_state(self._id, name, owned=True)
            self._writer.owned.add(self._id)
            self._auto_step = None
            self._max_step = self._store.max_step(self._id)
        else:
            self._writer.owned.discard(self._id)
            self._writer.put(("state", self._id, (name, time.time())))

    def end_run(self, *, state: Any = ExecutionState.COMPLETE) -> None:
        """End the run (COMPLETE by default) and make everything logged durable."""
        self.update_state(state)
        if session.run is self or (session.run is not None and session.run == self):
            session.run = None
        self._writer.flush()

    def delete(self, *, delete_backing_tensorboard_run: bool = False) -> None:
        """Delete the run with its params, metrics and series."""
        self._writer.flush()
        self._writer.owned.discard(self._id)
        self._store.delete_contexts([self._id])
        if session.run is not None and session.run == self:
            session.run = None

    def __enter__(self) -> ExperimentRun:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self.end_run(state=state_after(exc))


def state_after(exc: BaseException | None) -> ExecutionState:
    """How a run ends when `exc` stops it: COMPLETE when nothing was raised or on sys.exit(0)/sys.exit(),
    CANCELLED for an interrupt (Ctrl-C, the kernel's stop button), FAILED for any other exception, a
    non-zero sys.exit included."""
    if exc is None:
        return ExecutionState.COMPLETE
    if isinstance(exc, KeyboardInterrupt):
        return ExecutionState.CANCELLED
    if isinstance(exc, SystemExit) and exc.code in (None, 0):  # a clean exit; sys.exit("msg") exits 1
        return ExecutionState.COMPLETE
    return ExecutionState.FAILED


def check_new_run(experiment: Experiment, run_name: str) -> None:
    """AlreadyExists when the experiment has a run called `run_name` (checked before anything changes;
    the store's unique name still decides a race with another process)."""
    if experiment._store.run(experiment._id, run_name) is not None:
        raise AlreadyExists(
            f"409 Context with name '{experiment.name}-{run_name}' already exists: the experiment "
            f"{experiment.name!r} has a run called {run_name!r}. Use start_run({run_name!r}, resume=True) to "
            "continue it, or pick another name."
        )


def warn_if_live_elsewhere(run: ExperimentRun) -> None:
    """Warn (TrackbookWarning) when the run is RUNNING for another process that is alive: a fresh heartbeat,
    and on this host a pid that exists. Both processes may log to it; only their automatic steps clash."""
    row = run._store.context_by_id(run._id)
    if row is None or row.state != "RUNNING" or row.pid is None or row.heartbeat is None:
        return
    if time.time() - row.heartbeat > HEARTBEAT_TIMEOUT:
        return
    if row.host == host_id() and (row.pid == os.getpid() or not pid_alive(row.pid)):
        return
    warnings.warn(
        f"Run {run.name!r} of experiment {run.experiment_name!r} is still RUNNING in process {row.pid} on host "
        f"{row.host!r} (last heartbeat {time.time() - row.heartbeat:.0f} s ago). If both processes log time "
        "series with automatic steps, their steps will collide and the later write of a step wins. Pass "
        "step= to log_time_series_metrics explicitly, or log to another run.",
        TrackbookWarning,
        stacklevel=3,
    )


def _run_by_resource_name(experiment: Experiment, name: str) -> Context | None:
    """The run a resource name (`<store>#contexts/<id>`, `projects/.../contexts/<id>`) or a resource id
    names; as in Vertex, a run's context id is "<experiment>-<run>". None when `name` is neither."""
    rid = split_name(name, "contexts", experiment._store)[0]
    prefix = f"{experiment.name}-"
    if not rid.startswith(prefix):
        if rid != name:
            raise NotFound(
                f"404 Experiment run {name!r} not found: its context id {rid!r} does not start with "
                f"{prefix!r}, so it is not a run of experiment {experiment.name!r}"
            )
        return None
    return experiment._store.run(experiment._id, rid[len(prefix):])


def _experiment_of(experiment: str | Experiment | None, store: str | Store | None) -> Experiment:
    from .experiment import Experiment, _no_experiment

    if isinstance(experiment, Experiment):
        return experiment
    if experiment is not None and not isinstance(experiment, str):
        raise TypeError(
            "experiment must be an Experiment, a str (its name or resource name) or None, got "
            f"{type(experiment).__name__} {experiment!r}"
        )
    if experiment is None:
        if session.experiment is None:
            raise ValueError(_no_experiment("use ExperimentRun"))
        if store is None or resolve(store)[0] is session.experiment._store:
            return session.experiment
        experiment = session.experiment.name
    return Experiment(experiment, store=store)


def _number(what: str, value: Any) -> float | int:
    v = _values.scalar(what, value, "series")
    if isinstance(v, str):
        raise TypeError(f"{what} values must be numbers, got str {v!r}")
    if isinstance(v, float) and not math.isfinite(v):
        raise ValueError(f"{what} values must be finite, got {v}")
    return v


def _classification_entry(artifact: Any) -> dict[str, Any]:
    import json

    meta = json.loads(artifact.metadata)
    cm = meta.get("confusionMatrix") or {}
    cms: Sequence[dict[str, Any]] = meta.get("confidenceMetrics") or []
    return {
        "id": artifact.name,
        "display_name": artifact.display_name,
        "labels": [s["displayName"] for s in cm.get("annotationSpecs", [])] or None,
        "matrix": cm.get("rows"),
        "fpr": [m["falsePositiveRate"] for m in cms] or None,
        "tpr": [m["recall"] for m in cms] or None,
        "threshold": [m["confidenceThreshold"] for m in cms] or None,
    }

