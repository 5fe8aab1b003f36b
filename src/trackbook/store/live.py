"""SQL the board uses to follow a store live: what changed since a cursor, series tails and ranges.
Mixed into `Store` (uses `self.conn`)."""

from __future__ import annotations


class LiveQueries:
    """Change-feed and range-read statements of `Store` (the board's)."""
