"""A run as an importer reads it from another tool, before it is written to the store."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class Series:
    """One metric's points as the source has them: any order, steps possibly repeated or negative."""

    steps: np.ndarray  # int64
    wall_ms: np.ndarray  # int64, epoch milliseconds
    values: np.ndarray  # float64, NaN kept


@dataclass
class RunContent:
    """Everything a source run holds that trackbook keeps."""

    state: str  # a trackbook run state name
    create_time: float  # epoch seconds
    end_time: float | None
    heartbeat: float | None  # last sign of life of a run still RUNNING in the source
    description: str | None
    params: dict[str, Any]
    metrics: dict[str, Any]
    series: dict[str, Series]
    origin: dict[str, Any] = field(default_factory=dict)  # source facts kept in the run's metadata
    notes: list[str] = field(default_factory=list)


@dataclass
class SourceRun:
    """A run found in a source: cheap facts now, its content on `load()`.

    `source_id` names the run in its tool for good (a run already imported is recognised by it);
    `fingerprint` changes whenever the run changes in the source (so a re-import knows to update it).
    """

    tool: str
    source_id: str
    fingerprint: str
    experiment: str
    name: str
    load: Callable[[], RunContent]

    @property
    def label(self) -> str:
        return f"{self.experiment}/{self.name}"
