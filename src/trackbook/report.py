"""The shareable report: the board of some experiments as one self-contained HTML file.

Scripts and data are inlined (the board's own front end, the run table, the curves reduced to the chart
width), so the file opens offline in any browser with no kernel and no server, and can be mailed or
attached to a ticket. Store data is rendered as text, never as HTML.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from . import selection
from .store import Store

MAX_CURVES = 50  # runs whose curves are drawn; the table always lists every run


def report(
    path: str | os.PathLike[str],
    experiment: str | Sequence[str] | None = None,
    *,
    metrics: str | Sequence[str] | None = None,
    runs: str | Sequence[str] | None = None,
    store: str | os.PathLike[str] | Store | None = None,
    title: str | None = None,
) -> Path:
    """Write the board of `experiment` (a name, a list of names, or None for all) to `path` as HTML.

    The table lists every run; curves are drawn for every run, up to the newest MAX_CURVES. Returns the
    path written. Raises ValueError, before writing anything, when `path` cannot be written, for a run
    name that no run has and for a metric that none of the runs has logged.
    """
    from .board.html import standalone
    from .session import resolve
    from .tracking import find_experiments

    target = _writable(path)
    st, writer = resolve(store)
    writer.flush()  # the checks below read what was logged
    names = [experiment] if isinstance(experiment, str) else experiment
    # NotFound (naming the experiments that exist) for an unknown name; None means every experiment.
    exp_rows = find_experiments(st, names if names is not None else [e.name for e in st.experiments()])
    # ValueError naming an unknown run, or a metric none of the runs has logged, before anything is written.
    rows, _ = selection.select(st, st.runs([e.id for e in exp_rows]), selection.describe(exp_rows), runs, metrics)
    run_names = [r.name for r in rows]
    html = standalone(
        experiment,
        metrics=metrics,
        runs=runs,
        selected=run_names[-MAX_CURVES:],
        store=st,
        title=title or _title(names),
    )
    try:
        target.write_text(html, encoding="utf-8")
    except OSError as exc:
        raise ValueError(f"cannot write the report to {target}: {exc.strerror or exc}") from None
    return target


def _writable(path: str | os.PathLike[str]) -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or a path, got {type(path).__name__}")
    target = Path(path).expanduser()
    if target.is_dir():
        raise ValueError(f"cannot write the report to {target}: it is a directory; give a file name like report.html")
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.is_dir():
        raise ValueError(f"cannot write the report to {target}: the directory {parent} does not exist")
    if not os.access(parent, os.W_OK) or (target.exists() and not os.access(target, os.W_OK)):
        raise ValueError(f"cannot write the report to {target}: permission denied")
    return target


def _title(names: Sequence[str] | None) -> str:
    if not names:
        return "trackbook report"
    return "trackbook report: " + ", ".join(names)
