"""The `google.*` schemas."""

from . import artifact_schema

__all__ = ["artifact_schema"]
