"""Execution: a step of ML work (ingest, train, evaluate) in the lineage graph."""

from __future__ import annotations

from .states import ExecutionState


class Execution:
    """An execution in the lineage graph; `Execution.State` is the state enum shared with runs."""

    State = ExecutionState
