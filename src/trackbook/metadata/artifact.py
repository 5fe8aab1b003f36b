"""`aiplatform.metadata.artifact`: the Artifact class."""

from ..artifact import Artifact

__all__ = ["Artifact"]
