"""`trackbook.metadata`: the import paths of `google.cloud.aiplatform.metadata` that samples use, such as
`metadata.schema.system.artifact_schema.Dataset`, `metadata.artifact.Artifact` and `metadata.constants`."""

from __future__ import annotations

from . import artifact, constants, context, execution, schema

__all__ = ["artifact", "constants", "context", "execution", "schema"]
