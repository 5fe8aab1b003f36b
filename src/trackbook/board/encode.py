"""How the board's data travels: JSON-safe values, run-table rows and packed series.

JSON has no NaN, no infinities and (in the browser) no integers past 2**53, so those values travel as small
tagged objects: {"$f": "NaN" | "Infinity" | "-Infinity"} and {"$i": "<digits>"}; js/protocol.ts decodes them.
Series travel as one binary buffer per message: for each part, at an 8-byte aligned offset, the steps as
float64, the wall times as float32 seconds after the part's `t0` (epoch ms), then the values as float32.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import values as _values
from ..store import live_state

_EXACT = 2**53  # integers beyond this lose digits as a JavaScript number


def json_value(value: Any) -> Any:
    """A param, metric or series value as JSON the browser reads back exactly (see the module docstring)."""
    t = type(value)
    if t is float:
        if math.isfinite(value):
            return value
        return {"$f": "NaN" if value != value else ("Infinity" if value > 0 else "-Infinity")}
    if t is int and not -_EXACT <= value <= _EXACT:
        return {"$i": str(value)}
    return value


def json_values(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: json_value(v) for k, v in values.items()}


@dataclass
class RunRow:
    """One row of the run table as the store holds it (params and metrics still JSON text)."""

    id: int
    experiment_id: int
    name: str
    create_time: float
    update_time: float
    end_time: float | None
    state: str | None
    params: str
    metrics: str
    host: str | None
    pid: int | None
    heartbeat: float | None

    @property
    def live_state(self) -> str:
        return live_state(self.state, self.host, self.pid, self.heartbeat) or "STATE_UNSPECIFIED"


def table_row(row: RunRow, experiment: str, last: Mapping[str, tuple[int, float | None]]) -> dict[str, Any]:
    """The JSON row the browser's run table shows: name, experiment, state, times, params, metrics and the
    last (step, value) of each series."""
    return {
        "id": row.id,
        "name": row.name,
        "exp": experiment,
        "state": row.live_state,
        "start": row.create_time,
        "end": row.end_time,
        "updated": row.update_time,
        "params": json_values(_values.decode(row.params)),
        "metrics": json_values(_values.decode(row.metrics)),
        "last": {k: [step, json_value(math.nan if v is None else float(v))] for k, (step, v) in last.items()},
    }


@dataclass
class Part:
    """A piece of one series on its way to the browser: `mode` "set" replaces what the browser holds for
    (run, key), "append" adds points after it. `full` says the part holds every stored point of its step
    range (else it was reduced, and zooming in asks for detail)."""

    run: int
    key: str
    mode: str
    steps: np.ndarray
    wall_ms: np.ndarray
    values: np.ndarray
    full: bool


def pack(parts: Iterable[Part]) -> tuple[list[dict[str, Any]], bytes]:
    """Headers and one buffer for these parts (layout in the module docstring)."""
    headers: list[dict[str, Any]] = []
    chunks: list[bytes] = []
    offset = 0
    for p in parts:
        n = len(p.steps)
        t0 = int(p.wall_ms[0]) if n else 0
        headers.append(
            {"run": p.run, "key": p.key, "mode": p.mode, "n": n, "off": offset, "t0": t0, "full": p.full}
        )
        body = (
            np.ascontiguousarray(p.steps, dtype=np.float64).tobytes()
            + ((np.asarray(p.wall_ms, dtype=np.float64) - t0) / 1000.0).astype(np.float32).tobytes()
            + np.asarray(p.values, dtype=np.float32).tobytes()
        )
        pad = (-len(body)) % 8
        chunks.append(body + b"\0" * pad)
        offset += len(body) + pad
    return headers, b"".join(chunks)


def unpack(headers: list[dict[str, Any]], data: bytes | memoryview) -> list[Part]:
    """The inverse of `pack` (wall times come back rounded to float32 seconds); for tests and tools."""
    buf = memoryview(data).cast("B")
    out = []
    for h in headers:
        n, off = h["n"], h["off"]
        steps = np.frombuffer(buf, np.float64, n, off)
        secs = np.frombuffer(buf, np.float32, n, off + 8 * n)
        vals = np.frombuffer(buf, np.float32, n, off + 12 * n)
        wall = h["t0"] + np.round(secs.astype(np.float64) * 1000).astype(np.int64)
        out.append(Part(h["run"], h["key"], h["mode"], steps.astype(np.int64), wall, vals.astype(np.float64),
                        h["full"]))
    return out
