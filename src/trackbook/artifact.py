"""Artifact: a dataset, model, metrics or any other thing used or made by ML work, a node of the lineage graph.

`Artifact.create(...)`, `Artifact(name)`, `Artifact.get_with_uri(uri)`, `Artifact.list(filter=...)`,
`update`, `delete` behave as in Vertex's `aiplatform.Artifact`. An artifact whose uri is a local file or
directory also records its size and a content hash, so the same data under another path is recognised
(`same_content()`, and `trackbook.lineage` follows copies).
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from . import filters
from .resource import Resource, check_fields, check_metadata, check_schema_title, check_text, new_resource_id
from .session import resolve
from .states import ArtifactState
from .store import Store
from .store.lineage import Artifact as ArtifactRow

__all__ = ["Artifact", "file_facts"]

_LOG = logging.getLogger("trackbook")
HASH_MAX_BYTES = int(os.environ.get("TRACKBOOK_HASH_MAX_BYTES", str(4 << 30)))  # larger data is sized, not hashed


class Artifact(Resource):
    """An artifact in the lineage graph. `Artifact(name)` looks one up by resource id or resource name."""

    _noun = "artifacts"
    _what = "Artifact"
    _kind = "artifact"
    State = ArtifactState

    def __init__(
        self,
        artifact_name: str,
        *,
        metadata_store_id: str = "default",
        project: str | None = None,
        location: str | None = None,
        credentials: Any = None,
        store: str | Store | None = None,
    ) -> None:
        self._init_from_name(artifact_name, store)

    @classmethod
    def _lookup(cls, st: Store, resource_id: str) -> ArtifactRow | None:
        return st.artifact_by_name(resource_id)

    # -- creation ---------------------------------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        schema_title: str,
        *,
        resource_id: str | None = None,
        uri: str | None = None,
        display_name: str | None = None,
        schema_version: str | None = None,
        description: str | None = None,
        metadata: dict[str, Any] | None = None,
        state: Any = ArtifactState.LIVE,
        metadata_store_id: str = "default",
        project: str | None = None,
        location: str | None = None,
        credentials: Any = None,
        store: str | Store | None = None,
    ) -> Artifact:
        """Create an artifact; AlreadyExists when `resource_id` is taken. A local `uri` is sized and hashed."""
        st = resolve(store)[0]
        row = create_row(
            st, schema_title, resource_id=resource_id, uri=uri, display_name=display_name,
            schema_version=schema_version, description=description, metadata=metadata, state=state,
        )
        return Artifact._from_row(st, row)

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
        uri: str | None = None,
        store: str | Store | None = None,
    ) -> Artifact:
        """The artifact with this id, created when missing (an existing one is returned unchanged)."""
        return cls._get_or_create(  # type: ignore[no-any-return]
            resource_id, schema_title, store, uri=uri, display_name=display_name, schema_version=schema_version,
            description=description, metadata=metadata,
        )

    @classmethod
    def get_with_uri(
        cls,
        uri: str,
        *,
        metadata_store_id: str = "default",
        project: str | None = None,
        location: str | None = None,
        credentials: Any = None,
        store: str | Store | None = None,
    ) -> Artifact:
        """The artifact with this uri (the newest when several have it); ValueError when none has."""
        if not isinstance(uri, str):
            raise TypeError(f"uri must be a str, got {type(uri).__name__}")
        st = resolve(store)[0]
        rows = st.list_nodes("artifact", filters.Cmp("uri", "=", uri), "create_time desc")
        if not rows:
            raise ValueError(f"No artifact with uri {uri} is in the `{metadata_store_id}` MetadataStore.")
        if len(rows) > 1:
            _LOG.warning("Mutiple artifacts with uri %s were found; returning the newest, %s", uri, rows[0].name)
        return Artifact._from_row(st, rows[0])

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
    ) -> list[Artifact]:
        """Artifacts matching a Vertex filter (see trackbook.filters), oldest first unless `order_by` says."""
        return Artifact._list(filter, order_by, store)  # plain Artifacts, whatever schema class asks

    # -- properties -------------------------------------------------------------------------------------------

    @property
    def uri(self) -> str | None:
        return self._row.uri

    @property
    def state(self) -> ArtifactState:
        return ArtifactState.parse(self._row.state)

    @property
    def size(self) -> int | None:
        """Bytes of the local file or directory at `uri` when the artifact was recorded (None if not local)."""
        return self._row.size

    @property
    def content_hash(self) -> str | None:
        """`sha256:<hex>` of the local file (or directory) content, or None when not local or too large."""
        return self._row.content_hash

    @property
    def lineage_console_uri(self) -> None:
        """None: there is no console; `trackbook.lineage(artifact)` gives the lineage graph."""
        return None

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out["uri"] = self.uri or ""
        out["state"] = self.state.name
        return out

    # -- changes ----------------------------------------------------------------------------------------------

    def update(
        self,
        metadata: dict[str, Any] | None = None,
        description: str | None = None,
        credentials: Any = None,
        *,
        state: Any = None,
    ) -> None:
        """Merge `metadata` one level deep (as Vertex), set the description and, if given, the state."""
        patch = check_metadata(metadata) if metadata else None
        check_text(description, "description")
        state_name = ArtifactState.parse(state).name if state is not None else None
        self._row = self._saved_store().update_artifact(
            self._row.id, metadata=patch, description=description or None, state=state_name
        )

    def same_content(self) -> list[Artifact]:
        """Other artifacts with the same content hash (the same data under another path or name)."""
        if not self.content_hash:
            return []
        st = self._saved_store()
        return [Artifact._from_row(st, r) for r in st.artifacts_with_hash(self.content_hash) if r.id != self._row.id]

    def refresh_file_facts(self) -> None:
        """Re-measure size and content hash of a local `uri` (e.g. after the file was written)."""
        facts = file_facts(self.uri)
        if facts is not None:
            self._row = self._saved_store().update_artifact(self._row.id, file_facts=facts)

    def delete(self, *, force: bool = False) -> None:
        """Delete the artifact. When executions used or made it, ValueError says which, unless `force=True`,
        which deletes those events with it (the executions stay)."""
        st = self._saved_store()
        events = st.artifact_events([self._row.id])
        if events and not force:
            execs = st.executions_by_ids({e.execution_id for e in events})
            uses = "; ".join(
                f"{e.type.lower()} of execution {execs[e.execution_id].name!r}"
                + (f" ({execs[e.execution_id].display_name})" if execs[e.execution_id].display_name else "")
                for e in events if e.execution_id in execs
            )
            raise ValueError(
                f"artifact {self.name!r} is used by {len(events)} lineage event(s): {uses}. Deleting it would "
                "leave those executions with a missing input or output. Call delete(force=True) to delete the "
                "artifact together with these events (the executions are kept)."
            )
        st.delete_artifacts([self._row.id])


def create_row(
    st: Store,
    schema_title: str,
    *,
    resource_id: str | None = None,
    uri: str | None = None,
    display_name: str | None = None,
    schema_version: str | None = None,
    description: str | None = None,
    metadata: dict[str, Any] | None = None,
    state: Any = ArtifactState.LIVE,
    attribute_to: tuple[int, ...] = (),
) -> ArtifactRow:
    """Check the arguments (nothing is written on a bad one), measure a local uri, insert the row."""
    check_schema_title(schema_title, "system.Dataset")
    check_text(uri, "uri")
    meta = check_fields("Artifact", resource_id=resource_id, display_name=display_name,
                        schema_version=schema_version, description=description, metadata=metadata)
    state_name = ArtifactState.parse(state).name
    size, content_hash = file_facts(uri) or (None, None)
    return st.create_artifact(
        resource_id or new_resource_id(), schema_title, schema_version=schema_version, uri=uri,
        display_name=display_name, description=description, metadata=meta, state=state_name, size=size,
        content_hash=content_hash, attribute_to=attribute_to,
    )


# -- local files --------------------------------------------------------------------------------------------


def local_path(uri: str | None) -> Path | None:
    """The local path a uri names (a plain path or file://), or None for remote uris (gs://, https://, ...)."""
    if not uri:
        return None
    if uri.startswith("file://"):
        return Path(unquote(urlparse(uri).path))
    if "://" in uri:
        return None
    return Path(uri).expanduser()


def file_facts(uri: str | None) -> tuple[int, str | None] | None:
    """(size in bytes, "sha256:<hex>") of a local file or directory, or None when the uri is not a local path
    that exists. Data larger than TRACKBOOK_HASH_MAX_BYTES (4 GiB by default) is sized but not hashed.

    A directory's hash covers its files' relative paths and contents, so a copied directory hashes the same.
    """
    path = local_path(uri)
    if path is None:
        return None
    try:
        if path.is_file():
            size = path.stat().st_size
            return size, (_hash_file(path) if size <= HASH_MAX_BYTES else None)
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file())
            size = sum(p.stat().st_size for p in files)
            if size > HASH_MAX_BYTES:
                return size, None
            digest = hashlib.sha256()
            for p in files:
                digest.update(p.relative_to(path).as_posix().encode() + b"\0")
                digest.update(_hash_file(p).encode() + b"\n")
            return size, "sha256:" + digest.hexdigest()
    except OSError:
        return None  # unreadable: record the artifact without file facts
    return None


def _hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return "sha256:" + digest.hexdigest()
