"""BaseExecutionSchema: a typed execution described first, then stored by `create()` or `start_execution()`."""

from __future__ import annotations

import time
from typing import Any, ClassVar

from ...execution import Execution, start_execution
from ...resource import check_fields
from ...states import ExecutionState
from ...store import Store
from ...store.lineage import Execution as ExecutionRow
from ..constants import _DEFAULT_SCHEMA_VERSION


class BaseExecutionSchema(Execution):
    """An execution of a fixed schema title; `create()` or `start_execution()` stores it and returns it."""

    schema_title: ClassVar[str]  # type: ignore[misc]

    def __init__(
        self,
        *,
        state: Any = ExecutionState.RUNNING,
        execution_id: str | None = None,
        display_name: str | None = None,
        schema_version: str | None = None,
        metadata: dict[str, Any] | None = None,
        description: str | None = None,
    ) -> None:
        meta = check_fields("Execution", resource_id=execution_id, display_name=display_name,
                            schema_version=schema_version, description=description, metadata=metadata)
        self.execution_id = execution_id
        now = time.time()
        self._row = ExecutionRow(
            id=0, name=execution_id or "", schema_title=self.schema_title,
            schema_version=schema_version or _DEFAULT_SCHEMA_VERSION, display_name=display_name,
            description=description, metadata=meta, state=ExecutionState.parse(state).name, create_time=now,
            update_time=now,
        )

    def create(  # type: ignore[override]
        self,
        *,
        metadata_store_id: str = "default",
        project: str | None = None,
        location: str | None = None,
        credentials: Any = None,
        store: str | Store | None = None,
    ) -> BaseExecutionSchema:
        """Store this execution and return it."""
        from ...execution import create_row

        pending = self._row
        return self._bind_new(store, lambda st: create_row(  # type: ignore[no-any-return]
            st, self.schema_title, state=pending.state, resource_id=self.execution_id,
            display_name=pending.display_name, schema_version=pending.schema_version, metadata=self.metadata,
            description=pending.description,
        ))

    def start_execution(
        self,
        *,
        metadata_store_id: str = "default",
        resume: bool = False,
        project: str | None = None,
        location: str | None = None,
        credentials: Any = None,
    ) -> Execution:
        """Store and start it as `trackbook.start_execution` does (associated with the active run)."""
        pending = self._row
        started = start_execution(
            schema_title=self.schema_title, display_name=pending.display_name, resource_id=self.execution_id,
            metadata=self.metadata, schema_version=pending.schema_version, description=pending.description,
            resume=resume,
        )
        self._store, self._row, self._attribute_to = started._store, started._row, started._attribute_to
        return self
