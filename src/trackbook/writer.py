"""Logging never waits on disk: log calls append to an in-memory queue; a background thread commits them.

The thread wakes every INTERVAL seconds (or on `flush`), turns everything queued into one transaction and
commits it, so a batch is either wholly in the file or not at all and points land in the order they were
logged. When a commit fails (disk full, read-only file, a lock held too long) the batch is kept and retried
with one warning; past MAX_PENDING queued calls further series points are dropped and counted (params,
metrics and states never are). `flush()`, `end_run` and process exit make everything durable.
"""

from __future__ import annotations

import os
import threading
import time
import warnings
import weakref
from collections import deque
from collections.abc import Callable
from typing import Any

from .exceptions import TrackbookWarning
from .store import Batch, Store
from .store.core import transient

INTERVAL = float(os.environ.get("TRACKBOOK_FLUSH_INTERVAL", "0.2"))
HEARTBEAT_INTERVAL = float(os.environ.get("TRACKBOOK_HEARTBEAT_INTERVAL", "10"))
MAX_PENDING = int(os.environ.get("TRACKBOOK_MAX_PENDING", "1000000"))  # queued log calls
RETRY_MAX = 5.0  # seconds between retries of a failing commit, at most
QUIET_RETRY = 10.0  # seconds of lock contention retried before the one warning

_writers: weakref.WeakSet[Writer] = weakref.WeakSet()


class _KeyIds(dict):  # type: ignore[type-arg]
    """Series key name -> interned id; a new key is interned in the store on first sight."""

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store

    def __missing__(self, key: str) -> int:
        kid = self[key] = self.store.key_id(key)
        return kid


