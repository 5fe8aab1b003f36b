"""pandas DataFrames built from the store: the run table, one run's series, and the long history."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from . import values as _values
from .store import Context, Store, live_state


def experiment_frame(
    store: Store, experiments: Sequence[tuple[int, str]], include_time_series: bool = True
) -> pd.DataFrame:
    """Vertex's `get_experiment_df` layout: experiment_name, run_name, run_type, state, param.*, metric.*,
    time_series_metric.* (the last value of each series); one row per run, oldest first.

    Columns within a group keep first-appearance order, as in Vertex. An experiment with no runs gives a
    frame with no columns (Vertex does the same).
    """
    names = dict(experiments)
    rows = store.runs(list(names))
    if not rows:
        return pd.DataFrame([])
    return run_frame(store, rows, names, include_time_series)


def run_frame(
    store: Store, rows: Sequence[Context], experiment_names: dict[int, str], include_time_series: bool = True
) -> pd.DataFrame:
    """The run table for these context rows (see `experiment_frame`)."""
    base = pd.DataFrame(
        {
            "experiment_name": [experiment_names.get(r.experiment_id, "") for r in rows],
            "run_name": [r.name for r in rows],
            "run_type": [r.schema_title for r in rows],
            "state": [live_state(r.state, r.host, r.pid, r.heartbeat) or "STATE_UNSPECIFIED" for r in rows],
        }
    )
    parts = [base, *value_columns(rows)]
    if include_time_series:
        index = {r.id: i for i, r in enumerate(rows)}
        last = store.last_values(list(index))
        if last:
            columns: dict[str, np.ndarray] = {}
            for run_id, key, _step, _wall, value in last:
                col = columns.get(key)
                if col is None:
                    col = columns[key] = np.full(len(rows), np.nan)
                col[index[run_id]] = np.nan if value is None else value
            parts.append(pd.DataFrame({f"time_series_metric.{k}": v for k, v in columns.items()}))
    return pd.concat(parts, axis=1) if len(parts) > 1 else base


def value_columns(rows: Sequence[Context]) -> list[pd.DataFrame]:
    """The rows' params as param.* and metrics as metric.* columns (a frame for each kind any row has)."""
    parts = []
    for prefix, column in (("param.", "params"), ("metric.", "metrics")):
        dicts = _values.decode_many([getattr(r, column) for r in rows])
        if any(dicts):
            parts.append(pd.DataFrame(dicts).add_prefix(prefix))
    return parts


def time_series_frame(store: Store, run_id: int) -> pd.DataFrame:
    """One run's series side by side: step, wall_time and a column per metric (NaN where a key has no point).

    wall_time is the earliest wall time logged at that step, as a UTC timestamp.
    """
    keys = [k for _, k in store.series_keys([run_id])]
    if not keys:
        return pd.DataFrame({})
    steps_all: list[np.ndarray] = []
    per_key = {}
    for key in keys:
        steps, wall, vals = store.series(run_id, key)
        per_key[key] = (steps, wall, vals)
        steps_all.append(steps)
    steps = np.unique(np.concatenate(steps_all))
    wall = np.full(len(steps), np.iinfo(np.int64).max, dtype=np.int64)
    data: dict[str, object] = {"step": steps}
    for key, (s, w, v) in per_key.items():
        pos = np.searchsorted(steps, s)
        np.minimum.at(wall, pos, w)
        col = np.full(len(steps), np.nan)
        col[pos] = v
        data[key] = col
    data["wall_time"] = pd.to_datetime(wall, unit="ms", utc=True)
    order = ["step", "wall_time", *keys]
    return pd.DataFrame(data)[order]


def history_frame(
    store: Store,
    rows: Sequence[Context],
    experiment_names: dict[int, str],
    metrics: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Every point of these runs in long form: experiment_name, run_name, metric, step, wall_time, value.

    One query; names are categoricals, wall_time a UTC timestamp, NaN kept. Sorted by run, metric, step.
    """
    run_ids = [r.id for r in rows]
    run_id, key_id, step, wall, value, key_names = store.history(run_ids, metrics)
    order = np.array(sorted(run_ids), dtype=np.int64)
    by_id = {r.id: r for r in rows}
    run_pos = np.searchsorted(order, run_id)
    run_names = [by_id[i].name for i in order]
    exp_names = [experiment_names.get(by_id[i].experiment_id, "") for i in order]
    keys_sorted = np.array(sorted(key_names), dtype=np.int64)
    key_pos = np.searchsorted(keys_sorted, key_id)
    return pd.DataFrame(
        {
            "experiment_name": _categorical(exp_names, run_pos),
            "run_name": _categorical(run_names, run_pos),
            "metric": _categorical([key_names[int(k)] for k in keys_sorted], key_pos),
            "step": step,
            "wall_time": pd.to_datetime(wall, unit="ms", utc=True),
            "value": value,
        }
    )


def _categorical(labels: list[str], positions: np.ndarray) -> pd.Categorical:
    """A categorical whose row i is labels[positions[i]] (labels may repeat)."""
    categories, codes_of_label = np.unique(np.array(labels, dtype=object), return_inverse=True)
    codes = codes_of_label[positions] if len(positions) else np.empty(0, np.int64)
    return pd.Categorical.from_codes(codes, categories=list(categories))
