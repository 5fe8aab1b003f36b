"""Local pipelines: `@trackbook.component` steps, a pipeline function calling them, and `PipelineJob`, which runs
it in this process and records it as Vertex Pipelines does, so pipeline runs compare like experiment runs.

    @trackbook.component
    def train(data: Dataset, lr: float, model: Output[Model], metrics: Output[Metrics]) -> None:
        ...                                 # write model.path; metrics.log_metric("accuracy", acc)

    def pipeline(data_uri: str, lr: float = 0.1):
        data = ingest(data_uri)
        train(data, lr)

    trackbook.PipelineJob("my-run", template=pipeline, parameter_values={"data_uri": "d.csv"}).submit(experiment="e")

A job records a `system.PipelineRun` context (a row of `get_experiment_df`: params from the parameter values,
metrics from the steps' system.Metrics outputs, the state), a `system.Run` execution with the `input:` values,
and each step as a `system.ContainerExecution` with INPUT and OUTPUT events for its artifacts. Artifacts passed
to or returned by steps become lineage; plain values are kept in the step's `input:` / `output:` metadata.
"""

from __future__ import annotations

import contextvars
import datetime as _dt
import enum
import functools
import importlib
import inspect
import json
import math
import os
import re
import typing
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from . import values as _values
from .artifact import Artifact, local_path
from .context import Context
from .exceptions import AlreadyExists, NotFound, TrackbookWarning
from .execution import Execution, create_row
from .metadata import constants
from .resource import check_metadata, dumps, existing_store
from .session import resolve, session
from .store import PIPELINE_RUN, Store
from .store import Context as ContextRow

__all__ = ["Input", "Output", "PipelineJob", "PipelineState", "component", "log"]

T = TypeVar("T")
JOB_ID = re.compile(r"^[a-z][-a-z0-9]{0,127}$")  # Vertex's rule for pipeline job ids
STEP_SCHEMA = constants.SYSTEM_CONTAINER_EXECUTION


class PipelineState(enum.IntEnum):
    """A pipeline job's state, numbered as Vertex's `PipelineState`."""

    PIPELINE_STATE_UNSPECIFIED = 0
    PIPELINE_STATE_QUEUED = 1
    PIPELINE_STATE_PENDING = 2
    PIPELINE_STATE_RUNNING = 3
    PIPELINE_STATE_SUCCEEDED = 4
    PIPELINE_STATE_FAILED = 5
    PIPELINE_STATE_CANCELLING = 6
    PIPELINE_STATE_CANCELLED = 7
    PIPELINE_STATE_PAUSED = 8


_JOB_STATES = {
    "RUNNING": PipelineState.PIPELINE_STATE_RUNNING,
    "COMPLETE": PipelineState.PIPELINE_STATE_SUCCEEDED,
    "FAILED": PipelineState.PIPELINE_STATE_FAILED,
    "CRASHED": PipelineState.PIPELINE_STATE_FAILED,
    "CANCELLED": PipelineState.PIPELINE_STATE_CANCELLED,
}

# -- artifact annotations ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _OutputSpec:
    schema: Any  # a BaseArtifactSchema subclass, or a schema title


class Input(Generic[T]):
    """`Input[Dataset]` documents an artifact parameter (KFP's spelling); any Artifact may be passed."""


class Output(Generic[T]):
    """`Output[Model]` makes the step receive an output artifact to fill: write to `.path`, set `.metadata`,
    call `.log_metric(name, value)` for metrics. It is recorded as the step's OUTPUT when the step returns."""

    def __class_getitem__(cls, schema: Any) -> Any:  # type: ignore[override]
        return _OutputSpec(schema)


class OutputArtifact:
    """What an `Output[...]` parameter receives: a place to write (`path`, `uri`) and `metadata` to fill."""

    def __init__(self, name: str, schema_title: str, uri: str) -> None:
        self.name = name
        self.schema_title = schema_title
        self.uri = uri
        self.metadata: dict[str, Any] = {}
        self.display_name = name

    @property
    def path(self) -> str:
        """The local path to write the artifact to (its directory exists)."""
        path = local_path(self.uri)
        if path is None:
            raise ValueError(f"output {self.name!r} has the remote uri {self.uri}; local steps write local paths")
        path.parent.mkdir(parents=True, exist_ok=True)
        return str(path)

    def log_metric(self, metric: str, value: float) -> None:
        """Record a scalar metric (KFP's `Metrics.log_metric`); a pipeline row shows it as metric.<name>."""
        _values.check_key(metric)
        self.metadata[metric] = _values.scalar(metric, value, "metric")

    def __repr__(self) -> str:
        return f"<trackbook.OutputArtifact {self.name!r} {self.schema_title} {self.uri}>"


