"""Checking the board's arguments: names given as a str or a list of str."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def names(value: str | Sequence[str] | None, what: str) -> list[str] | None:
    """None, or a list of names from a str or a list/tuple of str; TypeError naming `what` otherwise."""
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)):
        for v in value:
            if not isinstance(v, str):
                raise TypeError(f"{what} must be a str or a list of str; it holds {type(v).__name__} {v!r}")
        return list(value)
    raise TypeError(f"{what} must be a str or a list of str, got {type(value).__name__} {value!r}")


def experiments_label(header: dict[str, Any]) -> str:
    """The board's experiments as text: those it shows, else those it was asked for."""
    return ", ".join(header.get("experiments") or header.get("wanted") or []) or "no experiments yet"


def title(header: dict[str, Any]) -> str:
    """A page title naming the board's experiments."""
    return f"trackbook: {experiments_label(header)}"
