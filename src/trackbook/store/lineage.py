"""SQL for the ML Metadata lineage graph: artifacts, executions, events, attributions, associations, parent
contexts, metadata filters and lineage walks. Mixed into `Store` (uses `self.conn` and `self.write()`).

Graph nodes travel as signed ids in walks: an artifact is `+id`, an execution is `-id`. Contexts are the rows
of the `context` table; a run's `experiment_id` counts as a parent link beside the `parent_context` rows, so
experiment runs and pipeline runs are contexts of the graph like any other.
"""

from __future__ import annotations

import copy
import json
import math
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..exceptions import AlreadyExists, NotFound
from .sql import CONTEXT_COLUMNS, EXPERIMENT_RUN, PIPELINE_RUN, chunks, delete_in, marks, write_state

if TYPE_CHECKING:
    from ..filters import Typed
    from .core import Context

MAX_PARENTS = 10  # as in Vertex: a context may have at most 10 parents


@dataclass(frozen=True)
class Artifact:
    """One row of the artifact table."""

    id: int
    name: str
    schema_title: str
    schema_version: str | None
    uri: str | None
    display_name: str | None
    description: str | None
    metadata: str
    state: str
    create_time: float
    update_time: float
    size: int | None = None
    content_hash: str | None = None


@dataclass(frozen=True)
class Execution:
    """One row of the execution table."""

    id: int
    name: str
    schema_title: str
    schema_version: str | None
    display_name: str | None
    description: str | None
    metadata: str
    state: str
    create_time: float
    update_time: float


@dataclass(frozen=True)
class Event:
    """One row of the event table: an artifact is the INPUT or OUTPUT of an execution."""

    execution_id: int
    artifact_id: int
    type: str
    path: str | None
    event_time: float


_ARTIFACT_COLUMNS = (
    "id, name, schema_title, schema_version, uri, display_name, description, metadata, state, "
    "create_time, update_time, size, content_hash"
)
_EXECUTION_COLUMNS = (
    "id, name, schema_title, schema_version, display_name, description, metadata, state, create_time, update_time"
)

