"""How the board's data travels: JSON-safe values, run-table rows and packed series.

JSON has no NaN, no infinities and (in the browser) no integers past 2**53, so those values travel as small
tagged objects: {"$f": "NaN" | "Infinity" | "-Infinity"} and {"$i": "<digits>"}; js/protocol.ts decodes them.
Series travel as one binary buffer per message: for each part, at an 8-byte aligned offset, the steps as
float64, the wall times as float32 seconds after the part's `t0` (epoch ms), then the values: as float32,
or, in a part whose header says `"f64": true`, as float64 starting at the next 8-byte boundary. A part goes
as float64 when float32 would show one of its values wrong (`needs_float64`): beyond float32's range
(±3.4e38 would become ±inf), below its smallest normal number (1.2e-38 and less would lose digits or become
0, breaking a log scale), or a number of magnitude 2**24 or more that float32 does not hold exactly (the
browser prints such numbers in full, so float32's rounding would show: 123456789 as 123456792). Anything
else keeps 7 significant digits where the browser shows 4.
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
_F32 = np.finfo(np.float32)
_F32_WHOLE = 2.0**24  # from here on every float32 is a whole number, and the browser prints it in full


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


def table_row(row: RunRow, experiment: str, last: Mapping[str, tuple[int, float | None]],
              last_wall: float | None = None) -> dict[str, Any]:
    """The JSON row the browser's run table shows: name, experiment, state, times, params, metrics and the
    last (step, value) of each series. `seen` is the run's last sign of life (epoch seconds): the later of
    its heartbeat and `last_wall`, the wall time of its latest point (a crashed run lasted until then)."""
    signs = [t for t in (row.heartbeat, last_wall) if t is not None]
    return {
        "id": row.id,
        "name": row.name,
        "exp": experiment,
        "state": row.live_state,
        "start": row.create_time,
        "end": row.end_time,
        "updated": row.update_time,
        "seen": max(signs) if signs else None,
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


def needs_float64(values: np.ndarray) -> bool:
    """Whether float32 would show one of these values wrong (the rule is in the module docstring)."""
    v = np.asarray(values, dtype=np.float64)
    a = np.abs(v[np.isfinite(v)])
    if not a.size or (a.max() < _F32_WHOLE and a.min() >= float(_F32.tiny)):
        return False  # the common case, decided by two reductions
    if (a > float(_F32.max)).any() or ((a > 0) & (a < float(_F32.tiny))).any():
        return True
    whole = a[a >= _F32_WHOLE]
    return bool((whole.astype(np.float32).astype(np.float64) != whole).any())


def _value_offset(n: int, f64: bool) -> int:
    """Where a part's values start, from its offset: after the steps and wall times, 8-aligned for float64."""
    return 8 * n + (-(-4 * n // 8) * 8 if f64 else 4 * n)


def pack(parts: Iterable[Part]) -> tuple[list[dict[str, Any]], bytes]:
    """Headers and one buffer for these parts (layout in the module docstring)."""
    headers: list[dict[str, Any]] = []
    chunks: list[bytes] = []
    offset = 0
    for p in parts:
        n = len(p.steps)
        t0 = int(p.wall_ms[0]) if n else 0
        f64 = needs_float64(p.values)
        headers.append(
            {"run": p.run, "key": p.key, "mode": p.mode, "n": n, "off": offset, "t0": t0, "full": p.full,
             "f64": f64}
        )
        head = (
            np.ascontiguousarray(p.steps, dtype=np.float64).tobytes()
            + ((np.asarray(p.wall_ms, dtype=np.float64) - t0) / 1000.0).astype(np.float32).tobytes()
        )
        body = head + b"\0" * (_value_offset(n, f64) - len(head)) + np.asarray(
            p.values, dtype=np.float64 if f64 else np.float32).tobytes()
        pad = (-len(body)) % 8
        chunks.append(body + b"\0" * pad)
        offset += len(body) + pad
    return headers, b"".join(chunks)


def unpack(headers: list[dict[str, Any]], data: bytes | memoryview) -> list[Part]:
    """The inverse of `pack` (wall times come back rounded to float32 seconds); for tests and tools."""
    buf = memoryview(data).cast("B")
    out = []
    for h in headers:
        n, off, f64 = h["n"], h["off"], bool(h.get("f64"))
        steps = np.frombuffer(buf, np.float64, n, off)
        secs = np.frombuffer(buf, np.float32, n, off + 8 * n)
        vals = np.frombuffer(buf, np.float64 if f64 else np.float32, n, off + _value_offset(n, f64))
        wall = h["t0"] + np.round(secs.astype(np.float64) * 1000).astype(np.int64)
        out.append(Part(h["run"], h["key"], h["mode"], steps.astype(np.int64), wall, vals.astype(np.float64),
                        h["full"]))
    return out
