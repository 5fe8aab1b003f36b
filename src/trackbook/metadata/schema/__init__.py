"""Typed artifact and execution schemas, as in `aiplatform.metadata.schema`."""

from . import base_artifact, base_execution, google, system

__all__ = ["base_artifact", "base_execution", "google", "system"]
