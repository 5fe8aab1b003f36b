"""SQL for the ML Metadata lineage graph: artifacts, executions, events, attributions, associations,
parent contexts. Mixed into `Store` (uses `self.conn` and `self.write()`)."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..exceptions import AlreadyExists, NotFound


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


_ARTIFACT_COLUMNS = (
    "id, name, schema_title, schema_version, uri, display_name, description, metadata, state, "
    "create_time, update_time"
)



class LineageQueries:
    """Artifact and lineage-graph statements of `Store`."""

    conn: sqlite3.Connection

    def write(self) -> Any:  # provided by Store
        raise NotImplementedError

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
    ) -> Artifact:
        now = time.time()
        try:
            with self.write() as conn:
                cur = conn.execute(
                    "INSERT INTO artifact (name, schema_title, schema_version, uri, display_name, description,"
                    " metadata, state, create_time, update_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (name, schema_title, schema_version, uri, display_name, description, metadata, state, now, now),
                )
        except sqlite3.IntegrityError:
            raise AlreadyExists(f"409 Artifact with name {name!r} already exists") from None
        return self.artifact_by_id(int(cur.lastrowid))  # type: ignore[arg-type]

    def artifact_by_id(self, artifact_id: int) -> Artifact:
        row = self.conn.execute(f"SELECT {_ARTIFACT_COLUMNS} FROM artifact WHERE id = ?", (artifact_id,)).fetchone()
        if row is None:
            raise NotFound(f"404 Artifact {artifact_id} not found")
        return Artifact(*row)

    def attribute(self, context_id: int, artifact_ids: Iterable[int]) -> None:
        """Attribute artifacts to a context (existing links are kept)."""
        with self.write() as conn:
            conn.executemany(
                "INSERT INTO attribution (context_id, artifact_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
                [(context_id, a) for a in artifact_ids],
            )

    def attributed_artifacts(self, context_id: int, schema_title: str | None = None) -> list[Artifact]:
        sql = (
            f"SELECT {', '.join('a.' + c for c in _ARTIFACT_COLUMNS.split(', '))} FROM artifact a"
            " JOIN attribution t ON t.artifact_id = a.id WHERE t.context_id = ?"
        )
        args: list[Any] = [context_id]
        if schema_title is not None:
            sql += " AND a.schema_title = ?"
            args.append(schema_title)
        return [Artifact(*r) for r in self.conn.execute(sql + " ORDER BY a.id", args).fetchall()]


