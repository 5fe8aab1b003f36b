"""`import_tensorboard(logdir)`: every run of a TensorBoard log directory, with every scalar point.

Each folder holding tfevents files is a run, named by its path under the log directory (`lr-0.01/train`; the
log directory itself by its own name); all runs go into one experiment (default: the log directory's name).
Scalars, written the TF1 way (`simple_value`, e.g. PyTorch's SummaryWriter) or the TF2 way (tensors of the
scalars plugin, e.g. `tf.summary.scalar`), become series with their steps, values and wall times, every point
(tensorboard's reader with no sampling). HParams (`add_hparams`, `hp.hparams`) become params. Images,
histograms, audio, text and graphs are not imported; the summary counts them. As in TensorBoard, points
orphaned by a restart (steps logged again after a crash) are dropped in favour of the newer ones.

Reading needs the `tensorboard` package (not TensorFlow).
"""

from __future__ import annotations

import os
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from ..session import resolve
from ..store import Store
from .ingest import clean_name, ingest
from .progress import Progress
from .source import RunContent, Series, SourceRun
from .summary import ImportSummary

TOOL = "tensorboard"
_NOT_IMPORTED = {"images": "image", "audio": "audio", "histograms": "histogram", "distributions": "histogram"}


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
    accumulator = _tensorboard()
    name = experiment or clean_name(root.resolve().name, "tensorboard")
    st, writer = resolve(store)
    writer.flush()
    summary = ImportSummary(TOOL, str(logdir), st.path)
    sources = [_source(accumulator, root, run_dir, files, children, name) for run_dir, files, children in _runs(root)]
    if not sources:
        raise ValueError(f"{root} holds no TensorBoard event files (events.out.tfevents.*)")
    bar = Progress(len(sources), "tensorboard", enabled=progress)
    ingest(sources, st, summary, bar)
    bar.close()
    summary.seconds = time.monotonic() - started
    return summary


def _tensorboard() -> Any:
    try:
        from tensorboard.backend.event_processing import event_accumulator
    except ImportError:
        raise ImportError(
            "importing TensorBoard logs needs the tensorboard package: pip install tensorboard "
            "(or pip install 'trackbook[integrations]')"
        ) from None
    return event_accumulator


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


def _source(accumulator: Any, root: Path, run_dir: Path, files: list[Path], children: list[Path],
            experiment: str) -> SourceRun:
    relative = run_dir.relative_to(root).as_posix()
    name = run_dir.resolve().name if relative == "." else relative
    # A run's first event file is named after its writer (time, host, pid): the run's identity for good.
    source_id = f"{relative}/{files[0].name}"
    every = files + [f for child in children for f in sorted(child.glob("*tfevents*"))]
    fingerprint = ";".join(f"{f.parent.name}/{f.name}:{f.stat().st_size}" for f in every)

    def load() -> RunContent:
        content = _content(accumulator, run_dir, relative)
        for child in children:
            extra = _content(accumulator, child, child.relative_to(root).as_posix())
            content.params.update(extra.params)
            for key, series in extra.series.items():
                content.series.setdefault(key, series)
            content.notes += extra.notes
        return content

    return SourceRun(TOOL, source_id, fingerprint, experiment, name, load)


def _content(accumulator: Any, run_dir: Path, relative: str) -> RunContent:
    from tensorboard.util import tensor_util

    everything = {
        accumulator.SCALARS: 0,
        accumulator.TENSORS: 0,
        accumulator.IMAGES: 1,
        accumulator.AUDIO: 1,
        accumulator.HISTOGRAMS: 1,
        accumulator.COMPRESSED_HISTOGRAMS: 1,
    }
    acc = accumulator.EventAccumulator(str(run_dir), size_guidance=everything)
    acc.Reload()
    tags = acc.Tags()
    series: dict[str, Series] = {}
    for tag in tags.get("scalars", []):
        events = acc.Scalars(tag)
        series[tag] = Series(
            np.array([e.step for e in events], dtype=np.int64),
            np.array([round(e.wall_time * 1000) for e in events], dtype=np.int64),
            np.array([e.value for e in events], dtype=np.float64),
        )
    skipped: Counter[str] = Counter()
    for label in set(_NOT_IMPORTED.values()):
        skipped[label] = len({t for kind, lab in _NOT_IMPORTED.items() if lab == label for t in tags.get(kind, [])})
    for tag in tags.get("tensors", []):
        plugin = acc.SummaryMetadata(tag).plugin_data.plugin_name
        if plugin == "scalars":
            events = acc.Tensors(tag)
            series[tag] = Series(
                np.array([e.step for e in events], dtype=np.int64),
                np.array([round(e.wall_time * 1000) for e in events], dtype=np.int64),
                np.array([float(tensor_util.make_ndarray(e.tensor_proto).item()) for e in events], dtype=np.float64),
            )
        elif plugin != "hparams":
            skipped[plugin or "tensor"] += 1
    params = _hparams(acc)
    try:
        first = float(acc.FirstEventTimestamp())
    except ValueError:
        first = time.time()
    last = max((int(s.wall_ms.max()) for s in series.values() if len(s.wall_ms)), default=int(first * 1000))
    notes = []
    if sum(skipped.values()):
        parts = ", ".join(f"{n} {kind} tag{'s' if n != 1 else ''}" for kind, n in sorted(skipped.items()) if n)
        notes.append(f"not imported (only scalars are): {parts}")
    return RunContent(
        state="COMPLETE",
        create_time=first,
        end_time=max(last / 1000, first),
        heartbeat=None,
        description=None,
        params=params,
        metrics={},
        series=series,
        origin={"logdir_run": relative, "event_files": sorted(p.name for p in run_dir.glob("*tfevents*"))},
        notes=notes,
    )


def _hparams(acc: Any) -> dict[str, Any]:
    """The hyperparameters of an HParams session (session_start_info), as params."""
    try:
        from tensorboard.plugins.hparams import plugin_data_pb2
    except ImportError:
        return {}
    try:
        contents = acc.PluginTagToContent("hparams")
    except KeyError:  # no HParams in this run
        return {}
    out: dict[str, Any] = {}
    for content in contents.values():
        try:
            data = plugin_data_pb2.HParamsPluginData.FromString(content)
        except Exception:
            continue
        if not data.HasField("session_start_info"):
            continue
        for key, value in data.session_start_info.hparams.items():
            kind = value.WhichOneof("kind")
            if kind == "number_value":
                number = value.number_value
                out[key] = int(number) if number.is_integer() and abs(number) < 2**53 else number
            elif kind == "string_value":
                out[key] = value.string_value
            elif kind == "bool_value":
                out[key] = value.bool_value
    return out
