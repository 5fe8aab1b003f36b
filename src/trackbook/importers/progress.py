"""A progress bar for imports on standard error: redrawn in place on a terminal or in a notebook, a few
plain lines otherwise (CI logs), nothing when disabled."""

from __future__ import annotations

import sys
import time
from typing import TextIO

WIDTH = 24
REDRAW_EVERY = 0.1  # seconds between redraws on a terminal


class Progress:
    """Counts runs done out of `total` and points written; `close()` ends the line."""

    def __init__(self, total: int, label: str, *, enabled: bool = True, stream: TextIO | None = None) -> None:
        self.total = total
        self.label = label
        self.enabled = enabled and total > 0
        self.stream = stream if stream is not None else sys.stderr
        self.done = 0
        self.points = 0
        self._last_draw = 0.0
        self._last_tenth = -1
        self._width = 0
        self._live = self.enabled and _redraws(self.stream)

    def advance(self, current: str, points: int = 0) -> None:
        self.done += 1
        self.points += points
        if not self.enabled:
            return
        if self._live:
            now = time.monotonic()
            if now - self._last_draw >= REDRAW_EVERY or self.done == self.total:
                self._last_draw = now
                self._write("\r" + self._padded(self._line(current)))
        else:
            tenth = self.done * 10 // self.total
            if tenth != self._last_tenth:
                self._last_tenth = tenth
                self._write(self._line(current) + "\n")

    def close(self) -> None:
        if self.enabled and self._live:
            self._write("\r" + self._padded(self._line("done")) + "\n")

    def _padded(self, line: str) -> str:
        # Spaces, not an ANSI erase, wipe the rest of a longer previous line: notebooks show ANSI literally.
        padded = line.ljust(self._width)
        self._width = len(line)
        return padded

    def _line(self, current: str) -> str:
        filled = WIDTH * self.done // self.total
        bar = "#" * filled + "." * (WIDTH - filled)
        current = current if len(current) <= 40 else "…" + current[-39:]
        return f"{self.label} [{bar}] {self.done}/{self.total} runs, {self.points:,} points  {current}"

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # a closed stream must not stop the import
            self.enabled = False


def _redraws(stream: TextIO) -> bool:
    """Whether `\\r` redraws a line: a terminal, or a Jupyter kernel's output."""
    try:
        if stream.isatty():
            return True
    except (AttributeError, ValueError):
        return False
    from ..session import in_kernel

    return in_kernel()
