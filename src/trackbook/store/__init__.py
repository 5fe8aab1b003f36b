"""The store: one SQLite file holding experiments, runs, params, metrics, series and the lineage graph.

This package is the only code that speaks SQL; everything else calls `Store`. The rules:
- every value is bound as a parameter; the only text formatted into SQL is constant column lists and runs
  of "?" placeholders;
- the SQL stays portable to PostgreSQL (ON CONFLICT upserts, standard types, no SQLite-only functions in
  queries); the SQLite-only pieces are the PRAGMAs in `core` and WITHOUT ROWID in `schema`;
- nothing read from the file is ever unpickled or executed: values are JSON text, numbers and strings.

Modules: `schema` (the migrations), `core` (the file, connections, experiments, runs, series), `lineage`
(artifacts and the ML Metadata graph), `live` (the board's change feed), `imports` (importer bookkeeping),
`sql` (what their statements share: schema titles, the context columns, placeholders, rows to numpy).
docs/store.md documents the schema for readers of the file with plain sqlite3.
"""

from .core import (
    BUSY_TIMEOUT_MS,
    HEARTBEAT_TIMEOUT,
    Batch,
    CommitResult,
    Context,
    Store,
    host_id,
    live_state,
    pid_alive,
)
from .lineage import Artifact
from .schema import APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION
from .sql import EXPERIMENT, EXPERIMENT_RUN, PIPELINE_RUN, RUN_TYPES

__all__ = [
    "APPLICATION_ID",
    "BUSY_TIMEOUT_MS",
    "EXPERIMENT",
    "EXPERIMENT_RUN",
    "HEARTBEAT_TIMEOUT",
    "MIGRATIONS",
    "PIPELINE_RUN",
    "RUN_TYPES",
    "SCHEMA_VERSION",
    "Artifact",
    "Batch",
    "CommitResult",
    "Context",
    "Store",
    "host_id",
    "live_state",
    "pid_alive",
]
