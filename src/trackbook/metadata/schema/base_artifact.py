"""BaseArtifactSchema: a typed artifact (Dataset, Model, Metrics...) described first and stored by `.create()`."""

from __future__ import annotations

import time
from typing import Any, ClassVar

from ...artifact import Artifact, create_row
from ...resource import check_fields, check_text
from ...states import ArtifactState
from ...store import Store
from ...store.lineage import Artifact as ArtifactRow
from ..constants import _DEFAULT_SCHEMA_VERSION


class BaseArtifactSchema(Artifact):
    """An artifact of a fixed schema title. The constructor only describes it; `create()` stores it and returns
    the same object, now bound to the stored artifact (as in Vertex)."""

    schema_title: ClassVar[str]  # type: ignore[misc]

    def __init__(
        self,
        *,
        artifact_id: str | None = None,
        uri: str | None = None,
        display_name: str | None = None,
        schema_version: str | None = None,
        description: str | None = None,
        metadata: dict[str, Any] | None = None,
        state: Any = ArtifactState.LIVE,
    ) -> None:
        check_text(uri, "uri")
        meta = check_fields("Artifact", resource_id=artifact_id, display_name=display_name,
                            schema_version=schema_version, description=description, metadata=metadata)
        self.artifact_id = artifact_id
        now = time.time()
        self._row = ArtifactRow(
            id=0, name=artifact_id or "", schema_title=self.schema_title,
            schema_version=schema_version or _DEFAULT_SCHEMA_VERSION, uri=uri, display_name=display_name,
            description=description, metadata=meta, state=ArtifactState.parse(state).name, create_time=now,
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
    ) -> BaseArtifactSchema:
        """Store this artifact (its local uri is sized and hashed) and return it."""
        pending = self._row
        return self._bind_new(store, lambda st: create_row(  # type: ignore[no-any-return]
            st, self.schema_title, resource_id=self.artifact_id, uri=pending.uri, display_name=pending.display_name,
            schema_version=pending.schema_version, description=pending.description, metadata=self.metadata,
            state=pending.state,
        ))
