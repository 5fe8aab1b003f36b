"""The base of Artifact, Execution and Context: lookup by resource name, get/get_or_create/list/update/delete,
with the names and semantics of Vertex's `aiplatform.metadata.resource._Resource`.

A resource is bound to one store. Resource names look like `<store path>#artifacts/<id>`; the id alone (or a
Vertex name `projects/.../artifacts/<id>`) finds it in the session's store, a full local name in its own file.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import numbers
import re
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar

from . import filters
from .exceptions import AlreadyExists, NotFound
from .session import resolve
from .store import Store

RESOURCE_ID = re.compile(r"^[a-z0-9][a-z0-9-]{3,127}$")


def new_resource_id() -> str:
    """A fresh resource id (a UUID, as the Vertex service generates)."""
    return str(uuid.uuid4())


def check_resource_id(resource_id: object, what: str) -> str:
    """Vertex's rule for user-chosen ids: 4 to 128 characters of a-z, 0-9 and '-', not starting with '-'."""
    if not isinstance(resource_id, str):
        raise TypeError(f"{what} resource_id must be a str, got {type(resource_id).__name__}")
    if not RESOURCE_ID.match(resource_id):
        raise ValueError(
            f"{what} resource_id {resource_id!r} is not valid: use 4 to 128 characters of lowercase letters a-z, "
            "digits and '-', starting with a letter or digit (Vertex rejects other ids)"
        )
    return resource_id


