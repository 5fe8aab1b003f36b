"""`system.*` execution schemas: ContainerExecution, CustomJobExecution, Run."""

from __future__ import annotations

from ..base_execution import BaseExecutionSchema

__all__ = ["ContainerExecution", "CustomJobExecution", "Run"]


class ContainerExecution(BaseExecutionSchema):
    """A step that ran some code (`system.ContainerExecution`, what pipeline steps are)."""

    schema_title = "system.ContainerExecution"


class CustomJobExecution(BaseExecutionSchema):
    """A training job (`system.CustomJobExecution`)."""

    schema_title = "system.CustomJobExecution"


class Run(BaseExecutionSchema):
    """A pipeline run's top-level execution (`system.Run`), holding its `input:` parameters."""

    schema_title = "system.Run"
