"""Execution: a step of ML work (ingest, train, evaluate) in the lineage graph, and `start_execution`.

As in Vertex, an execution is a context manager (RUNNING inside, then COMPLETE, or FAILED when the block
raises), links artifacts with `assign_input_artifacts` / `assign_output_artifacts`, and reads them back with
`get_input_artifacts` / `get_output_artifacts`. Started with `start_execution` inside a run, it is associated
with the run and the artifacts it is given are attributed to the run too.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from .artifact import Artifact, file_facts, local_path
from .resource import Resource, check_fields, check_metadata, check_schema_title, check_text, new_resource_id
from .session import resolve, session
from .states import ExecutionState
from .store import Store
from .store.lineage import Execution as ExecutionRow

if TYPE_CHECKING:
    from .run import ExperimentRun

__all__ = ["Execution", "start_execution"]


class Execution(Resource):
    """An execution in the lineage graph; `Execution.State` is the state enum shared with runs."""

    _noun = "executions"
    _what = "Execution"
    _kind = "execution"
    State = ExecutionState
    _attribute_to: tuple[int, ...] = ()  # contexts that artifacts assigned to this execution are attributed to

    def __init__(
        self,
        execution_name: str,
        *,
        metadata_store_id: str = "default",
        project: str | None = None,
        location: str | None = None,
        credentials: Any = None,
        store: str | Store | None = None,
    ) -> None:
        self._init_from_name(execution_name, store)

    @classmethod
    def _lookup(cls, st: Store, resource_id: str) -> ExecutionRow | None:
        return st.execution_by_name(resource_id)

    # -- creation ---------------------------------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        schema_title: str,
        *,
        state: Any = ExecutionState.RUNNING,
        resource_id: str | None = None,
        display_name: str | None = None,
        schema_version: str | None = None,
        metadata: dict[str, Any] | None = None,
        description: str | None = None,
        metadata_store_id: str = "default",
        project: str | None = None,
        location: str | None = None,
        credentials: Any = None,
        store: str | Store | None = None,
    ) -> Execution:
        """Create an execution (RUNNING by default); AlreadyExists when `resource_id` is taken."""
        st = resolve(store)[0]
        return cls._from_row(st, create_row(
            st, schema_title, state=state, resource_id=resource_id, display_name=display_name,
            schema_version=schema_version, metadata=metadata, description=description,
        ))

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
    ) -> Execution:
        """The execution with this id, created when missing (an existing one is returned unchanged)."""
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
    ) -> list[Execution]:
        """Executions matching a Vertex filter (see trackbook.filters), oldest first unless `order_by` says."""
        return cls._list(filter, order_by, store)

    # -- state ------------------------------------------------------------------------------------------------

    @property
    def state(self) -> ExecutionState:
        return ExecutionState.parse(self._row.state)

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out["state"] = self.state.name
        return out

    def update(
        self,
        state: Any = None,
        description: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """Set the state and description, and merge `metadata` one level deep (as Vertex)."""
        state_name = ExecutionState.parse(state).name if state is not None else None
        check_text(description, "description")
        patch = check_metadata(metadata) if metadata else None
        self._row = self._saved_store().update_execution(
            self._row.id, state=state_name, description=description or None, metadata=patch
        )
        if state_name == "COMPLETE":
            self._refresh_outputs()

    def __enter__(self) -> Execution:
        if self.state is not ExecutionState.RUNNING:
            self.update(state=ExecutionState.RUNNING)
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self.update(state=ExecutionState.FAILED if exc_type is not None else ExecutionState.COMPLETE)

    # -- artifacts --------------------------------------------------------------------------------------------

    def assign_input_artifacts(self, artifacts: Iterable[Artifact | str]) -> None:
        """Record artifacts as inputs of this execution (an INPUT event each; repeats are skipped)."""
        self._add(artifacts, "INPUT")

    def assign_output_artifacts(self, artifacts: Iterable[Artifact | str]) -> None:
        """Record artifacts as outputs of this execution (an OUTPUT event each; repeats are skipped)."""
        self._add(artifacts, "OUTPUT")

    def _add(self, artifacts: Iterable[Artifact | str] | Artifact, event_type: str, paths: list[str | None] | None
             = None) -> None:
        st = self._saved_store()
        ids = [_artifact_id(st, a, i) for i, a in enumerate(_as_list(artifacts))]
        st.add_events(self._row.id, ids, event_type, paths=paths, attribute_to=self._attribute_to)

    def get_input_artifacts(self) -> list[Artifact]:
        """The artifacts recorded as inputs, in the order they were assigned."""
        st = self._saved_store()
        return [Artifact._from_row(st, a) for a, _ in st.execution_artifacts(self._row.id, "INPUT")]

    def get_output_artifacts(self) -> list[Artifact]:
        """The artifacts recorded as outputs, in the order they were assigned."""
        st = self._saved_store()
        return [Artifact._from_row(st, a) for a, _ in st.execution_artifacts(self._row.id, "OUTPUT")]

    def _refresh_outputs(self) -> None:
        # An output's file is final when the execution completes: measure files written (or rewritten) after
        # their artifact was recorded.
        st = self._saved_store()
        for row, _ in st.execution_artifacts(self._row.id, "OUTPUT"):
            path = local_path(row.uri)
            if path is None or not path.exists():
                continue
            try:
                changed = row.content_hash is None or os.stat(path).st_mtime > row.create_time
            except OSError:
                continue
            facts = file_facts(row.uri) if changed else None
            if facts is not None and facts != (row.size, row.content_hash):
                st.update_artifact(row.id, file_facts=facts)

    def delete(self, *, force: bool = False) -> None:
        """Delete the execution. When it has inputs or outputs, ValueError says so unless `force=True`, which
        deletes those events with it (the artifacts stay)."""
        st = self._saved_store()
        events = st.execution_events([self._row.id])
        if events and not force:
            raise ValueError(
                f"execution {self.name!r} has {len(events)} lineage event(s) ("
                f"{sum(e.type == 'INPUT' for e in events)} inputs, {sum(e.type == 'OUTPUT' for e in events)} "
                "outputs); deleting it would leave its artifacts without their producer or consumer. Call "
                "delete(force=True) to delete the execution together with these events (the artifacts are kept)."
            )
        st.delete_executions([self._row.id])


def create_row(
    st: Store,
    schema_title: str,
    *,
    state: Any = ExecutionState.RUNNING,
    resource_id: str | None = None,
    display_name: str | None = None,
    schema_version: str | None = None,
    metadata: dict[str, Any] | None = None,
    description: str | None = None,
    associate_with: tuple[int, ...] = (),
) -> ExecutionRow:
    """Check the arguments (nothing is written on a bad one) and insert the execution."""
    check_schema_title(schema_title, "system.ContainerExecution")
    meta = check_fields("Execution", resource_id=resource_id, display_name=display_name,
                        schema_version=schema_version, description=description, metadata=metadata)
    state_name = ExecutionState.parse(state).name
    return st.create_execution(
        resource_id or new_resource_id(), schema_title, schema_version=schema_version, display_name=display_name,
        description=description, metadata=meta, state=state_name, associate_with=associate_with,
    )


def _as_list(artifacts: Any) -> list[Any]:
    if isinstance(artifacts, (Artifact, str)):
        return [artifacts]
    if artifacts is None or not isinstance(artifacts, Iterable):
        raise TypeError(f"artifacts must be a list of Artifact, got {type(artifacts).__name__}")
    return list(artifacts)


def _artifact_id(st: Store, artifact: Any, index: int) -> int:
    """The row id of an artifact given as an Artifact (an uncreated typed one is created now) or its name."""
    if isinstance(artifact, Artifact):
        if getattr(artifact, "_store", None) is None:
            artifact.create(store=st)  # a typed schema object such as Dataset(uri=...) not created yet
        if artifact._store.path != st.path:
            raise ValueError(
                f"artifact {artifact.name!r} is in the store {artifact._store.path}, this execution in {st.path}"
            )
        return int(artifact._row.id)
    if isinstance(artifact, str):
        return Artifact._row_id(st, artifact, "no event was recorded")
    raise TypeError(
        f"artifacts[{index}] is of type {type(artifact).__name__}; pass trackbook.Artifact objects or resource names"
    )


def start_execution(
    *,
    schema_title: str | None = None,
    display_name: str | None = None,
    resource_id: str | None = None,
    metadata: dict[str, Any] | None = None,
    schema_version: str | None = None,
    description: str | None = None,
    resume: bool = False,
    project: str | None = None,
    location: str | None = None,
    credentials: Any = None,
) -> Execution:
    """Create (or with `resume=True` continue) an execution; use it as a context manager.

    With an active run, the execution is associated with the run, and artifacts assigned to it are attributed
    to the run as well, as in Vertex.
    """
    run = session.run
    st = run._store if run is not None else resolve(None)[0]
    if resume:
        if not resource_id:
            raise ValueError("resource_id is required when resume=True")
        execution = Execution(resource_id, store=st)
        execution.update(state=ExecutionState.RUNNING)
        if run is not None:
            st.associate(run._id, [execution._row.id])
    else:
        if not schema_title:
            raise ValueError("schema_title must be provided when starting a new Execution")
        execution = Execution._from_row(st, create_row(
            st, schema_title, resource_id=resource_id, display_name=display_name, schema_version=schema_version,
            metadata=metadata, description=description, associate_with=(run._id,) if run is not None else (),
        ))
    if run is not None:
        bind_to_run(execution, run)
    return execution


def bind_to_run(execution: Execution, run: ExperimentRun) -> None:
    """Attribute the artifacts later assigned to `execution` to the run's context (Vertex's association wrapper)."""
    execution._attribute_to = tuple(dict.fromkeys((*execution._attribute_to, run._id)))