def _schema_title(schema: Any) -> str:
    if isinstance(schema, str):
        return schema
    title = getattr(schema, "schema_title", None)
    if isinstance(title, str):
        return title
    raise TypeError(f"Output[...] takes an artifact schema such as Model or Dataset, got {schema!r}")


# -- components -------------------------------------------------------------------------------------------------


@dataclass
class _JobRun:
    """The state of the pipeline job running in this context: where steps record themselves."""

    store: Store
    context_id: int
    root: Path | None
    job_id: str
    step_counts: dict[str, int] = field(default_factory=dict)


_running: contextvars.ContextVar[_JobRun | None] = contextvars.ContextVar("trackbook_pipeline", default=None)


class Component:
    """A pipeline step made by `@component`. Calling it runs the function now and records it as an execution
    (inside a pipeline job: of that job; outside: of the active run, if any)."""

    def __init__(self, func: Callable[..., Any], name: str | None = None) -> None:
        if not callable(func):
            raise TypeError(f"@component decorates a function, got {type(func).__name__}")
        functools.update_wrapper(self, func)
        self.func = func
        self.component_name = name or func.__name__.replace("_", "-")
        self.signature = inspect.signature(func)
        self.outputs = {n: _schema_title(a.schema) for n, a in _annotations(func).items() if isinstance(a, _OutputSpec)}

    def __repr__(self) -> str:
        return f"<trackbook.component {self.component_name!r}>"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        for name in self.outputs:
            if name in kwargs:
                raise TypeError(f"{self.component_name}: {name!r} is an Output[...] parameter; the step creates it")
        try:
            bound = self.signature.bind_partial(*args, **kwargs)
        except TypeError as exc:
            raise TypeError(f"{self.component_name}: {exc}") from None
        missing = [n for n, p in self.signature.parameters.items()
                   if n not in bound.arguments and n not in self.outputs and p.default is inspect.Parameter.empty
                   and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
        if missing:
            raise TypeError(f"{self.component_name}: missing argument(s) {', '.join(missing)}")
        bound.apply_defaults()
        job = _running.get()
        st = job.store if job is not None else _session_store()
        step_name = self.component_name
        if job is not None:
            n = job.step_counts[self.component_name] = job.step_counts.get(self.component_name, 0) + 1
            step_name = self.component_name if n == 1 else f"{self.component_name}-{n}"
        # Plain inputs and artifact inputs, sorted out before anything runs or is written.
        plain: dict[str, Any] = {}
        artifact_inputs: list[tuple[str, Any]] = []
        for name, value in bound.arguments.items():
            found = _artifacts_in(name, value)
            artifact_inputs += found
            if not found:
                plain[f"{constants.PIPELINE_PARAM_PREFIX}{name}"] = _plain(value)
        contexts = (job.context_id,) if job is not None else ((session.run._id,) if _run_in(st) else ())
        execution = Execution._from_row(st, create_row(
            st, STEP_SCHEMA, display_name=step_name, metadata=plain, associate_with=contexts,
        ))
        execution._attribute_to = contexts
        with execution:
            for path, item in artifact_inputs:
                execution._add([item], "INPUT", [path])
            handles = {
                name: OutputArtifact(name, title, _output_uri(st, job, step_name, execution.name, name))
                for name, title in self.outputs.items()
            }
            bound.arguments.update(handles)
            result = self.func(*bound.args, **bound.kwargs)
            outputs = _record_outputs(execution, result, handles)
        if job is not None:
            _refresh_metrics(st, job.context_id)
        return outputs


def component(func: Callable[..., Any] | None = None, *, name: str | None = None) -> Any:
    """Mark a function as a pipeline step: `@component` or `@component(name="train")`."""
    if func is None:
        return lambda f: Component(f, name)
    return Component(func, name)


def _annotations(func: Callable[..., Any]) -> dict[str, Any]:
    try:
        return typing.get_type_hints(func)
    except Exception:  # unresolvable forward references: use what is there
        return dict(getattr(func, "__annotations__", {}))


def _session_store() -> Store:
    run = session.run
    return run._store if run is not None else resolve(None)[0]


def _run_in(st: Store) -> bool:
    return session.run is not None and session.run._store is st


def _artifacts_in(name: str, value: Any) -> list[tuple[str, Any]]:
    if isinstance(value, Artifact):
        return [(name, value)]
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, Artifact) for v in value):
        return [(f"{name}[{i}]", v) for i, v in enumerate(value)]
    return []


