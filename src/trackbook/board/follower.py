"""The board's background thread: it follows the store while the kernel is busy running other cells.

It wakes when this process's writer commits (`Writer.on_commit`, the low-latency path for training in this
kernel), when the browser asks for something, and every POLL seconds otherwise (training in another process
writing the same file: `PRAGMA data_version` makes that check nearly free). Each wake runs `Board._tick`.
The thread holds only a weak reference to the board, so a board that is closed or collected stops it.
"""

from __future__ import annotations

import os
import threading
import warnings
import weakref
from collections.abc import Callable
from typing import Any

from ..exceptions import TrackbookWarning

POLL = float(os.environ.get("TRACKBOOK_BOARD_POLL", "0.1"))  # seconds between checks for other processes
MIN_GAP = 0.02  # seconds between two rounds, so a burst of commits becomes one message
LIVE_INTERVAL = 0.1  # the writer's commit interval (at most) while a live board follows its store

_hastened: dict[int, list[Any]] = {}  # id(writer) -> [boards following, the writer's own interval]
_hasten_lock = threading.Lock()


def hasten(writer: Any) -> None:
    """While a live board follows a store, this process's writer commits at least every LIVE_INTERVAL s,
    so a logged point reaches the board sooner (a commit of a few points costs well under a millisecond)."""
    with _hasten_lock:
        entry = _hastened.setdefault(id(writer), [0, writer.interval])
        entry[0] += 1
        writer.interval = min(entry[1], LIVE_INTERVAL)


def relax(writer: Any) -> None:
    """Undo one `hasten`; the last board to go gives the writer its own interval back."""
    with _hasten_lock:
        entry = _hastened.get(id(writer))
        if entry is None:
            return
        entry[0] -= 1
        if entry[0] <= 0:
            writer.interval = entry[1]
            del _hastened[id(writer)]


class Follower:
    """Runs `tick()` of its owner in a daemon thread until stopped."""

    def __init__(self, owner: Any, tick: Callable[[Any], None], interval: float = POLL) -> None:
        self._owner = weakref.ref(owner)
        self._tick = tick
        self.interval = interval
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._warned = False
        self.errors = 0
        self.thread = threading.Thread(target=self._loop, name="trackbook-board", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def poke(self) -> None:
        """Wake the thread now (safe from any thread, including the writer's)."""
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self.thread.is_alive() and self.thread is not threading.current_thread():
            self.thread.join(timeout=5)

    @property
    def alive(self) -> bool:
        return self.thread.is_alive()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.interval)
            if self._stop.is_set():
                break
            self._wake.clear()
            owner = self._owner()
            if owner is None:
                break
            try:
                self._tick(owner)
            except Exception as exc:  # the store may be briefly unreadable; keep following
                self.errors += 1
                if not self._warned:
                    self._warned = True
                    warnings.warn(f"trackbook board: could not refresh ({exc!r}); retrying", TrackbookWarning,
                                  stacklevel=1)
            del owner
            self._stop.wait(MIN_GAP)
