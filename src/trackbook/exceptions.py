"""Errors with the Vertex AI SDK's names, so `except exceptions.NotFound` works either way.

When google-api-core is installed, NotFound and AlreadyExists *are* its classes; otherwise they are
local classes that also subclass LookupError / ValueError.
"""

from __future__ import annotations

__all__ = ["AlreadyExists", "NotFound", "StoreError", "TrackbookWarning"]

try:  # pragma: no cover - depends on what else is installed
    from google.api_core.exceptions import AlreadyExists, NotFound
except ImportError:

    class NotFound(LookupError):  # type: ignore[no-redef]
        """The experiment, run or metadata resource does not exist (HTTP 404 in Vertex)."""

        code = 404

    class AlreadyExists(ValueError):  # type: ignore[no-redef]
        """The experiment, run or metadata resource exists already (HTTP 409 in Vertex)."""

        code = 409


class StoreError(RuntimeError):
    """The store file cannot be used: not a trackbook store, damaged, newer, or not writable."""


class TrackbookWarning(UserWarning):
    """Something went wrong in the background (e.g. the store could not be written) but training goes on."""
