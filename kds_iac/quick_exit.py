"""End the process without tearing down what it built.

A scan's model, findings and fix edits are millions of small objects that live until the
report is written. Ending the usual way frees each of them, and a collector switched back on
walks them all once more before that: on the 1,000-template tree about 0.3 s after the report
was complete, which the user waits for and nobody needs (benchmarks/README.md). ``leave``
keeps what matters about a normal exit (the exit handlers run: they stop the Terraform
workers and flush logging; the standard streams are flushed) and ends the process at once;
the system takes its memory back.
"""

from __future__ import annotations

import atexit
import os
import sys
from typing import NoReturn


def leave(code: int) -> NoReturn:
    """Run the exit handlers, flush stdout and stderr, and end the process with ``code``."""
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed or broken stream: nothing more can be said on it
            pass
    os._exit(code)
