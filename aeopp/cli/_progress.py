"""The export's progress bar: one line on stderr, redrawn in place, only on a terminal."""

from __future__ import annotations

import io
import math
import os
import sys
import time
from collections.abc import Callable
from typing import IO, Any, TextIO

__all__ = ["Progress", "render_progress"]


def _duration(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def render_progress(done: int, total: int | None, elapsed: float, width: int = 80) -> str:
    """One line: bar (when the total is known), records done of total, rate and time left."""
    rate = done / elapsed if elapsed > 0 else 0.0
    rate_text = f"{rate:,.0f} rec/s"
    if total is None or total <= 0:
        return f"{done:,} records  {rate_text}"[:width]
    fraction = min(1.0, done / total)
    eta = (total - done) / rate if rate > 0 and elapsed >= 0.5 else math.inf
    eta_text = "--" if math.isinf(eta) else _duration(eta)
    tail = f" {done:,}/{total:,} {fraction:4.0%}  {rate_text}  ETA {eta_text}"
    bar_width = max(10, min(40, width - len(tail) - 2))
    filled = int(bar_width * fraction)
    return (f"[{'#' * filled}{'.' * (bar_width - filled)}]" + tail)[:width]


class Progress:
    """A progress line on ``stream``, redrawn at most every ``interval`` seconds, only on a terminal."""

    def __init__(
        self,
        stream: TextIO,
        *,
        enabled: bool | None = None,
        interval: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream
        self.enabled = _isatty(stream) if enabled is None else enabled
        self.interval = interval
        self._clock = clock
        self._start = clock()
        self._last = -math.inf
        self._drawn = False

    def update(self, done: int, total: int | None, *, force: bool = False) -> None:
        """Redraw, unless the last drawing is more recent than ``interval``."""
        if not self.enabled:
            return
        now = self._clock()
        if not force and now - self._last < self.interval:
            return
        self._last = now
        width = _terminal_width()
        self.stream.write("\r" + render_progress(done, total, now - self._start, width - 1) + "\x1b[K")
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        """Erase the line, leaving the terminal as it was."""
        if self._drawn:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._drawn = False


def _isatty(stream: IO[Any]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _terminal_width() -> int:
    try:
        columns = os.get_terminal_size(sys.stderr.fileno()).columns
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        return 80
    return columns if columns >= 20 else 80
