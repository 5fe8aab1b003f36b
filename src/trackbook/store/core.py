"""The store's core: opening and migrating the file, connections, experiments, runs, params, metrics and
series. See the package docstring for the rules every SQL statement here follows."""

from __future__ import annotations

import contextlib
import os
import socket
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..exceptions import AlreadyExists, StoreError
from .imports import ImportQueries
from .lineage import LineageQueries, _put_properties
from .live import LiveQueries
from .schema import APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION
from .sql import (
    CONTEXT_COLUMNS,
    EXPERIMENT,
    EXPERIMENT_RUN,
    RUN_TYPES,
    chunks,
    delete_in,
    empty_series,
    float_matrix,
    marks,
    write_state,
)

BUSY_TIMEOUT_MS = 60_000
HEARTBEAT_TIMEOUT = 90.0  # seconds without a heartbeat after which a RUNNING run reads as CRASHED


_HOST = socket.gethostname()


def host_id() -> str:
    """This machine's name as stored with runs (pids are only compared on the same host)."""
    return _HOST


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists on this host."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass(frozen=True)
class Context:
    """One row of the context table: an experiment, a run, a pipeline run, or another context."""

    id: int
    schema_title: str
    experiment_id: int
    name: str
    display_name: str | None
    description: str | None
    metadata: str
    params: str
    metrics: str
    state: str | None
    create_time: float
    update_time: float
    end_time: float | None
    host: str | None
    pid: int | None
    heartbeat: float | None

    @property
    def live_state(self) -> str | None:
        """The state, with a RUNNING run whose process is gone reported as CRASHED."""
        return live_state(self.state, self.host, self.pid, self.heartbeat)


def live_state(state: str | None, host: str | None, pid: int | None, heartbeat: float | None) -> str | None:
    """RUNNING unless its process is known dead (same host) or silent for HEARTBEAT_TIMEOUT seconds."""
    if state != "RUNNING":
        return state
    if host == _HOST and pid is not None and pid != os.getpid() and not pid_alive(pid):
        return "CRASHED"
    if heartbeat is not None and time.time() - heartbeat > HEARTBEAT_TIMEOUT:
        return "CRASHED"
    return state


@dataclass
class Batch:
    """What the writer commits in one transaction.

    `flat` holds (run_id, key_id, step, wall_ms, value) quintuples back to back; a negative key_id is a new
    key named in `new_keys` (name -> that provisional id), interned in the same transaction. `params` and
    `metrics` map a run id to the values to merge; `states` are (run_id, state name, time) in order.
    """

    flat: list[Any]
    params: dict[int, dict[str, Any]]
    metrics: dict[int, dict[str, Any]]
    states: list[tuple[int, str, float]]
    new_keys: dict[str, int] = field(default_factory=dict)

    @property
    def points(self) -> int:
        return len(self.flat) // 5


@dataclass
class CommitResult:
    """What a commit learned: the ids of newly interned keys, and how many points had no run to go to."""

    key_ids: dict[str, int] = field(default_factory=dict)
    orphans: int = 0


