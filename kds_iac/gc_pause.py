"""Pause Python's cyclic garbage collector while a large object graph is built.

Reading a template creates millions of small containers (YAML nodes, mappings, resources)
that all stay alive until the read ends. Each time enough of them pile up, the collector walks
every live container looking for cycles, and none of these are garbage: on a 10 MB template
that walk took 9 of the 10 seconds libyaml's composer ran (benchmarks/README.md). Reference
counting still frees everything as usual while paused; cycles made meanwhile are collected
once the collector runs again.

Nested and concurrent pauses (threads of the language server) are counted: the collector is
switched back on when the last pause ends, and only if it was on when the first began.
"""

from __future__ import annotations

import gc
import threading
from contextlib import contextmanager
from typing import Iterator

_lock = threading.Lock()
_depth = 0
_was_enabled = False


@contextmanager
def paused() -> Iterator[None]:
    global _depth, _was_enabled
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_enabled:
                gc.enable()
