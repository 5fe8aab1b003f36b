"""State enums with Vertex's names and numbers (`gapic.Execution.State`, `gapic.Artifact.State`)."""

from __future__ import annotations

import enum


class ExecutionState(enum.IntEnum):
    """The state of a run or an execution, numbered as in Vertex's `Execution.State`.

    CRASHED is trackbook's own: a run whose process died without ending it (see docs/store.md).
    """

    STATE_UNSPECIFIED = 0
    NEW = 1
    RUNNING = 2
    COMPLETE = 3
    FAILED = 4
    CACHED = 5
    CANCELLED = 6
    CRASHED = 7

    @classmethod
    def parse(cls, state: object) -> ExecutionState:
        """Accept an ExecutionState, its name (any case) or its number; raise ValueError otherwise."""
        if isinstance(state, cls):
            return state
        if isinstance(state, enum.Enum):  # e.g. the real gapic enum
            state = state.name
        if isinstance(state, str):
            try:
                return cls[state.strip().upper()]
            except KeyError:
                pass
        elif isinstance(state, int) and not isinstance(state, bool):
            try:
                return cls(state)
            except ValueError:
                pass
        allowed = ", ".join(s.name for s in cls)
        raise ValueError(f"state {state!r} is not a run state; use one of {allowed}")


class ArtifactState(enum.IntEnum):
    """The state of an artifact, numbered as in Vertex's `Artifact.State`."""

    STATE_UNSPECIFIED = 0
    PENDING = 1
    LIVE = 2

    @classmethod
    def parse(cls, state: object) -> ArtifactState:
        if isinstance(state, cls):
            return state
        if isinstance(state, enum.Enum):
            state = state.name
        if isinstance(state, str) and state.upper() in cls.__members__:
            return cls[state.upper()]
        if isinstance(state, int) and not isinstance(state, bool) and state in cls._value2member_map_:
            return cls(state)
        raise ValueError(f"state {state!r} is not an artifact state; use PENDING or LIVE")
