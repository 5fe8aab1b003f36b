"""The process-wide tracking session: which store, experiment and run the module-level calls use."""

from __future__ import annotations

import atexit
import os
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .store import Store
from .writer import Writer

if TYPE_CHECKING:
    from .experiment import Experiment
    from .run import ExperimentRun

DEFAULT_FILE = "trackbook.db"


@dataclass
class Session:
    """The active experiment and run of this process (Vertex's `_ExperimentTracker`)."""

    store_path: Path | None = None
    experiment: Experiment | None = None
    run: ExperimentRun | None = None
    tensorboard: Any = None
    uncaught: BaseException | None = None
    stores: dict[Path, tuple[Store, Writer]] = field(default_factory=dict)


session = Session()
_lock = threading.Lock()


def default_store_path() -> Path:
    """TRACKBOOK_STORE, else trackbook.db in the working directory."""
    env = os.environ.get("TRACKBOOK_STORE")
    return Path(env).expanduser().absolute() if env else Path.cwd() / DEFAULT_FILE


def resolve(store: str | os.PathLike[str] | Store | None = None) -> tuple[Store, Writer]:
    """The store (and its writer) for a path, a Store, or the session's store; opened once per process."""
    if isinstance(store, Store):
        path = store.path
    elif store is not None:
        path = Path(store).expanduser().absolute()
    else:
        if session.store_path is None:
            session.store_path = default_store_path()
        path = session.store_path
    with _lock:
        pair = session.stores.get(path)
        if pair is None:
            opened = store if isinstance(store, Store) else Store(path)
            pair = session.stores[path] = (opened, Writer(opened))
        return pair


def flush(timeout: float | None = 30.0) -> bool:
    """Make every logged value durable in every open store; False if a store could not be written in time."""
    return all(writer.flush(timeout) for _, writer in list(session.stores.values()))


def in_kernel() -> bool:
    """Whether this process is an interactive IPython session (a Jupyter kernel or the REPL)."""
    ipython = sys.modules.get("IPython")
    get = getattr(ipython, "get_ipython", None)
    return bool(get and get() is not None)


def _excepthook(exc_type: type[BaseException], exc: BaseException, tb: Any) -> None:
    session.uncaught = exc
    _previous_hook(exc_type, exc, tb)


def _at_exit() -> None:
    """End what this process left open: COMPLETE after a clean script, CANCELLED after an uncaught
    KeyboardInterrupt, FAILED after another uncaught error, CRASHED when an interactive session ends with a
    run still open. Then commit everything."""
    from .run import state_after

    if session.uncaught is None and in_kernel():
        state = "CRASHED"
    else:
        state = state_after(session.uncaught).name
    for store, writer in list(session.stores.values()):
        for run_id in sorted(writer.owned):
            writer.put(("state", run_id, (state, _now())))
        writer.owned.clear()
        writer.close()
        store.close()


def _now() -> float:
    import time

    return time.time()


_previous_hook = sys.excepthook
sys.excepthook = _excepthook
atexit.register(_at_exit)