# Filter fields -> SQL expressions over the alias `n`. Text columns compare as '' when NULL, as in Vertex
# where an unset string field is the empty string.
# What goes with a deleted artifact or execution: its events, links to contexts and metadata index.
_ARTIFACT_DELETES = (
    "DELETE FROM event WHERE artifact_id IN ({})",
    "DELETE FROM attribution WHERE artifact_id IN ({})",
    "DELETE FROM node_property WHERE kind = 'artifact' AND node_id IN ({})",
    "DELETE FROM artifact WHERE id IN ({})",
)
_EXECUTION_DELETES = (
    "DELETE FROM event WHERE execution_id IN ({})",
    "DELETE FROM association WHERE execution_id IN ({})",
    "DELETE FROM node_property WHERE kind = 'execution' AND node_id IN ({})",
    "DELETE FROM execution WHERE id IN ({})",
)
_TEXT = ("name", "display_name", "schema_title", "schema_version", "description", "uri", "content_hash")
_COLUMN_SQL = {c: f"COALESCE(n.{c}, '')" for c in _TEXT} | {
    "state": "n.state",
    "size": "n.size",
    "create_time": "n.create_time",
    "update_time": "n.update_time",
}
# A context's resource id: "<experiment>-<run>" for experiment runs, its name for everything else.
_CONTEXT_RESOURCE_ID = (
    "CASE WHEN n.schema_title = 'system.ExperimentRun' AND n.experiment_id <> 0 THEN"
    " (SELECT e.name FROM context e WHERE e.id = n.experiment_id) || '-' || n.name ELSE n.name END"
)
# Parent links between contexts: parent_context rows, and each run under its experiment. One recursive
# reference per walk keeps the recursive queries valid in PostgreSQL too.
_LINKS = (
    "links(child, parent) AS (SELECT child_id, parent_id FROM parent_context"
    " UNION ALL SELECT id, experiment_id FROM context WHERE experiment_id <> 0)"
)
_OPS = {"=": "=", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
_ORDER_COLUMNS = {"create_time": "n.create_time", "update_time": "n.update_time", "display_name": "n.display_name",
                  "name": "n.name", "schema_title": "n.schema_title", "id": "n.id"}


class LineageQueries:
    """Artifact and lineage-graph statements of `Store`."""

    conn: sqlite3.Connection

    def write(self) -> Any:  # provided by Store
        raise NotImplementedError

    def context_by_id(self, context_id: int) -> Context | None:  # provided by Store
        raise NotImplementedError

    def experiment(self, name: str) -> Context | None:  # provided by Store
        raise NotImplementedError

    def run(self, experiment_id: int, name: str) -> Context | None:  # provided by Store
        raise NotImplementedError

    # -- artifacts ------------------------------------------------------------------------------------------

    def create_artifact(
        self,
        name: str,
        schema_title: str,
        *,
        schema_version: str | None = None,
        uri: str | None = None,
        display_name: str | None = None,
        description: str | None = None,
        metadata: str = "{}",
        state: str = "LIVE",
        size: int | None = None,
        content_hash: str | None = None,
        attribute_to: Sequence[int] = (),
    ) -> Artifact:
        """Insert an artifact (and attribute it to contexts) in one transaction; AlreadyExists if `name` is taken."""
        now = time.time()
        try:
            with self.write() as conn:
                cur = conn.execute(
                    "INSERT INTO artifact (name, schema_title, schema_version, uri, display_name, description,"
                    " metadata, state, create_time, update_time, size, content_hash)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (name, schema_title, schema_version, uri, display_name, description, metadata, state, now, now,
                     size, content_hash),
                )
                artifact_id = int(cur.lastrowid)  # type: ignore[arg-type]
                _put_properties(conn, "artifact", artifact_id, metadata)
                conn.executemany(
                    "INSERT INTO attribution (context_id, artifact_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
                    [(c, artifact_id) for c in attribute_to],
                )
        except sqlite3.IntegrityError:
            raise AlreadyExists(f"409 Artifact with name {name!r} already exists") from None
        return self.artifact_by_id(artifact_id)

    def artifact_by_id(self, artifact_id: int) -> Artifact:
        row = self.conn.execute(f"SELECT {_ARTIFACT_COLUMNS} FROM artifact WHERE id = ?", (artifact_id,)).fetchone()
        if row is None:
            raise NotFound(f"404 Artifact {artifact_id} not found")
        return Artifact(*row)

    def artifact_by_name(self, name: str) -> Artifact | None:
        row = self.conn.execute(f"SELECT {_ARTIFACT_COLUMNS} FROM artifact WHERE name = ?", (name,)).fetchone()
        return Artifact(*row) if row else None

    def artifacts_by_ids(self, ids: Iterable[int]) -> dict[int, Artifact]:
        out: dict[int, Artifact] = {}
        for chunk in chunks(list(ids)):
            rows = self.conn.execute(
                f"SELECT {_ARTIFACT_COLUMNS} FROM artifact WHERE id IN ({marks(len(chunk))})", chunk
            ).fetchall()
            out.update((r[0], Artifact(*r)) for r in rows)
        return out

    def artifacts_with_hash(self, content_hash: str) -> list[Artifact]:
        """Every artifact whose content hash is `content_hash`, oldest first."""
        rows = self.conn.execute(
            f"SELECT {_ARTIFACT_COLUMNS} FROM artifact WHERE content_hash = ? ORDER BY create_time, id",
            (content_hash,),
        ).fetchall()
        return [Artifact(*r) for r in rows]

    def update_artifact(
        self,
        artifact_id: int,
        *,
        metadata: dict[str, Any] | None = None,
        description: str | None = None,
        state: str | None = None,
        file_facts: tuple[int | None, str | None] | None = None,
    ) -> Artifact:
        """Merge metadata (one level deep, as Vertex) and set the given fields, in one transaction."""
        with self.write() as conn:
            _require(conn, "artifact", artifact_id)
            _update_node(conn, "artifact", artifact_id, metadata, description, state)
            if file_facts is not None:
                conn.execute(
                    "UPDATE artifact SET size = ?, content_hash = ? WHERE id = ?", (*file_facts, artifact_id)
                )
        return self.artifact_by_id(artifact_id)

    # -- executions -----------------------------------------------------------------------------------------

    def create_execution(
        self,
        name: str,
        schema_title: str,
        *,
        schema_version: str | None = None,
        display_name: str | None = None,
        description: str | None = None,
        metadata: str = "{}",
        state: str = "RUNNING",
        associate_with: Sequence[int] = (),
    ) -> Execution:
        """Insert an execution (and associate it with contexts); AlreadyExists if `name` is taken."""
        now = time.time()
        try:
            with self.write() as conn:
                cur = conn.execute(
                    "INSERT INTO execution (name, schema_title, schema_version, display_name, description, metadata,"
                    " state, create_time, update_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (name, schema_title, schema_version, display_name, description, metadata, state, now, now),
                )
                execution_id = int(cur.lastrowid)  # type: ignore[arg-type]
                _put_properties(conn, "execution", execution_id, metadata)
                conn.executemany(
                    "INSERT INTO association (context_id, execution_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
                    [(c, execution_id) for c in associate_with],
                )
        except sqlite3.IntegrityError:
            raise AlreadyExists(f"409 Execution with name {name!r} already exists") from None
        return self.execution_by_id(execution_id)

    def execution_by_id(self, execution_id: int) -> Execution:
        row = self.conn.execute(
            f"SELECT {_EXECUTION_COLUMNS} FROM execution WHERE id = ?", (execution_id,)
        ).fetchone()
        if row is None:
            raise NotFound(f"404 Execution {execution_id} not found")
        return Execution(*row)

    def execution_by_name(self, name: str) -> Execution | None:
        row = self.conn.execute(f"SELECT {_EXECUTION_COLUMNS} FROM execution WHERE name = ?", (name,)).fetchone()
        return Execution(*row) if row else None

    def executions_by_ids(self, ids: Iterable[int]) -> dict[int, Execution]:
        out: dict[int, Execution] = {}
        for chunk in chunks(list(ids)):
            rows = self.conn.execute(
                f"SELECT {_EXECUTION_COLUMNS} FROM execution WHERE id IN ({marks(len(chunk))})", chunk
            ).fetchall()
            out.update((r[0], Execution(*r)) for r in rows)
        return out

    def update_execution(
        self,
        execution_id: int,
        *,
        metadata: dict[str, Any] | None = None,
        description: str | None = None,
        state: str | None = None,
    ) -> Execution:
        """Merge metadata (one level deep, as Vertex) and set the given fields, in one transaction."""
        with self.write() as conn:
            _require(conn, "execution", execution_id)
            _update_node(conn, "execution", execution_id, metadata, description, state)
        return self.execution_by_id(execution_id)

    # -- events ---------------------------------------------------------------------------------------------

    def add_events(
        self,
        execution_id: int,
        artifact_ids: Sequence[int],
        event_type: str,
        *,
        paths: Sequence[str | None] | None = None,
        attribute_to: Sequence[int] = (),
    ) -> None:
        """Link artifacts to an execution as its INPUTs or OUTPUTs, and attribute them to contexts, atomically.

        NotFound, with nothing written, when the execution or one of the artifacts does not exist; an event
        that exists already is kept (as Vertex skips duplicates).
        """
        if event_type not in ("INPUT", "OUTPUT"):
            raise ValueError(f"event type must be INPUT or OUTPUT, got {event_type!r}")
        ids = list(artifact_ids)
        paths = list(paths) if paths is not None else [None] * len(ids)
        now = time.time()
        with self.write() as conn:
            _require(conn, "execution", execution_id)
            found = set()
            for chunk in chunks(ids):
                found.update(r[0] for r in conn.execute(
                    f"SELECT id FROM artifact WHERE id IN ({marks(len(chunk))})", chunk
                ))
            missing = [i for i in ids if i not in found]
            if missing:
                raise NotFound(f"404 Artifact {missing[0]} not found; no event was recorded")
            conn.executemany(
                "INSERT INTO event (execution_id, artifact_id, type, path, event_time) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (execution_id, artifact_id, type) DO NOTHING",
                [(execution_id, a, event_type, p, now) for a, p in zip(ids, paths)],
            )
            conn.executemany(
                "INSERT INTO attribution (context_id, artifact_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
                [(c, a) for c in attribute_to for a in ids],
            )
            conn.execute("UPDATE execution SET update_time = ? WHERE id = ?", (now, execution_id))

    def execution_artifacts(self, execution_id: int, event_type: str | None = None) -> list[tuple[Artifact, Event]]:
        """The artifacts linked to an execution (optionally only INPUT or OUTPUT), in the order linked."""
        sql = (
            f"SELECT {_prefixed('a', _ARTIFACT_COLUMNS)}, v.execution_id, v.artifact_id, v.type, v.path,"
            " v.event_time FROM event v JOIN artifact a ON a.id = v.artifact_id WHERE v.execution_id = ?"
        )
        args: list[Any] = [execution_id]
        if event_type is not None:
            sql += " AND v.type = ?"
            args.append(event_type)
        rows = self.conn.execute(sql + " ORDER BY v.event_time, a.id", args).fetchall()
        n = len(_ARTIFACT_COLUMNS.split(", "))
        return [(Artifact(*r[:n]), Event(*r[n:])) for r in rows]

    def artifact_events(self, artifact_ids: Sequence[int]) -> list[Event]:
        """Every event touching these artifacts."""
        out: list[Event] = []
        for chunk in chunks(list(artifact_ids)):
            out += [Event(*r) for r in self.conn.execute(
                "SELECT execution_id, artifact_id, type, path, event_time FROM event"
                f" WHERE artifact_id IN ({marks(len(chunk))}) ORDER BY event_time",
                chunk,
            )]
        return out

    def execution_events(self, execution_ids: Sequence[int]) -> list[Event]:
        """Every event touching these executions."""
        out: list[Event] = []
        for chunk in chunks(list(execution_ids)):
            out += [Event(*r) for r in self.conn.execute(
                "SELECT execution_id, artifact_id, type, path, event_time FROM event"
                f" WHERE execution_id IN ({marks(len(chunk))}) ORDER BY event_time",
                chunk,
            )]
        return out

    # -- deletion -------------------------------------------------------------------------------------------

    def delete_artifacts(self, artifact_ids: Sequence[int]) -> None:
        """Delete artifacts with their events, attributions and metadata index (callers check usage first)."""
        ids = list(artifact_ids)
        with self.write() as conn:
            delete_in(conn, ids, _ARTIFACT_DELETES)

    def delete_executions(self, execution_ids: Sequence[int]) -> None:
        """Delete executions with their events, associations and metadata index."""
        ids = list(execution_ids)
        with self.write() as conn:
            delete_in(conn, ids, _EXECUTION_DELETES)

    # -- contexts -------------------------------------------------------------------------------------------

    def create_context(
        self,
        name: str,
        schema_title: str,
        *,
        experiment_id: int = 0,
        schema_version: str | None = None,
        display_name: str | None = None,
        description: str | None = None,
        metadata: str = "{}",
        state: str | None = None,
        params: str = "{}",
        parent_ids: Sequence[int] = (),
        owned_by: tuple[str, int] | None = None,
    ) -> Context:
        """Insert a context (a generic one, or a pipeline run with its params) and its parent links.

        AlreadyExists when another context already answers to the same resource id.
        """
        from .core import Context as ContextRow

        now = time.time()
        host, pid = owned_by if owned_by else (None, None)
        beat = now if owned_by else None
        try:
            with self.write() as conn:
                if self._context_id_taken(conn, name, experiment_id, schema_title):
                    raise sqlite3.IntegrityError
                cur = conn.execute(
                    "INSERT INTO context (schema_title, experiment_id, name, display_name, description, metadata,"
                    " params, state, create_time, update_time, host, pid, heartbeat)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (schema_title, experiment_id, name, display_name, description, metadata, params, state, now,
                     now, host, pid, beat),
                )
                context_id = int(cur.lastrowid)  # type: ignore[arg-type]
                _put_properties(conn, "context", context_id, metadata)
                conn.executemany(
                    "INSERT INTO parent_context (parent_id, child_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
                    [(p, context_id) for p in parent_ids],
                )
        except sqlite3.IntegrityError:
            raise AlreadyExists(f"409 Context with name {name!r} already exists") from None
        row = conn.execute(f"SELECT {CONTEXT_COLUMNS} FROM context WHERE id = ?", (context_id,)).fetchone()
        return ContextRow(*row)

    def _context_id_taken(self, conn: sqlite3.Connection, name: str, experiment_id: int, schema_title: str) -> bool:
        # Resource ids are global, as in Vertex: a top-level context or a pipeline run must not share its id
        # with another such context anywhere (pipeline runs live under their experiment's id).
        if schema_title == EXPERIMENT_RUN and experiment_id:
            return False  # the (experiment_id, name) unique key covers runs
        row = conn.execute(
            "SELECT 1 FROM context WHERE name = ? AND (experiment_id = 0 OR schema_title <> ?)",
            (name, EXPERIMENT_RUN),
        ).fetchone()
        return row is not None

    def contexts_named(self, name: str) -> list[Context]:
        """Contexts whose own resource id is `name` (top-level contexts and pipeline runs), oldest first."""
        from .core import Context as ContextRow

        rows = self.conn.execute(
            f"SELECT {CONTEXT_COLUMNS} FROM context WHERE name = ? AND (experiment_id = 0 OR schema_title <> ?)"
            " ORDER BY id",
            (name, EXPERIMENT_RUN),
        ).fetchall()
        return [ContextRow(*r) for r in rows]

    def context_by_resource_id(self, resource_id: str) -> Context | None:
        """The context answering to a resource id: `<experiment>-<run>` for runs, the name for the rest."""
        named = self.contexts_named(resource_id)
        if named:
            return named[0]
        # "<experiment>-<run>": try each '-' as the split point (names may contain '-').
        at = resource_id.find("-")
        while at > 0:
            exp = self.experiment(resource_id[:at])
            if exp is not None:
                row = self.run(exp.id, resource_id[at + 1:])
                if row is not None and row.schema_title == EXPERIMENT_RUN:
                    return row
            at = resource_id.find("-", at + 1)
        return None

    def update_context_fields(
        self, context_id: int, *, metadata: dict[str, Any] | None = None, description: str | None = None
    ) -> None:
        """Merge a context's metadata (one level deep) and/or set its description, keeping the metadata index."""
        with self.write() as conn:
            now = time.time()
            if description is not None:
                conn.execute("UPDATE context SET description = ?, update_time = ? WHERE id = ?",
                             (description, now, context_id))
            if metadata is not None:
                row = conn.execute("SELECT metadata FROM context WHERE id = ?", (context_id,)).fetchone()
                if row is None:
                    raise NotFound(f"404 Context {context_id} not found")
                text = _dumps(merge_metadata(json.loads(row[0] or "{}"), metadata))
                conn.execute("UPDATE context SET metadata = ?, update_time = ? WHERE id = ?", (text, now, context_id))
                _put_properties(conn, "context", context_id, text)

    def set_run_values(
        self,
        context_id: int,
        *,
        params: str | None = None,
        metrics: str | None = None,
        state: str | None = None,
        release: bool = False,
    ) -> None:
        """Write a pipeline run's params/metrics JSON and state in one transaction (`release` drops the pid)."""
        now = time.time()
        with self.write() as conn:
            if params is not None:
                conn.execute("UPDATE context SET params = ?, update_time = ? WHERE id = ?", (params, now, context_id))
            if metrics is not None:
                conn.execute("UPDATE context SET metrics = ?, update_time = ? WHERE id = ?",
                             (metrics, now, context_id))
            if state is not None:
                write_state(conn, context_id, state, now)
            if release:
                conn.execute("UPDATE context SET pid = NULL WHERE id = ?", (context_id,))

    def node(self, kind: str, node_id: int) -> Artifact | Execution | Context | None:
        """The artifact, execution or context row with this id, or None."""
        table, columns, row_type = _node_table(kind)
        row = self.conn.execute(f"SELECT {columns} FROM {table} WHERE id = ?", (node_id,)).fetchone()
        return row_type(*row) if row else None

    def attribute(self, context_id: int, artifact_ids: Iterable[int]) -> None:
        """Attribute artifacts to a context (existing links are kept)."""
        with self.write() as conn:
            conn.executemany(
                "INSERT INTO attribution (context_id, artifact_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
                [(context_id, a) for a in artifact_ids],
            )

    def associate(self, context_id: int, execution_ids: Iterable[int]) -> None:
        """Associate executions with a context (existing links are kept)."""
        with self.write() as conn:
            conn.executemany(
                "INSERT INTO association (context_id, execution_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
                [(context_id, e) for e in execution_ids],
            )

    def link_context(self, context_id: int, artifact_ids: Sequence[int], execution_ids: Sequence[int]) -> None:
        """Attribute artifacts and associate executions in one transaction; NotFound (nothing written) if any
        of them, or the context, is missing."""
        with self.write() as conn:
            if conn.execute("SELECT 1 FROM context WHERE id = ?", (context_id,)).fetchone() is None:
                raise NotFound(f"404 Context {context_id} not found")
            for table, ids in (("artifact", artifact_ids), ("execution", execution_ids)):
                for i in ids:
                    _require(conn, table, i)
            conn.executemany(
                "INSERT INTO attribution (context_id, artifact_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
                [(context_id, a) for a in artifact_ids],
            )
            conn.executemany(
                "INSERT INTO association (context_id, execution_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
                [(context_id, e) for e in execution_ids],
            )

    def attributed_artifacts(self, context_id: int, schema_title: str | Sequence[str] | None = None) -> list[Artifact]:
        """Artifacts attributed to a context (optionally of some schema titles), oldest first."""
        sql = (
            f"SELECT {_prefixed('a', _ARTIFACT_COLUMNS)} FROM artifact a"
            " JOIN attribution t ON t.artifact_id = a.id WHERE t.context_id = ?"
        )
        args: list[Any] = [context_id]
        if schema_title is not None:
            titles = [schema_title] if isinstance(schema_title, str) else list(schema_title)
            sql += f" AND a.schema_title IN ({marks(len(titles))})"
            args += titles
        return [Artifact(*r) for r in self.conn.execute(sql + " ORDER BY a.create_time, a.id", args).fetchall()]

    def associated_executions(
        self, context_id: int, schema_title: str | Sequence[str] | None = None
    ) -> list[Execution]:
        """Executions associated with a context (optionally of some schema titles), oldest first."""
        sql = (
            f"SELECT {_prefixed('x', _EXECUTION_COLUMNS)} FROM execution x"
            " JOIN association s ON s.execution_id = x.id WHERE s.context_id = ?"
        )
        args: list[Any] = [context_id]
        if schema_title is not None:
            titles = [schema_title] if isinstance(schema_title, str) else list(schema_title)
            sql += f" AND x.schema_title IN ({marks(len(titles))})"
            args += titles
        return [Execution(*r) for r in self.conn.execute(sql + " ORDER BY x.create_time, x.id", args).fetchall()]

    def parent_contexts(self, context_id: int) -> list[Context]:
        """The parents of a context: its parent_context rows and, for a run, its experiment."""
        from .core import Context as ContextRow

        rows = self.conn.execute(
            f"SELECT {_prefixed('p', CONTEXT_COLUMNS)} FROM context p WHERE p.id IN ("
            " SELECT parent_id FROM parent_context WHERE child_id = ?"
            " UNION SELECT experiment_id FROM context WHERE id = ? AND experiment_id <> 0) ORDER BY p.id",
            (context_id, context_id),
        ).fetchall()
        return [ContextRow(*r) for r in rows]

    def child_contexts(self, context_id: int, schema_title: str | None = None) -> list[Context]:
        """The children of a context: parent_context rows and, for an experiment, its runs."""
        from .core import Context as ContextRow

        sql = (
            f"SELECT {_prefixed('c', CONTEXT_COLUMNS)} FROM context c WHERE (c.id IN"
            " (SELECT child_id FROM parent_context WHERE parent_id = ?) OR c.experiment_id = ?)"
        )
        args: list[Any] = [context_id, context_id]
        if schema_title is not None:
            sql += " AND c.schema_title = ?"
            args.append(schema_title)
        return [ContextRow(*r) for r in self.conn.execute(sql + " ORDER BY c.id", args).fetchall()]

    def add_child_contexts(self, parent_id: int, child_ids: Sequence[int], *, adopt_runs: bool = False) -> None:
        """Make contexts children of `parent_id`, atomically. ValueError (nothing written) for a cycle or a child
        that would get more than MAX_PARENTS parents.

        With `adopt_runs`, a top-level pipeline run becomes a run of the parent experiment (its `experiment_id`
        is set), which is how Vertex files a pipeline job under an experiment.
        """
        with self.write() as conn:
            ancestors = set(_ancestors(conn, [parent_id])) | {parent_id}
            for child in child_ids:
                if child in ancestors:
                    raise ValueError(self._cycle_message(child, parent_id))
                parents = conn.execute(
                    "SELECT COUNT(*) FROM (SELECT parent_id FROM parent_context WHERE child_id = ? AND parent_id <> ?"
                    " UNION SELECT experiment_id FROM context WHERE id = ? AND experiment_id NOT IN (0, ?)) p",
                    (child, parent_id, child, parent_id),
                ).fetchone()[0]
                if parents >= MAX_PARENTS:
                    raise ValueError(
                        f"context {self._named(child)!r} already has {parents} parents; at most {MAX_PARENTS} are"
                        " allowed; nothing was added"
                    )
            for child in child_ids:
                adopted = 0
                if adopt_runs:
                    adopted = conn.execute(
                        "UPDATE context SET experiment_id = ? WHERE id = ? AND experiment_id = 0 AND schema_title = ?",
                        (parent_id, child, PIPELINE_RUN),
                    ).rowcount
                if not adopted:
                    conn.execute(
                        "INSERT INTO parent_context (parent_id, child_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
                        (parent_id, child),
                    )

    def _cycle_message(self, child_id: int, parent_id: int) -> str:
        """Why `child_id` may not go below `parent_id`, naming both by resource id as the user knows them."""
        child, parent = self._named(child_id), self._named(parent_id)
        if child_id == parent_id:
            return f"adding context {child!r} as a child of itself would make a cycle; nothing was added"
        return (
            f"adding context {child!r} as a child of {parent!r} would make a cycle ({parent!r} is already below"
            f" {child!r}); nothing was added"
        )

    def _named(self, context_id: int) -> str:
        """A context's resource id for a message (its integer id when the row is gone)."""
        row = self.context_by_id(context_id)
        return self.context_resource_id(row) if row is not None else str(context_id)

    def context_resource_id(self, row: Context) -> str:
        """A context's resource id: `<experiment>-<run>` for an experiment run, its name otherwise."""
        if row.schema_title == EXPERIMENT_RUN and row.experiment_id:
            exp = self.context_by_id(row.experiment_id)
            if exp is not None:
                return f"{exp.name}-{row.name}"
        return row.name

    def descendant_contexts(self, context_ids: Sequence[int]) -> list[int]:
        """The given contexts and all their descendants (through parent links and experiment runs)."""
        ids = list(context_ids)
        rows = self.conn.execute(
            f"WITH RECURSIVE {_LINKS}, down(id) AS ("
            f" SELECT id FROM context WHERE id IN ({marks(len(ids))})"
            " UNION SELECT l.child FROM down d JOIN links l ON l.parent = d.id"
            ") SELECT id FROM down",
            ids,
        ).fetchall() if ids else []
        return [r[0] for r in rows]

    def node_contexts(self, artifact_ids: Sequence[int], execution_ids: Sequence[int]) -> list[tuple[int, int]]:
        """(signed node id, context id) for every attribution and association of these nodes."""
        out: list[tuple[int, int]] = []
        for chunk in chunks(list(artifact_ids)):
            out += self.conn.execute(
                f"SELECT artifact_id, context_id FROM attribution WHERE artifact_id IN ({marks(len(chunk))})", chunk
            ).fetchall()
        for chunk in chunks(list(execution_ids)):
            out += [(-e, c) for e, c in self.conn.execute(
                f"SELECT execution_id, context_id FROM association WHERE execution_id IN ({marks(len(chunk))})",
                chunk,
            )]
        return out

    def contexts_by_ids(self, ids: Iterable[int]) -> dict[int, Context]:
        from .core import Context as ContextRow

        out: dict[int, Context] = {}
        for chunk in chunks(list(ids)):
            rows = self.conn.execute(
                f"SELECT {CONTEXT_COLUMNS} FROM context WHERE id IN ({marks(len(chunk))})", chunk
            ).fetchall()
            out.update((r[0], ContextRow(*r)) for r in rows)
        return out

    def context_nodes(self, context_ids: Sequence[int]) -> tuple[list[int], list[int]]:
        """(execution ids, artifact ids) associated/attributed to these contexts."""
        execs: list[int] = []
        arts: list[int] = []
        for chunk in chunks(list(context_ids)):
            held = marks(len(chunk))
            execs += [r[0] for r in self.conn.execute(
                f"SELECT DISTINCT execution_id FROM association WHERE context_id IN ({held})", chunk)]
            arts += [r[0] for r in self.conn.execute(
                f"SELECT DISTINCT artifact_id FROM attribution WHERE context_id IN ({held})", chunk)]
        return sorted(set(execs)), sorted(set(arts))

    # -- lineage walks --------------------------------------------------------------------------------------

    def lineage_walk(
        self, start: Sequence[int], direction: str, max_hops: int | None = None
    ) -> tuple[dict[int, tuple[Any, ...]], list[tuple[int, int, str, str | None]]]:
        """The nodes reachable from the start nodes (signed ids) going `up` (towards what produced them) or
        `down` (towards what was made from them) within `max_hops` hops (None: no limit), and the events
        between them: ({signed id: (signed id, name, display_name, schema_title, state, uri, size, content_hash,
        create_time, metadata)}, [(execution_id, artifact_id, type, path)]).

        The walk is one recursive statement per 10,000 start nodes, writing the reached ids into a
        connection-local temporary table; three joins then read the nodes' rows and their events. Without a hop
        limit the walk goes from artifact to artifact and keeps no hop count, so each node is visited once even
        in a graph with cycles; with one, it goes node by node and its rows are (node, hops) pairs bounded by
        the limit.
        """
        if direction not in ("up", "down"):
            raise ValueError(f"direction must be 'up' or 'down', got {direction!r}")
        # upstream: an artifact's producers are OUTPUT events; an execution's sources are its INPUT events.
        from_artifact, from_execution = ("OUTPUT", "INPUT") if direction == "up" else ("INPUT", "OUTPUT")
        follow = (
            "(w.node > 0 AND v.artifact_id = w.node AND v.type = ?)"
            " OR (w.node < 0 AND v.execution_id = -w.node AND v.type = ?)"
        )
        step = "CASE WHEN w.node > 0 THEN -v.execution_id ELSE v.artifact_id END"
        conn = self.conn
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS lineage_node (node INTEGER PRIMARY KEY)")
        conn.execute("DELETE FROM lineage_node")  # what the previous walk left
        for chunk in chunks(list(dict.fromkeys(start)), 10_000):
            values = f"(VALUES {', '.join(['(?)'] * len(chunk))}) s"
            if max_hops is None:
                # Two hops per recursive step, artifact -> execution -> artifact (half the rows of a one-hop
                # walk); the executions in between are added by the join below.
                near, far = (from_artifact, from_execution)
                conn.execute(
                    f"WITH RECURSIVE seed(a) AS (SELECT column1 FROM {values} WHERE column1 > 0"
                    f" UNION SELECT f.artifact_id FROM {values} JOIN event f ON f.execution_id = -s.column1"
                    " AND f.type = ? WHERE s.column1 < 0),"
                    " walk(a) AS (SELECT a FROM seed UNION SELECT f.artifact_id FROM walk w"
                    " JOIN event n ON n.artifact_id = w.a AND n.type = ?"
                    " JOIN event f ON f.execution_id = n.execution_id AND f.type = ?)"
                    " INSERT INTO lineage_node (node) SELECT a FROM walk WHERE true ON CONFLICT (node) DO NOTHING",
                    [*chunk, *chunk, far, near, far],
                )
                conn.execute(
                    f"INSERT INTO lineage_node (node) SELECT column1 FROM {values} WHERE column1 < 0"
                    " ON CONFLICT (node) DO NOTHING",
                    chunk,
                )
                continue
            walk = (
                f"walk(node, hops) AS (SELECT column1, 0 FROM {values}"
                f" UNION SELECT {step}, w.hops + 1 FROM walk w JOIN event v ON {follow} WHERE w.hops < ?)"
            )
            conn.execute(
                f"WITH RECURSIVE {walk} INSERT INTO lineage_node (node) SELECT DISTINCT node FROM walk WHERE true"
                " ON CONFLICT (node) DO NOTHING",
                [*chunk, from_artifact, from_execution, max_hops],
            )
        if max_hops is None:
            # CROSS JOIN keeps the reached nodes as the outer loop (SQLite does not reorder it; PostgreSQL
            # plans it like any join): without it SQLite scans every event of the store for a walk of 3 nodes.
            conn.execute(
                "INSERT INTO lineage_node (node) SELECT -n.execution_id FROM lineage_node l CROSS JOIN event n"
                " WHERE n.artifact_id = l.node AND n.type = ? AND l.node > 0 ON CONFLICT (node) DO NOTHING",
                (from_artifact,),
            )
        # Rows in node order, then each execution's events in key order: the graph's order does not depend on
        # the plan.
        rows = conn.execute(
            "SELECT n.node, a.name, a.display_name, a.schema_title, a.state, a.uri, a.size, a.content_hash,"
            " a.create_time, a.metadata FROM lineage_node n CROSS JOIN artifact a WHERE a.id = n.node AND n.node > 0"
            " ORDER BY n.node"
        ).fetchall()
        rows += conn.execute(
            "SELECT n.node, x.name, x.display_name, x.schema_title, x.state, NULL, NULL, NULL, x.create_time,"
            " x.metadata FROM lineage_node n CROSS JOIN execution x WHERE x.id = -n.node AND n.node < 0"
            " ORDER BY n.node"
        ).fetchall()
        nodes = {r[0]: r for r in rows}
        events = conn.execute(
            "SELECT v.execution_id, v.artifact_id, v.type, v.path FROM lineage_node n CROSS JOIN event v"
            " WHERE v.execution_id = -n.node AND n.node < 0 ORDER BY n.node, v.artifact_id, v.type"
        ).fetchall()
        return nodes, [e for e in events if e[1] in nodes]

    # -- listing with filters -------------------------------------------------------------------------------

    def list_nodes(self, kind: str, where: Typed | None = None, order_by: str | None = None) -> list[Any]:
        """Artifacts, executions or contexts matching a resolved filter (see trackbook.filters)."""
        table, columns, row_type = _node_table(kind)
        sql = f"SELECT {_prefixed('n', columns)} FROM {table} n"
        args: list[Any] = []
        if where is not None:
            clause, args = self._compile(where, kind)
            sql += " WHERE " + clause
        sql += " ORDER BY " + _order(order_by)
        return [row_type(*r) for r in self.conn.execute(sql, args).fetchall()]

    def _compile(self, node: Typed, kind: str) -> tuple[str, list[Any]]:
        from ..filters import And, Cmp, InContext, Not, Or, ParentContexts, Prop

        if isinstance(node, (And, Or)):
            parts = [self._compile(n, kind) for n in node.items]
            joiner = " AND " if isinstance(node, And) else " OR "
            return "(" + joiner.join(p for p, _ in parts) + ")", [a for _, args in parts for a in args]
        if isinstance(node, Not):
            inner, args = self._compile(node.item, kind)
            return f"NOT {inner}", args
        if isinstance(node, Cmp):
            column = _CONTEXT_RESOURCE_ID if (kind == "context" and node.column == "name") else _COLUMN_SQL[node.column]
            if node.op in ("LIKE", "NOTLIKE"):
                like = f"{column} LIKE ? ESCAPE '\\'"
                return (like if node.op == "LIKE" else f"NOT ({like})"), [node.value]
            return f"({column} {_OPS[node.op]} ?)", [node.value]
        if isinstance(node, Prop):
            column = f"p.{node.kind}"
            if node.op in ("LIKE", "NOTLIKE"):
                test = f"{column} LIKE ? ESCAPE '\\'"
                test = test if node.op == "LIKE" else f"NOT ({test})"
            else:
                test = f"{column} {_OPS[node.op]} ?"
            return (
                "EXISTS (SELECT 1 FROM node_property p WHERE p.kind = ? AND p.node_id = n.id AND p.key = ?"
                f" AND {test})",
                [kind, node.key, node.value],
            )
        if isinstance(node, InContext):
            ctx = self.context_by_resource_id(node.context)
            link = ("attribution", "artifact_id") if kind == "artifact" else ("association", "execution_id")
            return f"n.id IN (SELECT {link[1]} FROM {link[0]} WHERE context_id = ?)", [ctx.id if ctx else -1]
        if isinstance(node, ParentContexts):
            ids = [c.id for c in map(self.context_by_resource_id, node.contexts) if c is not None] or [-1]
            held = marks(len(ids))
            return (
                f"(n.id IN (SELECT child_id FROM parent_context WHERE parent_id IN ({held}))"
                f" OR n.experiment_id IN ({held}))",
                [*ids, *ids],
            )
        raise TypeError(f"not a filter node: {node!r}")