class Store(LiveQueries, LineageQueries, ImportQueries):
    """A trackbook store file. Thread-safe: each thread gets its own connection.

    Opening creates the file when missing, refuses files that are not trackbook stores or come from a newer
    schema (leaving them untouched), and migrates older ones exactly once under a write lock.
    """

    def __init__(self, path: str | os.PathLike[str], *, create: bool = True) -> None:
        self.path = Path(path).expanduser().absolute()
        self._local = threading.local()
        self._key_ids: dict[str, int] = {}
        self._key_lock = threading.Lock()
        self._open(create)

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r})"

    # -- connections and schema -------------------------------------------------------------------------

    def _open(self, create: bool) -> None:
        path = self.path
        if path.exists():
            if path.is_dir():
                raise StoreError(f"store path {path} is a directory; give a file path such as {path}/trackbook.db")
            _check_header(path)
        elif not create:
            raise StoreError(f"no store at {path}")
        else:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"cannot create the store directory {path.parent}: {exc.strerror}") from None
            if not os.access(path.parent, os.W_OK):
                raise StoreError(f"cannot create the store {path}: the directory {path.parent} is not writable")
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        while True:
            conn = self._connect(initial=True)
            try:
                self._inspect(conn)
                self._enable_wal(conn)
                self._migrate(conn)
                break
            except sqlite3.OperationalError as exc:
                conn.close()
                # Many processes opening one file at once can meet SQLITE_BUSY outside the busy handler's reach
                # (or SQLITE_PROTOCOL while another recovers the WAL index): such contention passes, so retry.
                if not transient(exc) or time.monotonic() > deadline:
                    raise StoreError(f"{path} cannot be opened as a trackbook store ({exc}); it was not modified") \
                        from None
                time.sleep(0.05)
            except sqlite3.DatabaseError as exc:
                conn.close()
                raise StoreError(f"{path} cannot be opened as a trackbook store ({exc}); it was not modified") from None
            except BaseException:
                conn.close()
                raise
        self._local.conn = conn
        self._local.pid = os.getpid()

    def _connect(self, initial: bool = False) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(
                self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
            )
        except sqlite3.OperationalError as exc:
            raise StoreError(f"cannot open the store {self.path}: {exc}") from None
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        # LIKE (filters' "*" wildcards) matches case as it does in PostgreSQL and as "=" does.
        conn.execute("PRAGMA case_sensitive_like = ON")
        if not initial:
            conn.execute("PRAGMA synchronous = NORMAL")
        return conn

    def _inspect(self, conn: sqlite3.Connection) -> None:
        """Refuse a foreign or newer file before anything is written to it."""
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        if version == 0 and app_id == 0 and tables == 0:
            return  # empty: a new store
        if app_id != APPLICATION_ID:
            raise StoreError(
                f"{self.path} is an SQLite database but not a trackbook store; it was not modified "
                "(choose another file with init(store=...) or TRACKBOOK_STORE)"
            )
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} was written by a newer trackbook (schema {version}; this one reads up to "
                f"{SCHEMA_VERSION}); upgrade trackbook to open it. The file was not modified."
            )

    def _enable_wal(self, conn: sqlite3.Connection) -> None:
        # Switching to WAL needs a moment alone with the file; several processes may try at once.
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        while True:
            try:
                mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.01)
                continue
            if mode.lower() != "wal":
                raise StoreError(f"{self.path}: could not switch to WAL journaling (got {mode})")
            conn.execute("PRAGMA synchronous = NORMAL")
            return

    def _migrate(self, conn: sqlite3.Connection) -> None:
        if conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION:
            return
        with _immediate(conn):
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version == SCHEMA_VERSION:
                return  # another process migrated while we waited for the lock
            if version == 0 and conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
                raise StoreError(f"{self.path} is not a trackbook store; it was not modified")
            if version > SCHEMA_VERSION:
                raise StoreError(f"{self.path} was written by a newer trackbook (schema {version})")
            for target in range(version + 1, SCHEMA_VERSION + 1):
                for statement in MIGRATIONS[target - 1]:
                    conn.execute(statement)
                conn.execute(
                    "INSERT INTO schema_migration (version, applied_at, host, pid) VALUES (?, ?, ?, ?)",
                    (target, time.time(), _HOST, os.getpid()),
                )
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    @property
    def conn(self) -> sqlite3.Connection:
        """This thread's connection (opened on first use)."""
        local = self._local
        conn = getattr(local, "conn", None)
        if conn is None or local.pid != os.getpid():  # a forked child must not reuse its parent's connection
            conn = local.conn = self._connect()
            local.pid = os.getpid()
        return conn

    @contextlib.contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction (BEGIN IMMEDIATE, so concurrent writers queue instead of deadlocking)."""
        with _immediate(self.conn) as conn:
            yield conn

    def close(self) -> None:
        """Close this thread's connection."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    def schema_version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    def migrations(self) -> list[tuple[int, float, str, int]]:
        """The applied migrations: (version, applied_at, host, pid)."""
        return self.conn.execute(
            "SELECT version, applied_at, host, pid FROM schema_migration ORDER BY version"
        ).fetchall()

    # -- contexts: experiments and runs -----------------------------------------------------------------

    def _context(self, where: str, args: Sequence[Any]) -> Context | None:
        row = self.conn.execute(f"SELECT {CONTEXT_COLUMNS} FROM context WHERE {where}", args).fetchone()
        return Context(*row) if row else None

    def context_by_id(self, context_id: int) -> Context | None:
        return self._context("id = ?", (context_id,))

    def experiment(self, name: str) -> Context | None:
        """The experiment called `name`, or None."""
        return self._context("experiment_id = 0 AND name = ? AND schema_title = ?", (name, EXPERIMENT))

    def experiments(self) -> list[Context]:
        rows = self.conn.execute(
            f"SELECT {CONTEXT_COLUMNS} FROM context WHERE schema_title = ? ORDER BY id", (EXPERIMENT,)
        ).fetchall()
        return [Context(*r) for r in rows]

    def create_experiment(self, name: str, description: str | None, metadata: str = "{}") -> Context:
        """Create an experiment; AlreadyExists if the name is taken."""
        now = time.time()
        try:
            with self.write() as conn:
                cur = conn.execute(
                    "INSERT INTO context (schema_title, experiment_id, name, display_name, description, metadata,"
                    " create_time, update_time) VALUES (?, 0, ?, ?, ?, ?, ?, ?)",
                    (EXPERIMENT, name, name, description, metadata, now, now),
                )
                _put_properties(conn, "context", int(cur.lastrowid), metadata)  # type: ignore[arg-type]
        except sqlite3.IntegrityError:
            raise AlreadyExists(f"409 Context with name {name!r} already exists") from None
        return self._context("id = ?", (cur.lastrowid,))  # type: ignore[return-value]

    def run(self, experiment_id: int, name: str) -> Context | None:
        """The run (experiment run or pipeline run) called `name` in an experiment, or None."""
        return self._context("experiment_id = ? AND name = ?", (experiment_id, name))

    def runs(self, experiment_ids: Iterable[int] | None = None, *, run_type: str | None = None) -> list[Context]:
        """Runs of some experiments (all when None), oldest first."""
        sql = f"SELECT {CONTEXT_COLUMNS} FROM context WHERE schema_title IN (?, ?)"
        args: list[Any] = list(RUN_TYPES)
        if run_type is not None:
            sql = f"SELECT {CONTEXT_COLUMNS} FROM context WHERE schema_title = ?"
            args = [run_type]
        if experiment_ids is not None:
            ids = list(experiment_ids)
            if not ids:
                return []  # (and "IN ()" is not valid SQL everywhere)
            sql += f" AND experiment_id IN ({marks(len(ids))})"
            args += ids
        rows = self.conn.execute(sql + " ORDER BY id", args).fetchall()
        return [Context(*r) for r in rows]

    def create_run(
        self,
        experiment_id: int,
        name: str,
        *,
        run_type: str = EXPERIMENT_RUN,
        state: str = "RUNNING",
        params: str = "{}",
        metadata: str = "{}",
        owned: bool = True,
    ) -> Context:
        """Create a run in an experiment; AlreadyExists if the experiment has a run of that name.

        An `owned` run records this process (host, pid, heartbeat) so that its death can be noticed.
        """
        now = time.time()
        host, pid, beat = (_HOST, os.getpid(), now) if owned else (None, None, None)
        try:
            with self.write() as conn:
                cur = conn.execute(
                    "INSERT INTO context (schema_title, experiment_id, name, display_name, params, metadata,"
                    " state, create_time, update_time, host, pid, heartbeat)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (run_type, experiment_id, name, name, params, metadata, state, now, now, host, pid, beat),
                )
                _put_properties(conn, "context", int(cur.lastrowid), metadata)  # type: ignore[arg-type]
        except sqlite3.IntegrityError:
            exp = self.context_by_id(experiment_id)
            exp_name = exp.name if exp else experiment_id
            raise AlreadyExists(
                f"409 Context with name '{exp_name}-{name}' already exists: the experiment {exp_name!r} has a run "
                f"called {name!r}. Use start_run({name!r}, resume=True) to continue it, or pick another name."
            ) from None
        return self._context("id = ?", (cur.lastrowid,))  # type: ignore[return-value]

    def set_state(self, run_id: int, state: str, *, owned: bool | None = None) -> None:
        """Set a run's state. Ending states record the end time; `owned` claims (True) or releases the run."""
        with self.write() as conn:
            write_state(conn, run_id, state, time.time())
            if owned:
                conn.execute("UPDATE context SET host = ?, pid = ? WHERE id = ?", (_HOST, os.getpid(), run_id))
            elif owned is False:
                conn.execute("UPDATE context SET pid = NULL WHERE id = ?", (run_id,))

    def delete_contexts(self, context_ids: Iterable[int]) -> None:
        """Delete contexts (runs or experiments) with their series and attributions."""
        ids = list(context_ids)
        if not ids:
            return
        with self.write() as conn:
            delete_in(conn, ids, _CONTEXT_DELETES)

    # -- series keys --------------------------------------------------------------------------------------

    def key_id(self, name: str) -> int:
        """The interned id of a series key, creating it when new."""
        kid = self._key_ids.get(name)
        if kid is not None:
            return kid
        with self._key_lock:
            row = self.conn.execute("SELECT id FROM series_key WHERE name = ?", (name,)).fetchone()
            if row is not None:
                kid = int(row[0])
            else:
                with self.write() as conn:
                    kid = _intern(conn, name)
            self._key_ids[name] = kid
            return kid

    def key_names(self) -> dict[int, str]:
        """Every interned series key: id -> name."""
        return dict(self.conn.execute("SELECT id, name FROM series_key").fetchall())

    # -- the writer's batch ---------------------------------------------------------------------------------

    def commit(self, batch: Batch, heartbeat_runs: Sequence[int] = ()) -> CommitResult:
        """Write a batch of points, param and metric updates, states and heartbeats in one transaction.

        New series keys are interned inside it; points of runs that no longer exist are left out and
        counted (context ids are never reused, so they cannot land in another run).
        """
        result = CommitResult()
        flat = batch.flat
        with self.write() as conn:
            if flat:
                if batch.new_keys:
                    real = {}
                    for name, provisional in batch.new_keys.items():
                        real[provisional] = result.key_ids[name] = _intern(conn, name)
                    flat = list(flat)  # the batch keeps its provisional ids, in case this transaction fails
                    flat[1::5] = [real.get(k, k) for k in flat[1::5]]
                runs = set(flat[0::5])
                alive = {r for (r,) in conn.execute(
                    f"SELECT id FROM context WHERE id IN ({marks(len(runs))})", list(runs))}
                if alive != runs:
                    kept = [flat[i : i + 5] for i in range(0, len(flat), 5) if flat[i] in alive]
                    result.orphans = len(flat) // 5 - len(kept)
                    flat = [x for row in kept for x in row]
                if flat:
                    _insert_points(conn, flat)
                    touched = set(zip(flat[0::5], flat[1::5]))
                    conn.executemany(_LAST_SQL, [(r, k) for r, k in touched])
            for column, updates in (("params", batch.params), ("metrics", batch.metrics)):
                for run_id, values in updates.items():
                    _merge_json(conn, column, run_id, values)
            for run_id, state, when in batch.states:
                write_state(conn, run_id, state, when)
            if heartbeat_runs:
                now = time.time()
                conn.executemany(
                    "UPDATE context SET heartbeat = ? WHERE id = ? AND state = 'RUNNING'",
                    [(now, r) for r in heartbeat_runs],
                )
        return result

    # -- reads ---------------------------------------------------------------------------------------------

    def max_step(self, run_id: int) -> int:
        """The largest step of any series of a run (0 when it has none)."""
        row = self.conn.execute("SELECT MAX(step) FROM series_last WHERE run_id = ?", (run_id,)).fetchone()
        return int(row[0] or 0)

    def last_values(self, run_ids: Sequence[int]) -> list[tuple[int, str, int, int, float | None]]:
        """(run_id, key, step, wall_ms, value) of the last point of every series of these runs."""
        out: list[tuple[int, str, int, int, float | None]] = []
        for chunk in chunks(list(run_ids)):
            out += self.conn.execute(
                "SELECT l.run_id, k.name, l.step, l.wall_time, l.value FROM series_last l"
                f" JOIN series_key k ON k.id = l.key_id WHERE l.run_id IN ({marks(len(chunk))})"
                " ORDER BY l.run_id, l.key_id",
                chunk,
            ).fetchall()
        return out

    def series_keys(self, run_ids: Sequence[int]) -> list[tuple[int, str]]:
        """(run_id, key) of every series of these runs."""
        return [(r, k) for r, k, *_ in self.last_values(run_ids)]

    def series(
        self, run_id: int, key: str, *, start: int | None = None, stop: int | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One series as (steps int64, wall_ms int64, values float64 with NaN), optionally a step range."""
        kid = self._key_ids.get(key)
        if kid is None:
            row = self.conn.execute("SELECT id FROM series_key WHERE name = ?", (key,)).fetchone()
            if row is None:
                return empty_series()
            kid = row[0]
        return self.series_points(run_id, kid, start=start, stop=stop)

    def history(
        self, run_ids: Sequence[int], keys: Sequence[str] | None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[int, str]]:
        """Every point of these runs (and keys): (run_id, key_id, step, wall_ms, value, key names), sorted by
        run, key and step, read from one snapshot of the file.

        One query per series with three columns is ~1.8x faster than one query of five (the Python objects
        of the rows dominate), and run and key ids are filled in with numpy.
        """
        names = self.key_names()
        wanted: set[int] | None = None
        if keys is not None:
            by_name = {v: k for k, v in names.items()}
            wanted = {by_name[k] for k in keys if k in by_name}
        conn = self.conn
        parts: list[np.ndarray] = []
        series: list[tuple[int, int, int]] = []
        conn.execute("BEGIN")  # a read transaction: every series from the same snapshot
        try:
            for chunk in chunks(list(run_ids), 400):
                pairs = conn.execute(
                    f"SELECT run_id, key_id FROM series_last WHERE run_id IN ({marks(len(chunk))})"
                    " ORDER BY run_id, key_id",
                    chunk,
                ).fetchall()
                for run_id, key_id in pairs:
                    if wanted is not None and key_id not in wanted:
                        continue
                    rows = conn.execute(_SERIES_SQL, (run_id, key_id)).fetchall()
                    if rows:
                        parts.append(float_matrix(rows, 3))
                        series.append((run_id, key_id, len(rows)))
        finally:
            conn.execute("COMMIT")
        if not parts:
            return (*(np.empty(0, np.int64) for _ in range(4)), np.empty(0), names)  # type: ignore[return-value]
        m = np.concatenate(parts)
        counts = [n for _, _, n in series]
        run_col = np.repeat(np.array([r for r, _, _ in series], dtype=np.int64), counts)
        key_col = np.repeat(np.array([k for _, k, _ in series], dtype=np.int64), counts)
        ints = m[:, :2].astype(np.int64)
        return run_col, key_col, ints[:, 0], ints[:, 1], m[:, 2], names

# -- helpers ------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _immediate(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def environmental(exc: BaseException) -> bool:
    """Whether a failed write is the environment's doing (disk full, read-only, locked, I/O, damage), so a retry
    may succeed; otherwise the data itself could not be stored (a bug upstream)."""
    data_errors = (sqlite3.IntegrityError, sqlite3.InterfaceError, sqlite3.DataError, sqlite3.ProgrammingError)
    return isinstance(exc, (sqlite3.DatabaseError, OSError, MemoryError)) and not isinstance(exc, data_errors)


def transient(exc: BaseException) -> bool:
    """Whether an SQLite error is lock contention that passes (busy, locked, WAL-index recovery)."""
    text = str(exc).lower()
    return isinstance(exc, sqlite3.OperationalError) and any(w in text for w in ("locked", "busy", "protocol"))


def _check_header(path: Path, settle: float = 1.0) -> None:
    """Refuse a file that is not SQLite or is truncated, reading its first 100 bytes without SQLite.

    Another process may be mid-write (creating the file, or a checkpoint that writes page 1 before it
    extends the file), so a file that looks short is looked at again for `settle` seconds before it is
    called truncated.
    """
    deadline = time.monotonic() + settle
    while True:
        problem = _header_problem(path)
        if problem is None:
            return
        final, message = problem
        if final or time.monotonic() > deadline:
            raise StoreError(f"{path} {message}; it was not modified")
        time.sleep(0.02)


def _header_problem(path: Path) -> tuple[bool, str] | None:
    """None when the header is sound; else (final, what is wrong) where final means no write can fix it."""
    try:
        with path.open("rb") as f:
            head = f.read(100)
        size = path.stat().st_size
    except OSError as exc:
        raise StoreError(f"cannot read the store {path}: {exc.strerror}") from None
    if not head:
        return None  # an empty file becomes a new store
    magic = b"SQLite format 3\x00"
    if head[: len(magic)] != magic[: len(head)]:
        return True, "is not a trackbook store (not an SQLite database)"
    if len(head) < 100:
        return False, f"is truncated ({size} bytes)"
    page_size = int.from_bytes(head[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(head[28:32], "big")
    header_valid = head[24:28] == head[92:96]  # the page count is only meaningful when these agree
    wal = Path(f"{path}-wal")
    if wal.exists() and wal.stat().st_size > 0:
        return None  # a live store: a checkpoint may be writing page 1 before it extends the file
    if header_valid and size < pages * page_size:
        return False, f"is truncated: its header promises {pages * page_size:,} bytes but the file has {size:,}"
    return None


# Multi-row VALUES statements bind ~3x faster than executemany of one row each (bench/ingest).
_ROWS_PER_STATEMENT = 500
_POINT_UPSERT = (
    "INSERT INTO series (run_id, key_id, step, wall_time, value) VALUES {} "
    "ON CONFLICT (run_id, key_id, step) DO UPDATE SET wall_time = excluded.wall_time, value = excluded.value"
)
_POINT_SQL_FULL = _POINT_UPSERT.format(", ".join(["(?, ?, ?, ?, ?)"] * _ROWS_PER_STATEMENT))

_SERIES_SQL = (
    "SELECT step, wall_time, COALESCE(value, 'nan') FROM series WHERE run_id = ? AND key_id = ? ORDER BY step"
)

# The last point of a series, with the next change number (above every number held now or deleted before;
# writers are serialized by BEGIN IMMEDIATE, so numbers grow in commit order; PostgreSQL would use a sequence).
_LAST_SQL = (
    "INSERT INTO series_last (run_id, key_id, step, wall_time, value, seq)"
    " SELECT run_id, key_id, step, wall_time, value, (SELECT MAX(n) FROM (SELECT MAX(seq) AS n FROM series_last"
    " UNION ALL SELECT floor FROM series_seq) AS known) + 1"
    " FROM series WHERE run_id = ? AND key_id = ?"
    " ORDER BY step DESC LIMIT 1"
    " ON CONFLICT (run_id, key_id) DO UPDATE SET step = excluded.step, wall_time = excluded.wall_time,"
    " value = excluded.value, seq = excluded.seq"
)


_CONTEXT_DELETES = (
    "DELETE FROM series WHERE run_id IN ({})",
    "DELETE FROM series_last WHERE run_id IN ({})",
    "DELETE FROM attribution WHERE context_id IN ({})",
    "DELETE FROM context WHERE id IN ({})",
)


def _intern(conn: sqlite3.Connection, name: str) -> int:
    """The id of series key `name`, added when new, inside the caller's write transaction."""
    conn.execute("INSERT INTO series_key (name) VALUES (?) ON CONFLICT (name) DO NOTHING", (name,))
    return int(conn.execute("SELECT id FROM series_key WHERE name = ?", (name,)).fetchone()[0])


def _insert_points(conn: sqlite3.Connection, flat: list[Any]) -> None:
    # Within one statement a repeated (run, key, step) updates the earlier row, so the last logged wins.
    width = 5 * _ROWS_PER_STATEMENT
    full = len(flat) - len(flat) % width
    if full:
        conn.executemany(_POINT_SQL_FULL, [flat[i : i + width] for i in range(0, full, width)])
    rest = flat[full:]
    if rest:
        conn.execute(_POINT_UPSERT.format(", ".join(["(?, ?, ?, ?, ?)"] * (len(rest) // 5))), rest)


def _merge_json(conn: sqlite3.Connection, column: str, run_id: int, values: dict[str, Any]) -> None:
    from .. import values as _values

    assert column in ("params", "metrics")
    row = conn.execute(f"SELECT {column} FROM context WHERE id = ?", (run_id,)).fetchone()
    if row is None:
        return  # the run was deleted meanwhile
    merged = _values.decode(row[0])
    merged.update(values)
    conn.execute(
        f"UPDATE context SET {column} = ?, update_time = ? WHERE id = ?",
        (_values.encode(merged), time.time(), run_id),
    )