def check_text(value: object, what: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise TypeError(f"{what} must be a str, got {type(value).__name__}")
    return value


def check_schema_title(schema_title: object, example: str) -> str:
    if not isinstance(schema_title, str) or not schema_title:
        raise TypeError(f"schema_title must be a non-empty str such as {example!r}, got {schema_title!r}")
    return schema_title


def check_fields(
    what: str,
    *,
    resource_id: object,
    display_name: object,
    schema_version: object,
    description: object,
    metadata: object,
) -> str:
    """Check the fields every resource has (TypeError/ValueError naming the bad one, before anything is
    written) and return the metadata as JSON text. A `resource_id` of None is allowed (a new id is made)."""
    if resource_id is not None:
        check_resource_id(resource_id, what)
    check_text(display_name, "display_name")
    check_text(schema_version, "schema_version")
    check_text(description, "description")
    return dumps(check_metadata(metadata))


def check_metadata(metadata: object, what: str = "metadata") -> dict[str, Any]:
    """A JSON-able copy of a metadata dict: str keys; values str, number, bool, None, lists and dicts of them.

    numpy scalars and 0-d arrays are converted; NaN and infinity are refused (Vertex cannot read them back).
    """
    if metadata is None:
        return {}
    if not isinstance(metadata, Mapping):
        raise TypeError(f"{what} must be a dict, got {type(metadata).__name__}")
    return {_key(k, what): _json_value(v, f"{what}[{k!r}]") for k, v in metadata.items()}


def _key(key: object, what: str) -> str:
    if not isinstance(key, str):
        raise TypeError(f"{what} keys must be str, got {type(key).__name__} {key!r}")
    return key


def _json_value(value: Any, where: str) -> Any:
    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        f = float(value)
        if not math.isfinite(f):
            raise ValueError(f"{where} is {f}; metadata numbers must be finite")
        return f
    if isinstance(value, Mapping):
        return {_key(k, where): _json_value(v, f"{where}[{k!r}]") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_value(v, f"{where}[{i}]") for i, v in enumerate(value)]
    item = getattr(value, "item", None)  # numpy scalars and 0-d arrays
    if item is not None and getattr(value, "shape", ()) == ():
        return _json_value(item(), where)
    tolist = getattr(value, "tolist", None)  # numpy arrays
    if tolist is not None:
        return _json_value(tolist(), where)
    raise TypeError(
        f"{where} is of type {type(value).__name__}; metadata values must be str, int, float, bool, None, "
        "or lists and dicts of those"
    )


def dumps(metadata: Mapping[str, Any]) -> str:
    return json.dumps(metadata, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def split_name(resource_name: object, noun: str, store: str | Store | None) -> tuple[str, str | Store | None]:
    """(resource id, store) for `id`, `projects/.../<noun>/<id>` or `<store path>#<noun>/<id>`."""
    if not isinstance(resource_name, str):
        raise TypeError(f"resource name must be a str, got {type(resource_name).__name__}")
    name = resource_name
    marker = f"{noun}/"
    if "#" in name and store is None:
        path, _, rest = name.rpartition("#")
        if rest.startswith(marker):  # "<store path>#<noun>/<id>", as resource_name reads; else '#' is in the id
            name, store = rest, existing_store(path, f"{noun[:-1]} {rest[len(marker):]!r}")
    at = name.rfind(marker)
    if at >= 0 and (at == 0 or name[at - 1] in "/#"):
        name = name[at + len(marker):]
    return name, store


def existing_store(path: str, what: str) -> str:
    """`path` when a store file is there; NotFound otherwise (a lookup never creates a store)."""
    if not Path(path).expanduser().is_file():
        raise NotFound(f"404 {what} not found: there is no store at {path}")
    return path


def timestamp(seconds: float | None) -> _dt.datetime | None:
    return None if seconds is None else _dt.datetime.fromtimestamp(seconds, tz=_dt.timezone.utc)


class Resource:
    """What artifacts, executions and contexts share. Subclasses set `_noun`, `_what` and `_kind` and implement
    `_lookup`; their public methods keep Vertex's signatures and call the shared `_get_or_create` and `_list`."""

    _noun: ClassVar[str]  # in resource names: "artifacts", "executions", "contexts"
    _what: ClassVar[str]  # in messages: "Artifact", "Execution", "Context"
    _kind: ClassVar[str]  # the store's node kind: "artifact", "execution", "context"
    _store: Store
    _row: Any

    # -- binding ----------------------------------------------------------------------------------------------

    def _init_from_name(self, resource_name: str, store: str | Store | None) -> None:
        rid, where = split_name(resource_name, self._noun, store)
        st, _ = resolve(where)
        row = self._lookup(st, rid)
        if row is None:
            raise NotFound(f"404 {self._what} {rid!r} not found in {st.path}")
        self._store = st
        self._row = row

    @classmethod
    def _lookup(cls, st: Store, resource_id: str) -> Any:
        """The row answering to a resource id, or None."""
        raise NotImplementedError

    @classmethod
    def _from_row(cls, st: Store, row: Any) -> Any:
        self = cls.__new__(cls)
        self._store = st
        self._row = row
        return self

    def _reload(self) -> Any:
        row = self._saved_store().node(self._kind, self._row.id)
        if row is None:
            raise NotFound(f"404 {self._what} {self.name!r} was deleted")
        return row

    def _bind_new(self, store: str | Store | None, insert: Callable[[Store], Any]) -> Any:
        """Store a resource that so far was only described (a typed schema object such as Dataset) with
        `insert(store)`, and bind this object to the stored row; RuntimeError when it was stored already."""
        if getattr(self, "_store", None) is not None:
            raise RuntimeError(f"{type(self).__name__} {self.name!r} was created already")
        st = resolve(store)[0]
        self._row = insert(st)
        self._store = st
        return self

    def _saved_store(self) -> Store:
        st = getattr(self, "_store", None)
        if st is None:
            raise RuntimeError(f"{type(self).__name__} resource has not been created; call .create() first")
        return st

    # -- lookup -----------------------------------------------------------------------------------------------

    @classmethod
    def get(
        cls,
        resource_id: str,
        metadata_store_id: str = "default",
        project: str | None = None,
        location: str | None = None,
        credentials: Any = None,
        *,
        store: str | Store | None = None,
    ) -> Any:
        """The resource, or None when it does not exist."""
        try:
            return cls(resource_id, store=store)  # type: ignore[call-arg]
        except NotFound:
            return None

    @classmethod
    def _get_or_create(cls, resource_id: str, schema_title: str, store: str | Store | None, **fields: Any) -> Any:
        """The resource with this id unchanged, or `cls.create(schema_title, resource_id=..., **fields)`; one
        that another process created meanwhile is returned too."""
        found = cls.get(resource_id, store=store)
        if found is not None:
            return found
        try:
            return cls.create(schema_title, resource_id=resource_id, store=store, **fields)  # type: ignore[attr-defined]
        except AlreadyExists:
            return cls(resource_id, store=store)  # type: ignore[call-arg]

    @classmethod
    def _list(cls, filter: str | None, order_by: str | None, store: str | Store | None) -> list[Any]:
        """The resources of this kind matching a Vertex filter (see trackbook.filters), as `cls` objects."""
        st = resolve(store)[0]
        where = filters.resolve(filter, cls._kind) if filter is not None else None
        return [cls._from_row(st, row) for row in st.list_nodes(cls._kind, where, order_by)]

    @classmethod
    def _row_id(cls, st: Store, resource_name: object, outcome: str) -> int:
        """The row id of the resource `resource_name` names in `st`; NotFound, saying `outcome`, when missing."""
        rid, _ = split_name(resource_name, cls._noun, st)
        row = cls._lookup(st, rid)
        if row is None:
            raise NotFound(f"404 {cls._what} {rid!r} not found in {st.path}; {outcome}")
        return int(row.id)

    # -- properties -------------------------------------------------------------------------------------------

    @property
    def name(self) -> str:
        """The resource id."""
        return str(self._row.name)

    @property
    def resource_name(self) -> str:
        return f"{self._saved_store().path}#{self._noun}/{self.name}"

    @property
    def schema_title(self) -> str:
        return str(self._row.schema_title)

    @property
    def schema_version(self) -> str:
        return getattr(self._row, "schema_version", None) or ""

    @property
    def display_name(self) -> str:
        return self._row.display_name or ""

    @property
    def description(self) -> str:
        return self._row.description or ""

    @property
    def metadata(self) -> dict[str, Any]:
        """A copy of the metadata as a dict."""
        return dict(json.loads(self._row.metadata or "{}"))

    @property
    def create_time(self) -> _dt.datetime | None:
        return timestamp(self._row.create_time)

    @property
    def update_time(self) -> _dt.datetime | None:
        return timestamp(self._row.update_time)

    @property
    def project(self) -> None:
        return None

    @property
    def location(self) -> None:
        return None

    @property
    def credentials(self) -> None:
        return None

    @property
    def store(self) -> Store:
        """The store file holding this resource."""
        return self._saved_store()

    def sync_resource(self) -> None:
        """Re-read the resource from the store (properties are cached like Vertex's `gca_resource`)."""
        self._row = self._reload()

    def to_dict(self) -> dict[str, Any]:
        """The resource as Vertex's JSON shape (camelCase keys, RFC-3339 times)."""
        out: dict[str, Any] = {
            "name": self.resource_name,
            "displayName": self.display_name,
            "schemaTitle": self.schema_title,
            "schemaVersion": self.schema_version,
            "metadata": self.metadata,
            "description": self.description,
        }
        for key, when in (("createTime", self.create_time), ("updateTime", self.update_time)):
            if when is not None:
                out[key] = when.isoformat().replace("+00:00", "Z")
        return out

    def __eq__(self, other: object) -> bool:
        # a typed schema object (Dataset, ContainerExecution...) equals the plain one for the same row
        return (
            isinstance(other, Resource)
            and other._noun == self._noun
            and getattr(self, "_store", None) is not None
            and getattr(other, "_store", None) is not None
            and (self._store.path, self._row.id) == (other._store.path, other._row.id)
        )

    def __hash__(self) -> int:
        st = getattr(self, "_store", None)
        return hash((self._noun, st.path if st else None, self._row.id))

    def __repr__(self) -> str:
        if getattr(self, "_store", None) is None:
            return f"<trackbook.{type(self).__name__} (not created) schema_title={self.schema_title!r}>"
        label = f" {self.display_name!r}" if self.display_name else ""
        return f"<trackbook.{type(self).__name__} {self.name!r}{label} {self.schema_title}>"

