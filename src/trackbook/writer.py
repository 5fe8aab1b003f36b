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
from .store import Batch, CommitResult, Store
from .store.core import environmental, transient

INTERVAL = float(os.environ.get("TRACKBOOK_FLUSH_INTERVAL", "0.2"))
HEARTBEAT_INTERVAL = float(os.environ.get("TRACKBOOK_HEARTBEAT_INTERVAL", "10"))
MAX_PENDING = int(os.environ.get("TRACKBOOK_MAX_PENDING", "1000000"))  # queued log calls
RETRY_MAX = 5.0  # seconds between retries of a failing commit, at most
QUIET_RETRY = 10.0  # seconds of lock contention retried before the one warning
MAX_BATCH = 100_000  # log calls per transaction when a backlog has built up

_writers: weakref.WeakSet[Writer] = weakref.WeakSet()


class _BatchKeys(dict):  # type: ignore[type-arg]
    """Series key name -> id for one batch: known ids, and provisional negative ids for new names, which the
    store interns inside the batch's own transaction (so a failing disk cannot fail the build)."""

    def __init__(self, known: dict[str, int]) -> None:
        super().__init__(known)
        self.new: dict[str, int] = {}

    def __missing__(self, key: str) -> int:
        provisional = self[key] = self.new[key] = -1 - len(self.new)
        return provisional


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
        self._failed: tuple[list[Any], list[Any]] | None = None  # raw (items, points) of a failed commit
        self._warned_error = False
        self._warned_drop = False
        self._warned_lost = False
        self._last_transient = False
        self.lost = 0  # points dropped because they could not be stored at all (see _salvage)
        self._failing_since: float | None = None
        self._keys: dict[str, int] = {}  # series key name -> interned id
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
            if self.failures != start_failures and not self._last_transient:
                return False  # a commit after our request failed: the store is not writable now
            if deadline is not None and time.monotonic() > deadline:
                return False
        return True

    def close(self, timeout: float = 10.0) -> None:
        """Stop the thread and commit what is left from the calling thread, retrying for up to `timeout`
        seconds; what still cannot be written then is reported in one warning."""
        self._stop = True
        self._wake.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=30)
        deadline = time.monotonic() + timeout
        delay = 0.05
        while True:
            ok, more = self._commit_pending()
            if ok and not more:
                return
            if not ok:
                if time.monotonic() > deadline:
                    warnings.warn(
                        f"trackbook: {self.pending:,} log calls could not be written to {self.store.path} "
                        "before exit and are lost",
                        TrackbookWarning,
                        stacklevel=2,
                    )
                    return
                time.sleep(delay)
                delay = min(delay * 2, 1.0)

    # -- the committer ----------------------------------------------------------------------------------

    def _loop(self) -> None:
        delay = self.interval
        while not self._stop:
            self._wake.wait(delay)
            self._wake.clear()
            if self._stop:
                break
            started = time.monotonic()
            try:
                ok, more = self._commit_pending()
            except BaseException as exc:  # never let the thread die: everything queued would stay unwritten
                ok, more = False, False
                self._warn_error(exc)
            # A commit that took longer than the interval, or left a backlog, is followed at once by the next
            # one, so a backlog shrinks instead of growing (what a kill can lose is what is not yet committed).
            spent = time.monotonic() - started
            if ok:
                delay = 0.0 if more else max(self.interval - spent, 0.0)
            else:
                delay = min(RETRY_MAX, max(delay * 2, 0.25))

    def _commit_pending(self) -> tuple[bool, bool]:
        """Commit the failed batch, if any, or else the next batch of what is queued.

        Returns (ok, more): ok is False when the commit failed (the batch is kept for a retry); more is True
        when a backlog remains for another batch.
        """
        with self._lock:
            if self._failed is not None:
                items, points = self._failed
            else:
                taken = self._take()
                if taken is None:
                    return True, False
                items, points = taken
            if not self._attempt(items, points):
                self._failed = (items, points)
                return False, True
            self._failed = None
            return True, len(self.points) > 0 or len(self.queue) > 0

    def _take(self) -> tuple[list[Any], list[Any]] | None:
        """The next batch off the queues: control items first, then points (see the class docstring).

        A backlog larger than MAX_BATCH calls is committed in several transactions, so no one commit holds
        the file's write lock for long; control items then wait until the points queued before them are in.
        """
        queue, points = self.queue, self.points
        if len(points) > MAX_BATCH:
            return [], [points.popleft() for _ in range(MAX_BATCH)]
        n = len(queue)
        if n == 0 and not points and not self._beat_due():
            return None
        items = [queue.popleft() for _ in range(n)]
        return items, [points.popleft() for _ in range(len(points))]

    def _beat_due(self) -> bool:
        return bool(self.owned) and time.monotonic() - self._last_beat > HEARTBEAT_INTERVAL

    def _build(self, items: list[Any], points: list[Any]) -> tuple[Batch, list[threading.Event]]:
        keys = _BatchKeys(self._keys)
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
        return Batch(flat, params, metrics, states, keys.new), events

    def _attempt(self, items: list[Any], points: list[Any]) -> bool:
        """Build and commit one batch. False when the store cannot be written (the caller keeps the batch)."""
        batch, events = self._build(items, points)
        beat = self._beat_due()
        self.attempts += 1
        try:
            result = self.store.commit(batch, sorted(self.owned) if beat else ())
        except Exception as exc:
            if not environmental(exc):
                # Something in the batch cannot be stored (validation should have refused it): store the rest.
                # Writes are idempotent (upserts and merges), so a salvage cut short is simply retried.
                try:
                    self._salvage(items, points)
                    return True
                except Exception as again:
                    exc = again
            self.failures += 1
            self._last_transient = transient(exc)
            now = time.monotonic()
            if self._failing_since is None:
                self._failing_since = now
            if not (self._last_transient and now - self._failing_since < QUIET_RETRY):
                self._warn_error(exc, batch.points)  # lock contention under heavy load passes quietly
            return False
        self._done(result, beat, events)
        return True

    def _done(self, result: CommitResult, beat: bool, events: list[threading.Event]) -> None:
        self._keys.update(result.key_ids)
        if result.orphans:
            self._lose(result.orphans, "they belong to a run that was deleted")
        if beat:
            self._last_beat = time.monotonic()
        self._failing_since = None
        self._last_transient = False
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

    def _salvage(self, items: list[Any], points: list[Any]) -> None:
        """Commit what can be stored, splitting the batch in halves around whatever cannot; drop that, counted."""
        if len(items) + len(points) <= 1:
            try:
                batch, events = self._build(items, points)
                result = self.store.commit(batch)
            except Exception as exc:
                if environmental(exc):
                    raise
                self._lose(max(len(points[0][3]) if points else 0, 1), f"{type(exc).__name__}: {exc}")
                for item in items:
                    if type(item) is not tuple:
                        item.set()
                return
            self._done(result, False, events)
            return
        # Points first, in halves; then the control items one by one (a flush Event is set at the end).
        if len(points) > 1:
            half = len(points) // 2
            self._salvage([], points[:half])
            self._salvage([], points[half:])
        elif points:
            self._salvage([], points)
        for item in items:
            self._salvage([item], [])

    def _lose(self, n_points: int, why: str) -> None:
        self.lost += n_points
        if not self._warned_lost:
            self._warned_lost = True
            warnings.warn(
                f"trackbook: {n_points:,} values could not be stored in {self.store.path} and were dropped ({why}); "
                "everything else was written (see writer.lost)",
                TrackbookWarning,
                stacklevel=2,
            )

    def _warn_error(self, exc: BaseException, points: int | None = None) -> None:
        if self._warned_error:
            return
        self._warned_error = True
        kept = f"{points:,} points are" if points is not None else "what was logged is"
        warnings.warn(
            f"trackbook: could not write to {self.store.path} ({exc}); training goes on, {kept} kept in memory "
            "and writing is retried",
            TrackbookWarning,
            stacklevel=2,
        )

    @property
    def pending(self) -> int:
        """Queued log calls plus those of a batch waiting for a retry."""
        failed = len(self._failed[0]) + len(self._failed[1]) if self._failed else 0
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