# -- helpers ------------------------------------------------------------------------------------------------


def _node_table(kind: str) -> tuple[str, str, type[Any]]:
    """(table, columns, row type) of a node kind: "artifact", "execution" or "context"."""
    from .core import Context as ContextRow

    tables: dict[str, tuple[str, str, type[Any]]] = {
        "artifact": ("artifact", _ARTIFACT_COLUMNS, Artifact),
        "execution": ("execution", _EXECUTION_COLUMNS, Execution),
        "context": ("context", CONTEXT_COLUMNS, ContextRow),
    }
    return tables[kind]


def _prefixed(alias: str, columns: str) -> str:
    return ", ".join(f"{alias}.{c}" for c in columns.split(", "))


def _require(conn: sqlite3.Connection, table: str, node_id: int) -> None:
    assert table in ("artifact", "execution")
    if conn.execute(f"SELECT 1 FROM {table} WHERE id = ?", (node_id,)).fetchone() is None:
        raise NotFound(f"404 {table.capitalize()} {node_id} not found")


def _update_node(
    conn: sqlite3.Connection, table: str, node_id: int, metadata: dict[str, Any] | None, description: str | None,
    state: str | None,
) -> None:
    assert table in ("artifact", "execution")
    now = time.time()
    if metadata is not None:
        # merged inside the write transaction, so concurrent updates from other processes are not lost
        row = conn.execute(f"SELECT metadata FROM {table} WHERE id = ?", (node_id,)).fetchone()
        text = _dumps(merge_metadata(json.loads(row[0] or "{}"), metadata))
        conn.execute(f"UPDATE {table} SET metadata = ?, update_time = ? WHERE id = ?", (text, now, node_id))
        _put_properties(conn, table, node_id, text)
    if description is not None:
        conn.execute(f"UPDATE {table} SET description = ?, update_time = ? WHERE id = ?", (description, now, node_id))
    if state is not None:
        conn.execute(f"UPDATE {table} SET state = ?, update_time = ? WHERE id = ?", (state, now, node_id))


