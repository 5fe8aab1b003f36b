"""Context: a group of artifacts and executions (an experiment, a run, a pipeline run, or your own), with
Vertex's `aiplatform.Context` API.

Experiments, experiment runs and pipeline runs are contexts of the same graph: `Context("my-exp")` and
`Context("my-exp-run-1")` find them, their artifacts and executions are the run's, and a run is a child of its
experiment. Resource ids are global, as in Vertex: a run's is `<experiment>-<run>`, a pipeline run's its job id.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .artifact import Artifact
from .exceptions import AlreadyExists, NotFound
from .execution import Execution
from .resource import (
    Resource,
    check_fields,
    check_metadata,
    check_schema_title,
    check_text,
    new_resource_id,
    split_name,
)
from .session import resolve
from .store import EXPERIMENT, Store
from .store import Context as ContextRow
from .store.lineage import Event as EventRow

__all__ = ["Context", "Event", "LineageSubgraph"]


@dataclass(frozen=True)
class Event:
    """An edge of the graph: `artifact` is the INPUT or OUTPUT of `execution` (both resource names)."""

    artifact: str
    execution: str
    type: str
    path: str | None = None
    event_time: float | None = None


@dataclass
class LineageSubgraph:
    """What `Context.query_lineage_subgraph()` returns: the context's artifacts, executions and their events."""

    artifacts: list[Artifact] = field(default_factory=list)
    executions: list[Execution] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)


class Context(Resource):
    """A context of the lineage graph. `Context(name)` looks one up by resource id or resource name."""

    _noun = "contexts"
    _what = "Context"
    _kind = "context"

    def __init__(
        self,
        context_name: str,
        *,
        metadata_store_id: str = "default",
        project: str | None = None,
        location: str | None = None,
        credentials: Any = None,
        store: str | Store | None = None,
    ) -> None:
        self._init_from_name(context_name, store)

    @classmethod
    def _lookup(cls, st: Store, resource_id: str) -> ContextRow | None:
        return st.context_by_resource_id(resource_id)

    @property
    def name(self) -> str:
        """The resource id (`<experiment>-<run>` for an experiment run)."""
        return self._saved_store().context_resource_id(self._row)

    @property
    def state(self) -> str | None:
        """The run state (RUNNING, COMPLETE, FAILED, CRASHED...) of a run or pipeline run; None otherwise."""
        return self._row.live_state

    # -- creation and lookup ----------------------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        schema_title: str,
        *,
        resource_id: str | None = None,
        display_name: str | None = None,
        schema_version: str | None = None,
        description: str | None = None,
        metadata: dict[str, Any] | None = None,
        metadata_store_id: str = "default",
        project: str | None = None,
        location: str | None = None,
        credentials: Any = None,
        store: str | Store | None = None,
    ) -> Context:
        """Create a top-level context; AlreadyExists when a context already answers to `resource_id`."""
        check_schema_title(schema_title, "system.Pipeline")
        meta = check_fields("Context", resource_id=resource_id, display_name=display_name,
                            schema_version=schema_version, description=description, metadata=metadata)
        name = resource_id or new_resource_id()
        st = resolve(store)[0]
        if st.context_by_resource_id(name) is not None:
            raise AlreadyExists(f"409 Context with name {name!r} already exists")
        row = st.create_context(
            name, schema_title, schema_version=schema_version, display_name=display_name,
            description=description, metadata=meta,
        )
        return cls._from_row(st, row)

    @classmethod
    def get_or_create(
        cls,
        resource_id: str,
        schema_title: str,
        display_name: str | None = None,
        schema_version: str | None = None,
        description: str | None = None,
        metadata: dict[str, Any] | None = None,
        metadata_store_id: str = "default",
        project: str | None = None,
        location: str | None = None,
        credentials: Any = None,
        *,
        store: str | Store | None = None,
    ) -> Context:
        """The context with this id, created when missing (an existing one is returned unchanged)."""
        return cls._get_or_create(  # type: ignore[no-any-return]
            resource_id, schema_title, store, display_name=display_name, schema_version=schema_version,
            description=description, metadata=metadata,
        )

    @classmethod
    def list(
        cls,
        filter: str | None = None,
        metadata_store_id: str = "default",
        project: str | None = None,
        location: str | None = None,
        credentials: Any = None,
        order_by: str | None = None,
        *,
        store: str | Store | None = None,
    ) -> list[Context]:
        """Contexts matching a Vertex filter (e.g. `parent_contexts:"my-exp"`), oldest first."""
        return cls._list(filter, order_by, store)

    # -- changes ----------------------------------------------------------------------------------------------

    def update(
        self, metadata: dict[str, Any] | None = None, description: str | None = None, credentials: Any = None
    ) -> None:
        """Merge `metadata` one level deep (as Vertex) and set the description."""
        patch = check_metadata(metadata) if metadata else None
        check_text(description, "description")
        st = self._saved_store()
        st.update_context_fields(self._row.id, metadata=patch, description=description or None)
        self._row = self._reload()

    def delete(self) -> None:
        """Delete the context. An experiment goes with its runs (as `Experiment.delete`); a run with its series.
        Its artifacts and executions stay; its links to them and to other contexts go."""
        st = self._saved_store()
        if self._row.schema_title == EXPERIMENT and self._row.experiment_id == 0:
            from .experiment import Experiment

            Experiment(self._row.name, store=st).delete()
            return
        from .session import session

        _, writer = resolve(st)
        writer.flush()
        writer.owned.discard(self._row.id)
        st.delete_contexts([self._row.id])
        if session.run is not None and session.run._id == self._row.id and session.run._store is st:
            session.run = None

    # -- members ----------------------------------------------------------------------------------------------

    def add_artifacts_and_executions(
        self,
        artifact_resource_names: Sequence[str] | None = None,
        execution_resource_names: Sequence[str] | None = None,
    ) -> None:
        """Attribute artifacts and associate executions (existing links are kept); NotFound, with nothing
        added, when one of them does not exist."""
        st = self._saved_store()
        artifact_ids = [Artifact._row_id(st, n, "nothing was added") for n in artifact_resource_names or []]
        execution_ids = [Execution._row_id(st, n, "nothing was added") for n in execution_resource_names or []]
        st.link_context(self._row.id, artifact_ids, execution_ids)

    def get_artifacts(self) -> list[Artifact]:
        """The artifacts attributed to this context, oldest first."""
        st = self._saved_store()
        return [Artifact._from_row(st, a) for a in st.attributed_artifacts(self._row.id)]

    def get_executions(self) -> list[Execution]:
        """The executions associated with this context, oldest first."""
        st = self._saved_store()
        return [Execution._from_row(st, e) for e in st.associated_executions(self._row.id)]

    @property
    def parent_contexts(self) -> list[str]:
        """Resource names of the parent contexts (a run's experiment among them)."""
        st = self._saved_store()
        return [f"{st.path}#contexts/{st.context_resource_id(p)}" for p in st.parent_contexts(self._row.id)]

    def get_child_contexts(self, schema_title: str | None = None) -> list[Context]:
        """The child contexts (an experiment's runs among them), optionally of one schema title."""
        st = self._saved_store()
        return [Context._from_row(st, c) for c in st.child_contexts(self._row.id, schema_title)]

    def add_context_children(self, contexts: Iterable[Any]) -> None:
        """Make contexts (Context, ExperimentRun or PipelineJob objects, or resource names) children of this one.

        ValueError, with nothing added, for a cycle or a child with more than 10 parents. A pipeline run added
        to an experiment becomes one of the experiment's runs (a row of `get_experiment_df`).
        """
        st = self._saved_store()
        ids = [context_row_of(st, c).id for c in contexts]
        st.add_child_contexts(self._row.id, ids, adopt_runs=self._row.schema_title == EXPERIMENT)

    def query_lineage_subgraph(self) -> LineageSubgraph:
        """The context's executions, its artifacts and those its executions used or made, and their events."""
        st = self._saved_store()
        execs = st.associated_executions(self._row.id)
        arts = {a.id: a for a in st.attributed_artifacts(self._row.id)}
        events = st.execution_events([e.id for e in execs])
        missing = {e.artifact_id for e in events} - set(arts)
        arts.update(st.artifacts_by_ids(missing))
        by_exec = {e.id: e for e in execs}
        return LineageSubgraph(
            artifacts=[Artifact._from_row(st, a) for a in sorted(arts.values(), key=lambda a: (a.create_time, a.id))],
            executions=[Execution._from_row(st, e) for e in execs],
            events=[_event(st, ev, arts, by_exec) for ev in events if ev.artifact_id in arts],
        )

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out["parentContexts"] = self.parent_contexts
        return out


