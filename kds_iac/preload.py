"""Start the tfparse worker first thing when a scan names Terraform, so that its start-up overlaps ours.

tfparse runs in a worker process (``kds_iac.loaders.tfparse_worker``). Starting it costs that
process ~0.1 s of CPU: Python, the tfparse library, and the Go runtime initialising Go
packages (trivy's among them). Started before the engine and the rules are imported, that
time passes on another core meanwhile, and the first module finds the worker ready.
"""

from __future__ import annotations

import os
from typing import Sequence

from kds_iac.files import is_terraform_file


def preload_tfparse_if_terraform(paths: Sequence[str]) -> bool:
    """Start the tfparse worker when a path is a Terraform file or a directory that directly
    holds one; whether it was started."""
    if not any(_holds_terraform(path) for path in paths):
        return False
    from kds_iac.loaders import tfparse_worker

    try:
        tfparse_worker.start(fork=True)
    except OSError:  # cannot start a process: the loader reports it, module by module
        return False
    return True


_LOOK_DEPTH = 3  # directory levels below a named directory
_LOOK_ENTRIES = 500  # directory entries read at most: a guess, so it stays cheap


def _holds_terraform(path: str) -> bool:
    """A Terraform file named, or found in the first levels of a named directory."""
    if os.path.isfile(path):
        return _is_terraform_name(path)
    pending, seen = [(path, 0)], 0
    while pending and seen < _LOOK_ENTRIES:
        directory, depth = pending.pop(0)
        try:
            with os.scandir(directory) as entries:
                for entry in entries:
                    seen += 1
                    if _is_terraform_name(entry.name):
                        return True
                    if depth < _LOOK_DEPTH and not entry.name.startswith(".") and entry.name != "node_modules":
                        if entry.is_dir(follow_symlinks=False):
                            pending.append((entry.path, depth + 1))
        except OSError:
            continue
    return False


def _is_terraform_name(name: str) -> bool:
    return is_terraform_file(name) or name.endswith(".tfvars")