def _plain(value: Any) -> Any:
    """A JSON-able record of a plain value; other objects are recorded by their type only."""
    try:
        return check_metadata({"v": value})["v"]
    except (TypeError, ValueError):
        if isinstance(value, float) and math.isnan(value):
            return None
        return f"<{type(value).__module__}.{type(value).__qualname__}>"


def _output_uri(st: Store, job: _JobRun | None, step: str, execution_id: str, name: str) -> str:
    root = job.root if job is not None and job.root is not None else st.path.parent / "trackbook-artifacts"
    parts = [job.job_id, step] if job is not None else [execution_id]
    return str(Path(root, *parts, name))


def _record_outputs(execution: Execution, result: Any, handles: dict[str, OutputArtifact]) -> Any:
    """Record a step's outputs; returns what the call gives back: its artifacts created, values unchanged."""
    st = execution._saved_store()
    made: dict[str, Artifact] = {}
    for name, handle in handles.items():
        made[name] = Artifact.create(
            handle.schema_title, uri=handle.uri, display_name=handle.display_name, metadata=handle.metadata,
            store=st,
        )
        execution._add([made[name]], "OUTPUT", [name])
    returned = _record_returned(execution, result)
    if not handles:
        return returned
    if result is None:
        return next(iter(made.values())) if len(made) == 1 else _Outputs(made)
    return _Outputs({**made, "Output": returned})


def _record_returned(execution: Execution, result: Any) -> Any:
    st = execution._saved_store()
    plain: dict[str, Any] = {}

    def one(name: str, value: Any) -> Any:
        if isinstance(value, Artifact):
            if getattr(value, "_store", None) is None:
                value.create(store=st)
            execution._add([value], "OUTPUT", [name])
        elif value is not None:
            plain[f"{constants.PIPELINE_OUTPUT_PREFIX}{name}"] = _plain(value)
        return value

    if isinstance(result, tuple) and hasattr(result, "_fields"):  # a NamedTuple of outputs, as in KFP
        out = type(result)(*(one(f, v) for f, v in zip(result._fields, result)))
    elif isinstance(result, Mapping) and all(isinstance(k, str) for k in result):
        out = {k: one(k, v) for k, v in result.items()}
    elif isinstance(result, tuple):
        out = tuple(one(f"Output{i}", v) for i, v in enumerate(result))
    else:
        out = one("Output", result)
    if plain:
        execution.update(metadata=plain)
    return out


class _Outputs(dict):  # type: ignore[type-arg]
    """Several outputs of one step, by name, also readable as attributes (`outputs.model`)."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def _refresh_metrics(st: Store, context_id: int) -> None:
    st.set_run_values(context_id, metrics=_values.encode(pipeline_metrics(st, context_id)))


def pipeline_metrics(st: Store, context_id: int) -> dict[str, Any]:
    """The scalar metadata of the run's metrics artifacts, merged oldest first (the last one wins), as Vertex."""
    merged: dict[str, Any] = {}
    for artifact in st.attributed_artifacts(context_id, constants.METRICS_SCHEMAS):
        for key, value in json.loads(artifact.metadata or "{}").items():
            try:
                merged[_values.check_key(key)] = _values.scalar(key, value, "metric")
            except (TypeError, ValueError):
                continue  # confusion matrices and other structures are not row values
    return merged


# -- jobs -------------------------------------------------------------------------------------------------------


