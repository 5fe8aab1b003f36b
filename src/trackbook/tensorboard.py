"""Tensorboard: a local stand-in for Vertex's managed TensorBoard, which costs $300 per user a month.

Series are always stored in the store file, so a Tensorboard is only a handle that code written for Vertex
can create, pass to `init(experiment_tensorboard=...)` or `start_run(tensorboard=...)`, and name.
"""

from __future__ import annotations

import uuid
from typing import Any


class Tensorboard:
    """A named handle; no server, no cost. `Tensorboard(name)` wraps an existing resource name."""

    def __init__(
        self,
        tensorboard_name: str,
        project: str | None = None,
        location: str | None = None,
        credentials: Any = None,
    ) -> None:
        if not isinstance(tensorboard_name, str) or not tensorboard_name:
            raise ValueError("tensorboard_name must be a non-empty str")
        self.resource_name = (
            tensorboard_name if "/" in tensorboard_name else f"local/tensorboards/{tensorboard_name}"
        )
        self.display_name = self.resource_name.rsplit("/", 1)[-1]

    @classmethod
    def create(
        cls,
        display_name: str | None = None,
        description: str | None = None,
        labels: dict[str, str] | None = None,
        project: str | None = None,
        location: str | None = None,
        credentials: Any = None,
        request_metadata: Any = (),
        encryption_spec_key_name: str | None = None,
        create_request_timeout: float | None = None,
        is_default: bool = False,
    ) -> Tensorboard:
        """A new local handle (free; nothing is provisioned)."""
        tb = cls(uuid.uuid4().hex[:16])
        tb.display_name = display_name or tb.display_name
        tb.description = description
        return tb

    @property
    def name(self) -> str:
        return self.resource_name.rsplit("/", 1)[-1]

    def __repr__(self) -> str:
        return f"<trackbook.Tensorboard {self.resource_name!r} (local: series live in the store)>"


def resource_name_of(tensorboard: Any) -> str:
    """The resource name of a Tensorboard handle or a resource-name string."""
    if isinstance(tensorboard, str):
        return Tensorboard(tensorboard).resource_name
    name = getattr(tensorboard, "resource_name", None)
    if not isinstance(name, str):
        raise TypeError(f"expected a Tensorboard or its resource name, got {type(tensorboard).__name__}")
    return name