def _event(st: Store, ev: EventRow, arts: dict[int, Any], execs: dict[int, Any]) -> Event:
    return Event(
        artifact=f"{st.path}#artifacts/{arts[ev.artifact_id].name}",
        execution=f"{st.path}#executions/{execs[ev.execution_id].name}",
        type=ev.type,
        path=ev.path,
        event_time=ev.event_time,
    )


def context_row_of(st: Store, obj: Any) -> ContextRow:
    """The context row of a Context, ExperimentRun, PipelineJob or Experiment object, or of a resource name."""
    from .experiment import Experiment
    from .run import ExperimentRun

    other = getattr(obj, "_store", None)
    if other is not None and other.path != st.path:
        raise ValueError(f"{obj!r} is in the store {other.path}, not in {st.path}")
    if isinstance(obj, Context):
        row = obj._row
    elif isinstance(obj, (ExperimentRun, Experiment)):
        row = st.context_by_id(obj._id)
    elif hasattr(obj, "_context_row"):  # PipelineJob
        row = obj._context_row()
    elif isinstance(obj, str):
        rid, _ = split_name(obj, "contexts", st)
        row = st.context_by_resource_id(rid)
    else:
        raise TypeError(
            f"expected a Context, ExperimentRun, PipelineJob or context resource name, got {type(obj).__name__}"
        )
    if row is None:
        raise NotFound(f"404 Context {obj!r} not found in {st.path}")
    return row
