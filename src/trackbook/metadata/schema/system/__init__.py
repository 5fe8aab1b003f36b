"""The `system.*` schemas."""

from . import artifact_schema, execution_schema

__all__ = ["artifact_schema", "execution_schema"]
