"""The store's schema, as a list of migrations: entry N upgrades a file from version N-1 to N.

Migrations run inside one write transaction under the file's write lock, and each applied version is
recorded in `schema_migration`, so several processes opening an old file at once migrate it exactly once.
docs/store.md describes every table for readers of the file.
"""

from __future__ import annotations

APPLICATION_ID = 0x54424B31  # "TBK1" in the SQLite header: `file trackbook.db` names it

# A deleted context takes its graph links with it, whoever deletes it (SQLite-only trigger syntax; PostgreSQL
# needs a trigger function for the same).
CONTEXT_TRIGGER = """CREATE TRIGGER context_unlinked AFTER DELETE ON context BEGIN
            DELETE FROM association WHERE context_id = OLD.id;
            DELETE FROM attribution WHERE context_id = OLD.id;
            DELETE FROM parent_context WHERE parent_id = OLD.id OR child_id = OLD.id;
            DELETE FROM node_property WHERE kind = 'context' AND node_id = OLD.id;
        END"""


def _never_reuse_ids(table: str, columns: str, body: str, after: list[str]) -> list[str]:
    """Rebuild `table` with AUTOINCREMENT ids (SQLite otherwise hands a deleted largest id to the next row;
    PostgreSQL identity columns never reuse ids): copy, swap, and recreate its indexes and triggers."""
    return [
        f"CREATE TABLE {table}_rebuilt (\n            id INTEGER PRIMARY KEY AUTOINCREMENT,{body})",
        f"INSERT INTO {table}_rebuilt (id, {columns}) SELECT id, {columns} FROM {table}",
        f"DROP TABLE {table}",
        f"ALTER TABLE {table}_rebuilt RENAME TO {table}",
        *after,
    ]


