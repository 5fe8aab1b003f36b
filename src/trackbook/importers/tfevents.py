"""Reading a TensorBoard run's event files: every scalar point, the HParams, and what else is there.

The files are TFRecord streams of `Event` protos; tensorboard's own protos parse them. Records are read
straight from the file (tensorboard's Python reader checks a CRC32C per record in pure Python, about 50 times
slower); a record cut short by a writer still at work, or one that does not parse, ends that file's reading.
What is kept follows tensorboard's `EventAccumulator`, so an import shows what TensorBoard shows:
- files in name order (their names start with the writer's start time);
- a tag's plugin is the one its first value declared;
- orphaned points are purged as TensorBoard purges them: with file_version 2 (every current writer), a
  `SessionLog.START` at step s drops every earlier point at step >= s; older files drop a tag's points at
  step >= s when a value of that tag comes at a step s below the latest one.
"""

from __future__ import annotations

import struct
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_HEADER = struct.Struct("<QI")


@dataclass
class RunEvents:
    """What a run's event files hold that an import keeps."""

    scalars: dict[str, list[tuple[int, float, float]]] = field(default_factory=dict)  # tag -> (step, wall s, value)
    hparams: dict[str, Any] = field(default_factory=dict)
    skipped: Counter[str] = field(default_factory=Counter)  # kind of data not imported -> number of tags
    first_wall_time: float | None = None
    unreadable: list[str] = field(default_factory=list)  # files whose reading stopped early


def records(path: Path) -> Iterator[bytes]:
    """The records of a TFRecord file; stops at a record cut short (the writer may still be writing)."""
    data = path.read_bytes()
    offset, end = 0, len(data)
    while offset + 12 <= end:
        length, _ = _HEADER.unpack_from(data, offset)
        start = offset + 12
        if start + length + 4 > end:
            return
        yield data[start : start + length]
        offset = start + length + 4


def read_run(files: list[Path]) -> RunEvents:
    """Every scalar point, the hparams and the count of other tags in these event files (in name order)."""
    from tensorboard.compat.proto import event_pb2
    from tensorboard.util import tensor_util

    out = RunEvents()
    plugin_of: dict[str, str] = {}
    other_tags: dict[str, set[str]] = {}
    file_version = 0.0
    latest_step = -(2**63)
    start = event_pb2.SessionLog.START
    for path in sorted(files, key=lambda p: p.name):
        try:
            for record in records(path):
                try:
                    event = event_pb2.Event.FromString(record)
                except Exception:
                    out.unreadable.append(path.name)
                    break
                if out.first_wall_time is None:
                    out.first_wall_time = event.wall_time
                if event.HasField("file_version"):
                    file_version = _version(event.file_version)
                has_summary = event.HasField("summary")
                if file_version >= 2:
                    if event.HasField("session_log") and event.session_log.status == start:
                        _purge(out.scalars, event.step, None)
                elif has_summary and event.step < latest_step:
                    _purge(out.scalars, event.step, {v.tag for v in event.summary.value})
                else:
                    latest_step = event.step
                if not has_summary:
                    continue
                for value in event.summary.value:
                    tag = value.tag
                    if value.HasField("metadata") and tag not in plugin_of:
                        plugin_of[tag] = value.metadata.plugin_data.plugin_name
                        if plugin_of[tag] == "hparams":
                            out.hparams.update(_hparams(value.metadata.plugin_data.content))
                    kind = value.WhichOneof("value")
                    if kind == "simple_value":
                        out.scalars.setdefault(tag, []).append((event.step, event.wall_time, value.simple_value))
                    elif kind == "tensor" and plugin_of.get(tag) == "scalars":
                        number = float(tensor_util.make_ndarray(value.tensor).item())
                        out.scalars.setdefault(tag, []).append((event.step, event.wall_time, number))
                    elif kind in ("histo", "image", "audio"):
                        other_tags.setdefault({"histo": "histogram"}.get(kind, kind), set()).add(tag)
                    elif kind == "tensor" and plugin_of.get(tag) != "hparams":
                        other_tags.setdefault(plugin_of.get(tag) or "tensor", set()).add(tag)
        except OSError:
            out.unreadable.append(path.name)
    out.skipped = Counter({kind: len(tags) for kind, tags in other_tags.items()})
    return out


def _version(text: str) -> float:
    try:
        return float(text.split("brain.Event:")[-1])
    except ValueError:
        return 0.0


def _purge(scalars: dict[str, list[tuple[int, float, float]]], step: int, tags: set[str] | None) -> None:
    """Drop the points at step >= `step` (of `tags`, or of every tag): TensorBoard's orphan rule."""
    for tag, points in scalars.items():
        if tags is None or tag in tags:
            scalars[tag] = [p for p in points if p[0] < step]


def _hparams(content: bytes) -> dict[str, Any]:
    """The hyperparameters of an HParams session_start_info, as params."""
    try:
        from tensorboard.plugins.hparams import plugin_data_pb2

        data = plugin_data_pb2.HParamsPluginData.FromString(content)
    except Exception:
        return {}
    if not data.HasField("session_start_info"):
        return {}
    out: dict[str, Any] = {}
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
