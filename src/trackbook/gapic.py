"""`trackbook.gapic`: the enum namespaces samples reach through `aiplatform.gapic` (Execution.State, ...)."""

from __future__ import annotations

from .states import ArtifactState, ExecutionState


class Execution:
    State = ExecutionState


class Artifact:
    State = ArtifactState


class Event:
    class Type:
        TYPE_UNSPECIFIED = 0
        INPUT = 1
        OUTPUT = 2


__all__ = ["Artifact", "Event", "Execution"]