class PipelineJob:
    """A local pipeline job with Vertex's `aiplatform.PipelineJob` API.

    `template` (or `template_path`) is a pipeline function, or "package.module:function". `submit()` and
    `run()` execute it in this process, step by step; both record the same graph. `submit(experiment=...)`
    (and, unlike Vertex, `run(experiment=...)`) make it a row of that experiment.
    """

    def __init__(
        self,
        display_name: str | None = None,
        template_path: Any = None,
        job_id: str | None = None,
        pipeline_root: str | None = None,
        parameter_values: dict[str, Any] | None = None,
        input_artifacts: dict[str, Any] | None = None,
        enable_caching: bool | None = None,
        encryption_spec_key_name: str | None = None,
        labels: dict[str, str] | None = None,
        credentials: Any = None,
        project: str | None = None,
        location: str | None = None,
        failure_policy: str | None = None,
        *,
        template: Callable[..., Any] | None = None,
        store: str | Store | None = None,
    ) -> None:
        func = _template(template if template is not None else template_path)
        self._func = func
        self.pipeline_name = _slug(func.__name__)
        if display_name is not None and not isinstance(display_name, str):
            raise TypeError(f"display_name must be a str, got {type(display_name).__name__}")
        self._display_name = display_name or self.pipeline_name
        if labels is not None and (not isinstance(labels, Mapping) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in labels.items())):
            raise TypeError("labels must be a dict of str to str")
        self.labels = dict(labels or {})
        if failure_policy not in (None, "slow", "fast"):
            raise ValueError(f"failure_policy must be 'slow' or 'fast', got {failure_policy!r}")
        self._store_arg = store
        self._root = _root(pipeline_root)
        self.parameter_values = self._bind(parameter_values or {}, input_artifacts or {})
        self._auto_id = job_id is None
        if job_id is None:
            job_id = f"{self.pipeline_name}-{_dt.datetime.now().strftime('%Y%m%d%H%M%S')}"
        if not isinstance(job_id, str) or not JOB_ID.match(job_id):
            raise ValueError(
                f"job_id {job_id!r} is not valid: use up to 128 lowercase letters, digits and '-', starting with "
                "a letter (Vertex's rule for pipeline job ids)"
            )
        self.job_id = job_id
        self._store: Store | None = None
        self._context_id: int | None = None
        self._run_execution_id: int | None = None
        self.error: BaseException | None = None

    def _bind(self, parameter_values: Mapping[str, Any], input_artifacts: Mapping[str, Any]) -> dict[str, Any]:
        if not isinstance(parameter_values, Mapping):
            raise TypeError(f"parameter_values must be a dict, got {type(parameter_values).__name__}")
        signature = inspect.signature(self._func)
        given = {**parameter_values, **input_artifacts}
        accepts_any = any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values())
        unknown = [k for k in given if k not in signature.parameters]
        if unknown and not accepts_any:
            accepted = ", ".join(signature.parameters) or "none"
            raise ValueError(
                f"parameter_values has {', '.join(map(repr, unknown))}, which the pipeline "
                f"{self.pipeline_name!r} does not take (its parameters: {accepted})"
            )
        for key, value in parameter_values.items():
            _values.check_key(key)
            if not isinstance(value, Artifact):
                check_metadata({key: value}, "parameter_values")
        missing = [n for n, p in signature.parameters.items() if n not in given and p.default is inspect.Parameter.empty
                   and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
        if missing:
            raise ValueError(f"the pipeline {self.pipeline_name!r} needs parameter_values for {', '.join(missing)}")
        values = {n: p.default for n, p in signature.parameters.items()
                  if p.default is not inspect.Parameter.empty and n not in given}
        return {**values, **given}

    # -- properties -------------------------------------------------------------------------------------------

    @property
    def display_name(self) -> str:
        return self._display_name

    @property
    def name(self) -> str:
        return self.job_id

    @property
    def resource_name(self) -> str:
        st = self._store if self._store is not None else resolve(self._store_arg)[0]
        return f"{st.path}#pipelineJobs/{self.job_id}"

    @property
    def state(self) -> PipelineState:
        row = self._context_row() if self._context_id is not None else None
        if row is None:
            return PipelineState.PIPELINE_STATE_UNSPECIFIED
        return _JOB_STATES.get(row.live_state or "", PipelineState.PIPELINE_STATE_PENDING)

    @property
    def has_failed(self) -> bool:
        return self.state is PipelineState.PIPELINE_STATE_FAILED

    def done(self) -> bool:
        return self.state in (PipelineState.PIPELINE_STATE_SUCCEEDED, PipelineState.PIPELINE_STATE_FAILED,
                              PipelineState.PIPELINE_STATE_CANCELLED)

    def wait(self) -> None:
        """Nothing to wait for: local jobs finish inside submit() and run()."""

    def __repr__(self) -> str:
        return f"<trackbook.PipelineJob {self.job_id!r} {self.state.name}>"

    def _saved_store(self) -> Store:
        if self._store is None:
            raise RuntimeError(f"PipelineJob {self.job_id!r} has not been submitted or run yet")
        return self._store

    def _context_row(self) -> ContextRow:
        st = self._saved_store()
        row = st.context_by_id(self._context_id or 0)
        if row is None:
            raise NotFound(f"404 PipelineJob {self.job_id!r} was deleted")
        return row

    @property
    def context(self) -> Context:
        """The job's system.PipelineRun context."""
        return Context._from_row(self._saved_store(), self._context_row())

    def get_executions(self) -> list[Execution]:
        """The job's executions: its system.Run and one per step, in the order they ran."""
        return self.context.get_executions()

    def get_associated_experiment(self) -> Any:
        """The experiment this job is a run of, or None."""
        from .experiment import Experiment

        row = self._context_row()
        if not row.experiment_id:
            return None
        exp = self._saved_store().context_by_id(row.experiment_id)
        return Experiment(exp.name, store=self._saved_store()) if exp else None

    # -- running ----------------------------------------------------------------------------------------------

    def submit(
        self,
        service_account: str | None = None,
        network: str | None = None,
        reserved_ip_ranges: list[str] | None = None,
        create_request_timeout: float | None = None,
        *,
        experiment: Any = None,
        enable_preflight_validations: bool = False,
    ) -> None:
        """Run the job in this process and record it (as a run of `experiment` when given). A failing step
        marks the job FAILED with a warning, as a submitted job fails on its own; `run()` raises instead."""
        self._execute(experiment, raise_errors=False)

    def run(
        self,
        service_account: str | None = None,
        network: str | None = None,
        reserved_ip_ranges: list[str] | None = None,
        sync: bool | None = True,
        create_request_timeout: float | None = None,
        *,
        experiment: Any = None,
    ) -> None:
        """Run the job in this process; RuntimeError ("Job failed with: ...") when a step fails."""
        self._execute(experiment, raise_errors=True)

    def _execute(self, experiment: Any, raise_errors: bool) -> None:
        if self._store is not None:
            raise RuntimeError(f"PipelineJob {self.job_id!r} has run already; make a new PipelineJob to run again")
        st, writer = resolve(self._store_arg)
        experiment_id = self._experiment_id(experiment, st)
        params = {k: v for k, v in self.parameter_values.items() if not isinstance(v, Artifact)}
        metadata = {"display_name": self._display_name, "pipeline_name": self.pipeline_name,
                    "labels": self.labels, "pipeline_root": str(self._root) if self._root else None}
        row = self._create_context(st, experiment_id, params, metadata)
        self._store, self._context_id = st, row.id
        writer.owned.add(row.id)  # heartbeats while steps run
        run_exec = Execution._from_row(st, create_row(
            st, constants.SYSTEM_RUN, display_name=self.job_id,
            metadata={f"{constants.PIPELINE_PARAM_PREFIX}{k}": _plain(v) for k, v in params.items()},
            associate_with=(row.id,),
        ))
        run_exec._attribute_to = (row.id,)
        self._run_execution_id = run_exec._row.id
        token = _running.set(_JobRun(st, row.id, self._root, self.job_id))
        state = "FAILED"  # until the pipeline function returns: an interrupt must not read as COMPLETE
        try:
            with run_exec:
                inputs = [(k, v) for k, v in self.parameter_values.items() if isinstance(v, Artifact)]
                for name, artifact in inputs:
                    run_exec._add([artifact], "INPUT", [name])
                result = self._func(**self.parameter_values)
                _record_returned(run_exec, result)
            state = "COMPLETE"
        except Exception as exc:
            self.error = exc
        except BaseException:  # KeyboardInterrupt, SystemExit: recorded as CANCELLED, then passed on
            state = "CANCELLED"
            raise
        finally:
            _running.reset(token)
            writer.owned.discard(row.id)
            st.set_run_values(row.id, metrics=_values.encode(pipeline_metrics(st, row.id)), state=state,
                              release=True)
        if self.error is not None:
            message = f"Job failed with:\n{type(self.error).__name__}: {self.error}"
            if raise_errors:
                raise RuntimeError(message) from self.error
            warnings.warn(f"trackbook: pipeline job {self.job_id} failed: {self.error!r}", TrackbookWarning,
                          stacklevel=3)

    def _experiment_id(self, experiment: Any, st: Store) -> int:
        from .experiment import Experiment

        if experiment is None:
            return 0
        if isinstance(experiment, Experiment):
            return experiment._id
        if not isinstance(experiment, str):
            raise TypeError(f"experiment must be a name or an Experiment, got {type(experiment).__name__}")
        try:
            return Experiment.get_or_create(experiment, store=st)._id
        except Exception as exc:
            raise RuntimeError(
                f"Experiment {experiment} could not be found or created. PipelineJob not created"
            ) from exc

    def _create_context(self, st: Store, experiment_id: int, params: dict[str, Any],
                        metadata: dict[str, Any]) -> ContextRow:
        from .store import host_id

        base = self.job_id
        for attempt in range(1, 1000):
            try:
                return st.create_context(
                    self.job_id, PIPELINE_RUN, experiment_id=experiment_id, display_name=self.job_id,
                    metadata=dumps(metadata), state="RUNNING", params=_values.encode(_row_params(params)),
                    owned_by=(host_id(), os.getpid()),
                )
            except AlreadyExists:
                if not self._auto_id:
                    raise
                self.job_id = f"{base}-{attempt + 1}"  # several jobs built in the same second
        raise AlreadyExists(f"409 PipelineJob {base!r} already exists")

    def delete(self) -> None:
        """Delete the job's pipeline run (its row); its executions and artifacts stay in the graph."""
        st = self._saved_store()
        st.delete_contexts([self._context_row().id])

    # -- lookup -----------------------------------------------------------------------------------------------

    @classmethod
    def get(
        cls,
        resource_name: str,
        project: str | None = None,
        location: str | None = None,
        credentials: Any = None,
        *,
        store: str | Store | None = None,
    ) -> PipelineJob:
        """The recorded job with this job id (or resource name); NotFound when there is none."""
        if not isinstance(resource_name, str):
            raise TypeError(f"resource_name must be a str, got {type(resource_name).__name__}")
        where: str | Store | None = store
        job_id = resource_name
        if "#" in job_id and store is None:
            path, _, rest = job_id.rpartition("#")
            if rest.startswith("pipelineJobs/"):  # "<store path>#pipelineJobs/<id>"; else '#' is in the id
                where, job_id = existing_store(path, f"PipelineJob {rest!r}"), rest
        job_id = job_id.rsplit("pipelineJobs/", 1)[-1]
        st = resolve(where)[0]
        rows = [r for r in st.contexts_named(job_id) if r.schema_title == PIPELINE_RUN]
        if not rows:
            raise NotFound(f"404 PipelineJob {job_id!r} not found in {st.path}")
        return cls._from_row(st, rows[0])

    @classmethod
    def list(
        cls,
        filter: str | None = None,
        order_by: str | None = None,
        project: str | None = None,
        location: str | None = None,
        credentials: Any = None,
        *,
        store: str | Store | None = None,
    ) -> list[PipelineJob]:
        """Recorded jobs, oldest first; `filter` uses the context filter syntax (display_name, state, ...)."""
        from . import filters

        st = resolve(store)[0]
        where: Any = filters.Cmp("schema_title", "=", PIPELINE_RUN)
        if filter is not None:
            where = filters.And((where, filters.resolve(filter, "context")))
        return [cls._from_row(st, r) for r in st.list_nodes("context", where, order_by)]

    @classmethod
    def _from_row(cls, st: Store, row: ContextRow) -> PipelineJob:
        self = cls.__new__(cls)
        meta = json.loads(row.metadata or "{}")
        self._func = None  # type: ignore[assignment]
        self.pipeline_name = meta.get("pipeline_name") or row.name
        self._display_name = meta.get("display_name") or row.name
        self.labels = dict(meta.get("labels") or {})
        self._store_arg = st
        self._root = Path(meta["pipeline_root"]) if meta.get("pipeline_root") else None
        self._auto_id = False
        self.job_id = row.name
        self._store, self._context_id = st, row.id
        runs = st.associated_executions(row.id, constants.SYSTEM_RUN)
        self._run_execution_id = runs[0].id if runs else None
        prefix = constants.PIPELINE_PARAM_PREFIX
        source = json.loads(runs[0].metadata) if runs else {}
        self.parameter_values = {k[len(prefix):]: v for k, v in source.items() if k.startswith(prefix)}
        self.error = None
        return self

    @staticmethod
    def from_pipeline_func(
        pipeline_func: Callable[..., Any],
        parameter_values: dict[str, Any] | None = None,
        input_artifacts: dict[str, Any] | None = None,
        output_artifacts_gcs_dir: str | None = None,
        enable_caching: bool | None = None,
        context_name: str | None = "pipeline",
        display_name: str | None = None,
        labels: dict[str, str] | None = None,
        job_id: str | None = None,
        project: str | None = None,
        location: str | None = None,
        credentials: Any = None,
        encryption_spec_key_name: str | None = None,
    ) -> PipelineJob:
        """A job for a pipeline function (no compilation needed locally)."""
        return PipelineJob(
            display_name=display_name, template=pipeline_func, job_id=job_id, pipeline_root=output_artifacts_gcs_dir,
            parameter_values=parameter_values, input_artifacts=input_artifacts, labels=labels,
        )


def _template(template: Any) -> Callable[..., Any]:
    if callable(template):
        return template.func if isinstance(template, Component) else template  # type: ignore[no-any-return]
    if isinstance(template, str):
        if template.endswith((".json", ".yaml", ".yml")) or "://" in template:
            raise ValueError(
                f"template {template!r} is a compiled pipeline; local jobs run a Python pipeline function: pass "
                "template=my_pipeline (the function that calls your @trackbook.component steps) or "
                "'package.module:function'"
            )
        module, _, attr = template.partition(":")
        if not attr:
            raise ValueError(f"template {template!r}: use 'package.module:function' or pass the function itself")
        func = getattr(importlib.import_module(module), attr)
        if not callable(func):
            raise TypeError(f"{template} is not a function")
        return func  # type: ignore[no-any-return]
    raise TypeError(f"template must be a pipeline function, got {type(template).__name__}")


def _slug(name: str) -> str:
    slug = re.sub("[^-0-9a-z]+", "-", name.lower()).strip("-")
    if not slug or not slug[0].isalpha():
        slug = f"pipeline-{slug}".rstrip("-")
    return slug[:100]


def _root(pipeline_root: str | None) -> Path | None:
    if pipeline_root is None:
        return None
    if not isinstance(pipeline_root, str):
        raise TypeError(f"pipeline_root must be a str, got {type(pipeline_root).__name__}")
    path = local_path(pipeline_root)
    if path is None:
        raise ValueError(
            f"pipeline_root {pipeline_root!r} is remote; local pipelines write their outputs under a local directory"
        )
    return path.absolute()


def _row_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """Parameter values as run-table params: scalars as they are, lists and dicts as JSON text."""
    out: dict[str, Any] = {}
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, (list, tuple, dict)):
            out[key] = json.dumps(_plain(value))
        else:
            try:
                out[key] = _values.scalar(key, value)
            except TypeError:
                out[key] = str(_plain(value))
    return out


# -- logging a job to a run -------------------------------------------------------------------------------------


def log(*, pipeline_job: PipelineJob | None = None) -> None:
    """Log a submitted or run PipelineJob to the active run (its pipeline run becomes a child of the run)."""
    from .tracking import _active_run

    run = _active_run("log")
    run.log(pipeline_job=pipeline_job)


def get_pipeline_df(pipeline: str) -> Any:
    """Vertex's legacy `aiplatform.get_pipeline_df`: one row per run of the pipeline called `pipeline` (the
    pipeline function's name, `PipelineJob.pipeline_name`), oldest first, with pipeline_name, run_name, param.*
    and metric.*; an empty frame when it never ran."""
    import pandas as pd

    from .frames import value_columns

    if not isinstance(pipeline, str):
        raise TypeError(f"pipeline must be a str (a pipeline's name), got {type(pipeline).__name__}")
    rows = [r for r in _session_store().runs(run_type=PIPELINE_RUN)
            if json.loads(r.metadata or "{}").get("pipeline_name") == pipeline]
    if not rows:
        return pd.DataFrame([])
    names = pd.DataFrame({"pipeline_name": [pipeline] * len(rows), "run_name": [r.name for r in rows]})
    return pd.concat([names, *value_columns(rows)], axis=1)
