"""Writing source runs into a store: idempotently, one transaction per run, with a summary and progress.

Rules every importer shares:
- a run already imported (same tool and source identity) is skipped when its source is unchanged, and
  brought up to date (new points added, params/metrics/state refreshed) when it changed;
- a point keeps its step and value exactly and its wall time to the millisecond (the store's precision);
- a series whose points all share one step, or has negative steps (MLflow's `log_metric` without a step puts
  every point at step 0), keeps every point, numbered 0, 1, 2, ... in logging order; a series that logged some
  steps again (a resumed training) keeps the later point of each; the summary names every such series;
- names that trackbook cannot store as they are (too long, control characters, a run name already taken in
  the experiment) are adjusted, and the summary says so.
"""

from __future__ import annotations

import json
import sqlite3
import time
import unicodedata
from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import values as _values
from ..experiment import Experiment
from ..store import Store
from ..store.imports import IMPORTED_FROM, SeriesData
from .progress import Progress
from .source import Series, SourceRun
from .summary import ImportSummary


def ingest(sources: Sequence[SourceRun], store: Store, summary: ImportSummary, progress: Progress) -> None:
    """Write `sources` into `store`, counting what happened in `summary`."""
    known = store.imported_runs(summary.tool)
    experiments: dict[str, Experiment] = {}
    taken: dict[int, set[str]] = {}  # run names per experiment, read once
    for source in sources:
        previous = known.get(source.source_id)
        if previous is not None and previous.fingerprint == source.fingerprint:
            summary.runs_unchanged += 1
            progress.advance(source.label)
            continue
        content = source.load()
        summary.notes += [f"{source.label}: {note}" for note in content.notes]
        series = _series(store, source, content.series, summary)
        params = _params(content.params)
        metrics = _values.metrics({_key(k): v for k, v in content.metrics.items()})
        metadata = {
            IMPORTED_FROM: {
                "tool": source.tool,
                "id": source.source_id,
                "fingerprint": source.fingerprint,
                "imported_at": time.time(),
                **content.origin,
            }
        }
        common: dict[str, Any] = {
            "state": content.state,
            "end_time": content.end_time,
            "heartbeat": content.heartbeat,
            "description": content.description,
            "params": _values.encode(params),
            "metrics": _values.encode(metrics),
            "metadata": json.dumps(metadata, ensure_ascii=False, allow_nan=False, default=str),
            "series": series,
        }
        if previous is not None:
            points = store.update_imported_run(previous.run_id, **common)
            summary.runs_updated += 1
            exp_name = _experiment_name_of(store, previous.experiment_id)
        else:
            experiment = experiments.get(source.experiment)
            if experiment is None:
                experiment = experiments[source.experiment] = _experiment(source.experiment, store, summary)
            names = taken.get(experiment._id)
            if names is None:
                names = taken[experiment._id] = store.run_names(experiment._id)
            name = _run_name(names, source, summary)
            _, points = _create(store, experiment, name, content.create_time, common)
            names.add(name)
            summary.runs_imported += 1
            exp_name = experiment.name
        summary.experiments[exp_name] = summary.experiments.get(exp_name, 0) + 1
        summary.params += len(params)
        summary.metrics += len(metrics)
        summary.series += sum(1 for s in series if len(s.steps))
        summary.points += points
        progress.advance(source.label, points)


def _create(store: Store, experiment: Experiment, name: str, create_time: float, common: dict[str, Any]) -> Any:
    try:
        return store.import_run(experiment._id, name, create_time=create_time, **common)
    except sqlite3.IntegrityError:  # someone took the name meanwhile
        return store.import_run(experiment._id, f"{name}-{time.time_ns() % 100000:05d}", create_time=create_time,
                                **common)


def _experiment(name: str, store: Store, summary: ImportSummary) -> Experiment:
    clean = clean_name(name, "imported")
    if clean != name:
        summary.notes.append(f"experiment {name[:60]!r} is stored as {clean!r} (names are at most "
                             f"{_values.NAME_MAX} printable characters)")
    existing = Experiment.get(clean, store=store)
    if existing is not None:
        return existing
    summary.experiments_created.append(clean)
    return Experiment.get_or_create(clean, store=store)


