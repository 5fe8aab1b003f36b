"""`import_tensorboard(logdir)`: every run of a TensorBoard log directory, with every scalar point.

Each folder holding tfevents files is a run, named by its path under the log directory (`lr-0.01/train`; the
log directory itself by its own name); all runs go into one experiment (default: the log directory's name).
Scalars, written the TF1 way (`simple_value`, e.g. PyTorch's SummaryWriter) or the TF2 way (tensors of the
scalars plugin, e.g. `tf.summary.scalar`), become series with their steps, values and wall times: every point,
no sampling (`tfevents` reads the files; it keeps what TensorBoard's own reader keeps, orphaned points of a
restart purged the same way). HParams (`add_hparams`, `hp.hparams`) become params. Images, histograms, audio,
text and graphs are not imported; the summary counts them.

Reading needs the `tensorboard` package (its protos), not TensorFlow.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

from ..session import resolve
from ..store import Store
from .ingest import clean_name, ingest
from .progress import Progress
from .source import RunContent, Series, SourceRun
from .summary import ImportSummary
from .tfevents import read_run

TOOL = "tensorboard"


def import_tensorboard(
    logdir: str | os.PathLike[str],
    *,
    experiment: str | None = None,
    store: str | os.PathLike[str] | Store | None = None,
    progress: bool = False,
) -> ImportSummary:
    """Import the runs of a TensorBoard log directory into `experiment` (see the module docstring).

    Importing the same log directory again adds nothing; runs whose event files grew since are brought up to
    date. Raises FileNotFoundError for a missing directory and ValueError when it holds no event files.
    """
    started = time.monotonic()
    if not isinstance(logdir, (str, os.PathLike)):
        raise TypeError(f"logdir must be a str or a path, got {type(logdir).__name__}")
    if experiment is not None and not isinstance(experiment, str):
        raise TypeError(f"experiment must be a str, got {type(experiment).__name__}")
    root = Path(logdir).expanduser()
    if not root.is_dir():
        raise FileNotFoundError(f"no TensorBoard log directory at {root}")
    _tensorboard()
    name = experiment or clean_name(root.resolve().name, "tensorboard")
    if store is not None and not isinstance(store, (str, os.PathLike, Store)):
        raise TypeError(f"store must be a path or a Store, got {type(store).__name__}")
    st, writer = resolve(store)
    writer.flush()
    summary = ImportSummary(TOOL, str(logdir), st.path)
    sources = [_source(root, run_dir, files, children, name) for run_dir, files, children in _runs(root)]
    if not sources:
        raise ValueError(f"{root} holds no TensorBoard event files (events.out.tfevents.*)")
    bar = Progress(len(sources), "tensorboard", enabled=progress)
    ingest(sources, st, summary, bar)
    bar.close()
    summary.seconds = time.monotonic() - started
    return summary


def _tensorboard() -> None:
    try:
        import tensorboard.compat.proto.event_pb2  # noqa: F401
    except ImportError:
        raise ImportError(
            "importing TensorBoard logs needs the tensorboard package: pip install tensorboard "
            "(or pip install 'trackbook[integrations]')"
        ) from None


def _run_dirs(root: Path) -> list[tuple[Path, list[Path]]]:
    """Each folder under `root` (itself included) holding event files, with those files, in path order."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        events = sorted(Path(dirpath) / f for f in filenames if "tfevents" in f)
        if events:
            found.append((Path(dirpath), events))
    return found


def _runs(root: Path) -> list[tuple[Path, list[Path], list[Path]]]:
    """(run folder, its event files, its HParams child folders) for each run.

    PyTorch's `SummaryWriter.add_hparams` writes the hparams (and their metrics) into a child folder named
    by the time (`logs/lr-0.1/1717000000.123/`); such a child belongs to its parent run, not beside it.
    """
    dirs = _run_dirs(root)
    have_events = {d for d, _ in dirs}
    children: dict[Path, list[Path]] = {}
    runs = []
    for d, files in dirs:
        if d != root and d.parent in have_events and _is_timestamp(d.name):
            children.setdefault(d.parent, []).append(d)
        else:
            runs.append((d, files))
    return [(d, files, children.get(d, [])) for d, files in runs]


def _is_timestamp(name: str) -> bool:
    try:
        return float(name) > 1e9
    except ValueError:
        return False


def _source(root: Path, run_dir: Path, files: list[Path], children: list[Path], experiment: str) -> SourceRun:
    relative = run_dir.relative_to(root).as_posix()
    name = run_dir.resolve().name if relative == "." else relative
    # A run's first event file is named after its writer (time, host, pid): the run's identity for good.
    source_id = f"{relative}/{files[0].name}"
    every = files + [f for child in children for f in sorted(child.glob("*tfevents*"))]
    fingerprint = ";".join(f"{f.parent.name}/{f.name}:{f.stat().st_size}" for f in every)

    def load() -> RunContent:
        content = _content(files, relative)
        for child in children:
            extra = _content(sorted(child.glob("*tfevents*")), child.relative_to(root).as_posix())
            content.params.update(extra.params)
            for key, series in extra.series.items():
                content.series.setdefault(key, series)
            content.notes += extra.notes
        return content

    return SourceRun(TOOL, source_id, fingerprint, experiment, name, load)


def _content(files: list[Path], relative: str) -> RunContent:
    events = read_run(files)
    series = {
        tag: Series(
            np.array([p[0] for p in points], dtype=np.int64),
            np.array([round(p[1] * 1000) for p in points], dtype=np.int64),
            np.array([p[2] for p in points], dtype=np.float64),
        )
        for tag, points in events.scalars.items()
    }
    first = events.first_wall_time if events.first_wall_time is not None else time.time()
    last = max((int(s.wall_ms.max()) for s in series.values() if len(s.wall_ms)), default=int(first * 1000))
    notes = []
    if events.skipped:
        parts = ", ".join(f"{n} {kind} tag{'s' if n != 1 else ''}" for kind, n in sorted(events.skipped.items()))
        notes.append(f"not imported (only scalars are): {parts}")
    if events.unreadable:
        notes.append(f"{relative}: reading stopped at a record that does not parse in {', '.join(events.unreadable)}")
    return RunContent(
        state="COMPLETE",
        create_time=first,
        end_time=max(last / 1000, first),
        heartbeat=None,
        description=None,
        params=events.hparams,
        metrics={},
        series=series,
        origin={"logdir_run": relative, "event_files": [f.name for f in files]},
        notes=notes,
    )