# Each entry upgrades the schema by one version, inside the migration transaction.
MIGRATIONS: list[list[str]] = [
    # 1: experiments and runs as contexts, params/metrics as JSON, the narrow series table, artifacts.
    [
        """CREATE TABLE schema_migration (
            version INTEGER PRIMARY KEY,
            applied_at REAL NOT NULL,
            host TEXT,
            pid INTEGER
        )""",
        """CREATE TABLE context (
            id INTEGER PRIMARY KEY,
            schema_title TEXT NOT NULL,
            experiment_id INTEGER NOT NULL DEFAULT 0,
            name TEXT NOT NULL,
            display_name TEXT,
            description TEXT,
            metadata TEXT NOT NULL DEFAULT '{}',
            params TEXT NOT NULL DEFAULT '{}',
            metrics TEXT NOT NULL DEFAULT '{}',
            state TEXT,
            create_time REAL NOT NULL,
            update_time REAL NOT NULL,
            end_time REAL,
            host TEXT,
            pid INTEGER,
            heartbeat REAL,
            UNIQUE (experiment_id, name)
        )""",
        "CREATE INDEX context_by_schema ON context (schema_title)",
        """CREATE TABLE series_key (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE
        )""",
        """CREATE TABLE series (
            run_id INTEGER NOT NULL,
            key_id INTEGER NOT NULL,
            step INTEGER NOT NULL,
            wall_time INTEGER NOT NULL,
            value REAL,
            PRIMARY KEY (run_id, key_id, step)
        ) WITHOUT ROWID""",
        """CREATE TABLE series_last (
            run_id INTEGER NOT NULL,
            key_id INTEGER NOT NULL,
            step INTEGER NOT NULL,
            wall_time INTEGER NOT NULL,
            value REAL,
            PRIMARY KEY (run_id, key_id)
        ) WITHOUT ROWID""",
        """CREATE TABLE artifact (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            schema_title TEXT NOT NULL,
            schema_version TEXT,
            uri TEXT,
            display_name TEXT,
            description TEXT,
            metadata TEXT NOT NULL DEFAULT '{}',
            state TEXT NOT NULL DEFAULT 'LIVE',
            create_time REAL NOT NULL,
            update_time REAL NOT NULL
        )""",
        "CREATE INDEX artifact_by_uri ON artifact (uri)",
        """CREATE TABLE attribution (
            context_id INTEGER NOT NULL,
            artifact_id INTEGER NOT NULL,
            PRIMARY KEY (context_id, artifact_id)
        )""",
        "CREATE INDEX attribution_by_artifact ON attribution (artifact_id)",
    ],
    # 2: the rest of the ML Metadata graph: executions, events, associations, parent contexts; file facts.
    [
        "ALTER TABLE artifact ADD COLUMN size INTEGER",
        "ALTER TABLE artifact ADD COLUMN content_hash TEXT",
        "CREATE INDEX artifact_by_hash ON artifact (content_hash)",
        "CREATE INDEX artifact_by_schema ON artifact (schema_title)",
        """CREATE TABLE execution (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            schema_title TEXT NOT NULL,
            schema_version TEXT,
            display_name TEXT,
            description TEXT,
            metadata TEXT NOT NULL DEFAULT '{}',
            state TEXT NOT NULL DEFAULT 'RUNNING',
            create_time REAL NOT NULL,
            update_time REAL NOT NULL
        )""",
        "CREATE INDEX execution_by_schema ON execution (schema_title)",
        """CREATE TABLE event (
            execution_id INTEGER NOT NULL,
            artifact_id INTEGER NOT NULL,
            type TEXT NOT NULL CHECK (type IN ('INPUT', 'OUTPUT')),
            path TEXT,
            event_time REAL NOT NULL,
            PRIMARY KEY (execution_id, artifact_id, type)
        )""",
        "CREATE INDEX event_by_artifact ON event (artifact_id)",
        """CREATE TABLE association (
            context_id INTEGER NOT NULL,
            execution_id INTEGER NOT NULL,
            PRIMARY KEY (context_id, execution_id)
        )""",
        "CREATE INDEX association_by_execution ON association (execution_id)",
        """CREATE TABLE parent_context (
            parent_id INTEGER NOT NULL,
            child_id INTEGER NOT NULL,
            PRIMARY KEY (parent_id, child_id)
        )""",
        "CREATE INDEX parent_context_by_child ON parent_context (child_id)",
    ],
    # 3: metadata values indexed for filters (portable: no JSON functions in queries); a deleted context takes
    # its associations and parent links with it, whoever deletes it (ids are reused after the largest goes).
    [
        """CREATE TABLE node_property (
            kind TEXT NOT NULL CHECK (kind IN ('artifact', 'execution', 'context')),
            node_id INTEGER NOT NULL,
            key TEXT NOT NULL,
            number_value REAL,
            string_value TEXT,
            bool_value INTEGER,
            PRIMARY KEY (kind, node_id, key)
        )""",
        "CREATE INDEX node_property_by_number ON node_property (kind, key, number_value)",
        "CREATE INDEX node_property_by_string ON node_property (kind, key, string_value)",
        "CREATE INDEX execution_by_time ON execution (create_time)",
        "CREATE INDEX artifact_by_time ON artifact (create_time)",
        CONTEXT_TRIGGER,
    ],
    # 4: ids of contexts, artifacts and executions are never reused, so a late write for a deleted run (another
    # process still logging, a retried batch) cannot land in a new run that took its id.
    [
        *_never_reuse_ids(
            "context",
            "schema_title, experiment_id, name, display_name, description, metadata, params, metrics, state, "
            "create_time, update_time, end_time, host, pid, heartbeat",
            """
            schema_title TEXT NOT NULL,
            experiment_id INTEGER NOT NULL DEFAULT 0,
            name TEXT NOT NULL,
            display_name TEXT,
            description TEXT,
            metadata TEXT NOT NULL DEFAULT '{}',
            params TEXT NOT NULL DEFAULT '{}',
            metrics TEXT NOT NULL DEFAULT '{}',
            state TEXT,
            create_time REAL NOT NULL,
            update_time REAL NOT NULL,
            end_time REAL,
            host TEXT,
            pid INTEGER,
            heartbeat REAL,
            UNIQUE (experiment_id, name)
        """,
            ["CREATE INDEX context_by_schema ON context (schema_title)", CONTEXT_TRIGGER],
        ),
        *_never_reuse_ids(
            "artifact",
            "name, schema_title, schema_version, uri, display_name, description, metadata, state, create_time, "
            "update_time, size, content_hash",
            """
            name TEXT NOT NULL UNIQUE,
            schema_title TEXT NOT NULL,
            schema_version TEXT,
            uri TEXT,
            display_name TEXT,
            description TEXT,
            metadata TEXT NOT NULL DEFAULT '{}',
            state TEXT NOT NULL DEFAULT 'LIVE',
            create_time REAL NOT NULL,
            update_time REAL NOT NULL,
            size INTEGER,
            content_hash TEXT
        """,
            [
                "CREATE INDEX artifact_by_uri ON artifact (uri)",
                "CREATE INDEX artifact_by_hash ON artifact (content_hash)",
                "CREATE INDEX artifact_by_schema ON artifact (schema_title)",
                "CREATE INDEX artifact_by_time ON artifact (create_time)",
            ],
        ),
        *_never_reuse_ids(
            "execution",
            "name, schema_title, schema_version, display_name, description, metadata, state, create_time, "
            "update_time",
            """
            name TEXT NOT NULL UNIQUE,
            schema_title TEXT NOT NULL,
            schema_version TEXT,
            display_name TEXT,
            description TEXT,
            metadata TEXT NOT NULL DEFAULT '{}',
            state TEXT NOT NULL DEFAULT 'RUNNING',
            create_time REAL NOT NULL,
            update_time REAL NOT NULL
        """,
            [
                "CREATE INDEX execution_by_schema ON execution (schema_title)",
                "CREATE INDEX execution_by_time ON execution (create_time)",
            ],
        ),
    ],
    # 5: a change number on each series' last point, so a live board reads only the heads that moved since
    # its last look (`seq > cursor`). `series_last` rows go when their run does; the trigger keeps the largest
    # number they held in `series_seq`, so numbers never go back below what a board has already seen.
    [
        "ALTER TABLE series_last ADD COLUMN seq INTEGER NOT NULL DEFAULT 0",
        "CREATE INDEX series_last_by_seq ON series_last (seq)",
        "CREATE TABLE series_seq (id INTEGER PRIMARY KEY, floor INTEGER NOT NULL)",
        "INSERT INTO series_seq (id, floor) VALUES (1, 0)",
        """CREATE TRIGGER series_last_seq_kept AFTER DELETE ON series_last BEGIN
            UPDATE series_seq SET floor = OLD.seq WHERE id = 1 AND floor < OLD.seq;
        END""",
    ],
]
SCHEMA_VERSION = len(MIGRATIONS)