def _experiment_name_of(store: Store, experiment_id: int) -> str:
    row = store.context_by_id(experiment_id)
    return row.name if row is not None else "?"


def _run_name(taken: set[str], source: SourceRun, summary: ImportSummary) -> str:
    name = clean_name(source.name, source.source_id[:32] or "run")
    if name not in taken:
        return name
    suffix = "".join(ch for ch in source.source_id if ch.isalnum())[-8:] or "imported"
    candidate = clean_name(f"{name}-{suffix}", name)
    n = 2
    while candidate in taken:
        candidate = clean_name(f"{name}-{suffix}-{n}", name)
        n += 1
    summary.notes.append(f"{source.label}: the experiment already has a run of that name; imported as {candidate!r}")
    return candidate


def clean_name(text: str, fallback: str) -> str:
    """`text` as a valid experiment or run name: control characters become spaces, cut to the limit."""
    cleaned = "".join(" " if unicodedata.category(ch) in ("Cc", "Cs", "Zl", "Zp") else ch for ch in str(text))
    cleaned = cleaned.strip()[: _values.NAME_MAX].strip()
    return cleaned or fallback


def _key(key: str) -> str:
    cleaned = "".join(" " if unicodedata.category(ch) in ("Cc", "Cs", "Zl", "Zp") else ch for ch in str(key))
    return cleaned[: _values.KEY_MAX] or "_"


def _params(params: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in params.items():
        k = _key(key)
        try:
            out[k] = _values.scalar(k, value)
        except (TypeError, ValueError):
            out[k] = str(value)
    return out


def _series(store: Store, source: SourceRun, raw: dict[str, Series], summary: ImportSummary) -> list[SeriesData]:
    out: list[SeriesData] = []
    for key, s in raw.items():
        steps, wall, values, change = normalize(s)
        if change == "renumbered":
            summary.notes.append(
                f"{source.label}: {key!r} has {len(steps):,} points at one step (or at negative steps) in the "
                f"source; they are numbered 0..{len(steps) - 1} in logging order"
            )
        elif change:
            summary.notes.append(
                f"{source.label}: {key!r} was logged again at {change:,} step{'s' if change != 1 else ''} it already "
                "had (a resumed training); the later point of each is kept"
            )
        out.append(SeriesData(store.key_id(_key(key)), steps, wall, values))
    return out


def normalize(s: Series) -> tuple[np.ndarray, np.ndarray, np.ndarray, str | int | None]:
    """(steps, wall_ms, values, change) with unique steps >= 0, in step order.

    Unique steps are kept as they are (change None). Points all at one step, or at negative steps, are numbered
    0..n-1 in logging order, the order the source lists them ("renumbered"). Otherwise the later-logged point
    of a repeated step wins, as a resumed training supersedes the first attempt (change: how many steps repeat).
    """
    steps = np.asarray(s.steps, dtype=np.int64)
    wall = np.asarray(s.wall_ms, dtype=np.int64)
    values = np.asarray(s.values, dtype=np.float64)
    n = len(steps)
    if n == 0:
        return steps, wall, values, None
    distinct = np.unique(steps)
    if steps.min() >= 0 and len(distinct) == n:
        order = np.argsort(steps, kind="stable")
        return steps[order], wall[order], values[order], None
    if steps.min() < 0 or len(distinct) == 1:
        return np.arange(n, dtype=np.int64), wall, values, "renumbered"
    by_step = np.argsort(steps, kind="stable")  # within a step, logging order
    last = np.r_[steps[by_step][1:] != steps[by_step][:-1], True]
    keep = by_step[last]
    repeated = int(np.sum(np.bincount(np.searchsorted(distinct, steps)) > 1))
    return steps[keep], wall[keep], values[keep], repeated
