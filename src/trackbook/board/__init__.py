"""The board: a live run table and overlaid curves inside the notebook (an anywidget, no server).

`board(...)` makes a `Board`; `html.standalone(...)` renders the same board as one self-contained HTML page.
Modules: `feed` (what changed in the store, reduction), `encode` (JSON-safe rows, packed series), `follower`
(the background thread), `widget` (the Board), `html` (the static fallback and the standalone page).
The widget module imports anywidget, so it loads on first use, not with `import trackbook`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..store import Store
    from .widget import Board


def board(
    experiment: str | Sequence[str] | None = None,
    *,
    metrics: str | Sequence[str] | None = None,
    runs: str | Sequence[str] | None = None,
    store: str | os.PathLike[str] | Store | None = None,
) -> Board:
    """A live board of runs: a sortable, filterable run table and one chart per metric overlaying runs.

    `experiment` is a name, a list of names, or None for every experiment of the store; an experiment that
    does not exist yet shows how to log a first run and fills in once runs are logged. `metrics` picks the
    charted series keys (default: every key), `runs` narrows the table to these run names, `store` picks
    the store file (default: the session's). The board follows the store while it is open: runs logged in
    this kernel, in a later cell, or by another process writing the same file appear within a second.
    """
    from .widget import Board

    return Board(experiment, metrics=metrics, runs=runs, store=store)


def __getattr__(name: str) -> Any:
    if name == "Board":
        from .widget import Board

        return Board
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["Board", "board"]
