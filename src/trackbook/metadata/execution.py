"""`aiplatform.metadata.execution`: the Execution class."""

from ..execution import Execution

__all__ = ["Execution"]
