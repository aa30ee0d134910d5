"""A one-line progress bar on stderr, for scans that take more than a second.

Nothing is drawn before ``delay`` seconds have passed (an on-save scan of one file never
shows it), nothing at all when the stream is not a terminal, and the line is erased when the
scan ends, so the report and the summary are never interleaved with it. The bar is the
``progress`` callback of ``engine.scan``: ``bar(done, total, current)``.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Callable, Optional, TextIO

_ERASE = "\r\x1b[K"


def wanted(stream: TextIO, disabled: bool = False) -> bool:
    """A bar only on a real terminal, not with ``--no-progress`` and not on a dumb terminal."""
    if disabled or os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


class ProgressBar:
    def __init__(
        self,
        stream: TextIO,
        *,
        delay: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        use_timer: bool = True,
        width: Optional[int] = None,
    ) -> None:
        self.stream = stream
        self.delay = delay
        self.clock = clock
        self.width = width
        self._start = clock()
        self._state: tuple[int, int, str] = (0, 0, "")
        self._visible = False
        self._closed = False
        self._lock = threading.Lock()
        self._timer: Optional[threading.Timer] = None
        if use_timer and delay > 0:
            # A single slow unit (one large module) would otherwise keep the bar hidden.
            self._timer = threading.Timer(delay, self._show)
            self._timer.daemon = True
            self._timer.start()

    def __call__(self, done: int, total: int, current: str = "") -> None:
        with self._lock:
            if self._closed:
                return
            self._state = (done, total, current)
            if not self._visible and self.clock() - self._start >= self.delay:
                self._visible = True
            if self._visible:
                self._draw()

    def close(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
            if self._visible and not self._closed:
                self.stream.write(_ERASE)
                self.stream.flush()
            self._closed = True

    def __enter__(self) -> "ProgressBar":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def render(self) -> str:
        done, total, current = self._state
        import shutil  # only when a bar is drawn: keeps start-up light

        columns = self.width or shutil.get_terminal_size((80, 24)).columns
        bar_width = 20
        filled = bar_width * done // total if total else 0
        text = f"[{'#' * filled}{'-' * (bar_width - filled)}] {done}/{total}"
        if current:
            text += f" {current}"
        limit = max(columns - 1, 10)
        if len(text) > limit:
            text = text[: limit - 1] + "…"
        return text

    def _show(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._visible = True
            self._draw()

    def _draw(self) -> None:
        self.stream.write(_ERASE + self.render())
        self.stream.flush()
