"""`aiplatform.metadata.context`: the Context class."""

from ..context import Context

__all__ = ["Context"]