class Writer:
    """The background committer of one store in this process.

    Producers append points to `points` (`(run_id, step, wall_ms, values)`) and everything else with
    `put`: `("params", run_id, dict)`, `("metrics", run_id, dict)`, `("state", run_id, (name, time))` or a
    flush Event. Both are bare deque appends, safe from any thread. The writer drains `queue` before
    `points`, so a flush Event is only set once every point appended before it is committed.
    """

    def __init__(self, store: Store, interval: float = INTERVAL, max_pending: int = MAX_PENDING) -> None:
        self.store = store
        self.interval = interval
        self.max_pending = max_pending
        self.points: deque[tuple[int, int, int, dict[str, float]]] = deque()
        self.queue: deque[Any] = deque()
        self.put = self.queue.append
        self.owned: set[int] = set()  # runs of this process that get heartbeats
        self.on_commit: list[Callable[[], None]] = []  # called (from the writer thread) after each commit
        self.dropped = 0
        self.failures = 0  # failed commit attempts
        self.attempts = 0  # commit attempts, failed or not
        self._failed: tuple[Batch, list[threading.Event]] | None = None
        self._warned_error = False
        self._warned_drop = False
        self._failing_since: float | None = None
        self._keys = _KeyIds(store)
        self._wake = threading.Event()
        self._stop = False
        self._last_beat = 0.0
        self._lock = threading.Lock()  # one committer at a time (the thread, or close())
        self._thread: threading.Thread | None = None
        self._start()
        _writers.add(self)

    def _start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="trackbook-writer", daemon=True)
        self._thread.start()

    # -- producers ----------------------------------------------------------------------------------------

    def drop(self, n_points: int) -> None:
        """Count points refused because the queue is full, warning once."""
        self.dropped += n_points
        if not self._warned_drop:
            self._warned_drop = True
            warnings.warn(
                f"trackbook: {self.max_pending:,} log calls are waiting to be written to {self.store.path}; "
                "further time-series points are dropped until writing catches up (see writer.dropped)",
                TrackbookWarning,
                stacklevel=4,
            )

    def flush(self, timeout: float | None = 30.0) -> bool:
        """Wait until everything queued so far is committed.

        Returns False, leaving the data queued for later retries, when that did not happen within
        `timeout` or when the store cannot be written right now (so end_run never stalls training).
        """
        if self._thread is None or not self._thread.is_alive():
            self._commit_pending()
            return not self.queue and not self.points and self._failed is None
        done = threading.Event()
        start_failures = self.failures
        self.put(done)
        self._wake.set()
        deadline = None if timeout is None else time.monotonic() + timeout
        while not done.wait(0.02):
            if self.failures != start_failures:
                return False  # a commit after our request failed: the store is not writable now
            if deadline is not None and time.monotonic() > deadline:
                return False
        return True

    def close(self) -> None:
        """Stop the thread and commit what is left from the calling thread."""
        self._stop = True
        self._wake.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=30)
        self._commit_pending()

    # -- the committer ----------------------------------------------------------------------------------

    def _loop(self) -> None:
        delay = self.interval
        while not self._stop:
            self._wake.wait(delay)
            self._wake.clear()
            if self._stop:
                break
            started = time.monotonic()
            ok = self._commit_pending()
            # A commit that took longer than the interval is followed at once by the next one, so a backlog
            # shrinks instead of growing (what a kill can lose is what is not yet committed).
            spent = time.monotonic() - started
            delay = max(self.interval - spent, 0.0) if ok else min(RETRY_MAX, max(delay * 2, 0.25))

    def _commit_pending(self) -> bool:
        """Commit the failed batch (if any) and then everything queued. False when a commit failed."""
        with self._lock:
            if self._failed is not None:
                batch, events = self._failed
                if not self._try_commit(batch, events):
                    return False
                self._failed = None
            queue, points = self.queue, self.points
            n = len(queue)
            if n == 0 and not points and not self._beat_due():
                return True
            items = [queue.popleft() for _ in range(n)]  # control first: see the class docstring
            pending = [points.popleft() for _ in range(len(points))]
            batch, events = self._build(items, pending)
            if not self._try_commit(batch, events):
                self._failed = (batch, events)
                return False
            return True

    def _beat_due(self) -> bool:
        return bool(self.owned) and time.monotonic() - self._last_beat > HEARTBEAT_INTERVAL

    def _build(self, items: list[Any], points: list[Any]) -> tuple[Batch, list[threading.Event]]:
        keys = self._keys
        # One comprehension is ~25% faster than a loop of extend() calls (bench/tracking.py ingest).
        flat = [
            x
            for run_id, step, wall, values in points
            for key, value in values.items()
            for x in (run_id, keys[key], step, wall, value)
        ]
        params: dict[int, dict[str, Any]] = {}
        metrics: dict[int, dict[str, Any]] = {}
        states: list[tuple[int, str, float]] = []
        events: list[threading.Event] = []
        for item in items:
            if type(item) is not tuple:
                events.append(item)
            else:
                kind, run_id, values = item
                if kind == "state":
                    states.append((run_id, *values))
                else:
                    target = params if kind == "params" else metrics
                    target.setdefault(run_id, {}).update(values)
        return Batch(flat, params, metrics, states), events

    def _try_commit(self, batch: Batch, events: list[threading.Event]) -> bool:
        beat = self._beat_due()
        self.attempts += 1
        try:
            self.store.commit(batch, sorted(self.owned) if beat else ())
        except Exception as exc:  # disk full, read-only, locked for too long, ...
            self.failures += 1
            now = time.monotonic()
            if self._failing_since is None:
                self._failing_since = now
            if transient(exc) and now - self._failing_since < QUIET_RETRY:
                return False  # lock contention under heavy load passes: retry without alarming anyone
            if not self._warned_error:
                self._warned_error = True
                n = batch.points
                warnings.warn(
                    f"trackbook: could not write to {self.store.path} ({exc}); training goes on, {n:,} points "
                    "are kept in memory and writing is retried",
                    TrackbookWarning,
                    stacklevel=2,
                )
            return False
        if beat:
            self._last_beat = time.monotonic()
        self._failing_since = None
        if self._warned_error:
            self._warned_error = False
            warnings.warn(f"trackbook: writing to {self.store.path} works again", TrackbookWarning, stacklevel=2)
        for event in events:
            event.set()
        for callback in list(self.on_commit):
            try:
                callback()
            except Exception:  # a listener (e.g. a closed board) must never stop the writer
                self.on_commit.remove(callback)
        return True

    @property
    def pending(self) -> int:
        """Queued log calls plus the points of a batch waiting for a retry."""
        failed = self._failed[0].points if self._failed else 0
        return len(self.queue) + len(self.points) + failed


def _after_fork() -> None:
    # A forked child inherits the queues but not the thread, and must not reuse the parent's connections.
    for writer in list(_writers):
        writer.queue = deque()
        writer.points = deque()
        writer.put = writer.queue.append
        writer.owned = set()
        writer._failed = None
        writer._lock = threading.Lock()
        writer._wake = threading.Event()
        writer._start()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)