def merge_metadata(current: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """Vertex's one-level-deep merge: a dict value updates the dict under its key, other values replace."""
    merged = copy.deepcopy(current)
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key].update(copy.deepcopy(value))
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _dumps(metadata: dict[str, Any]) -> str:
    return json.dumps(metadata, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def _put_properties(conn: sqlite3.Connection, kind: str, node_id: int, metadata: str) -> None:
    """Index a node's metadata values for filters: numbers, strings and bools, nested keys joined by dots."""
    conn.execute("DELETE FROM node_property WHERE kind = ? AND node_id = ?", (kind, node_id))
    rows = list(property_rows(json.loads(metadata or "{}")))
    if rows:
        conn.executemany(
            "INSERT INTO node_property (kind, node_id, key, number_value, string_value, bool_value)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (kind, node_id, key) DO NOTHING",
            [(kind, node_id, *r) for r in rows],
        )


def property_rows(data: Any, prefix: str = "") -> Iterator[tuple[str, float | None, str | None, int | None]]:
    """(key, number, string, bool) for each scalar leaf of a metadata dict; lists and nulls are not indexed."""
    if not isinstance(data, dict):
        return
    for key, value in data.items():
        full = f"{prefix}{key}"
        if isinstance(value, dict):
            yield from property_rows(value, full + ".")
        elif isinstance(value, bool):
            yield full, None, None, int(value)
        elif isinstance(value, (int, float)):
            if math.isfinite(value):
                yield full, float(value), None, None
        elif isinstance(value, str):
            yield full, None, value, None


def _ancestors(conn: sqlite3.Connection, ids: Sequence[int]) -> list[int]:
    rows = conn.execute(
        f"WITH RECURSIVE {_LINKS}, up(id) AS ("
        f" SELECT parent FROM links WHERE child IN ({marks(len(ids))})"
        " UNION SELECT l.parent FROM up u JOIN links l ON l.child = u.id"
        ") SELECT id FROM up",
        list(ids),
    ).fetchall()
    return [r[0] for r in rows]


def _order(order_by: str | None) -> str:
    """AIP-132 `order_by` ("create_time desc, display_name") over known columns; oldest first by default."""
    if not order_by:
        return "n.create_time, n.id"
    parts = []
    for item in order_by.split(","):
        words = item.split()
        if not words or len(words) > 2 or words[0] not in _ORDER_COLUMNS or (
            len(words) == 2 and words[1].lower() not in ("asc", "desc")
        ):
            allowed = ", ".join(_ORDER_COLUMNS)
            raise ValueError(f"order_by {order_by!r}: use fields among {allowed}, each optionally followed by desc")
        direction = " DESC" if len(words) == 2 and words[1].lower() == "desc" else ""
        parts.append(_ORDER_COLUMNS[words[0]] + direction)
    return ", ".join([*parts, "n.id"])
