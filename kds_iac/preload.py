"""Load tfparse first thing when a scan names Terraform, so that its start-up overlaps ours.

Loading the tfparse library starts the Go runtime, which then spends ~40-50 ms initialising
Go packages (trivy's among them) on a thread of its own; tfparse's first call waits for
that. Loaded before the engine and the rules are imported, that time passes on another
core meanwhile instead of in the loader. This module imports only the standard library
(``kds_iac.loaders`` would import the model first).
"""

from __future__ import annotations

import os
from typing import Sequence


def preload_tfparse_if_terraform(paths: Sequence[str]) -> bool:
    """Import tfparse when a path is a Terraform file or a directory that directly holds one."""
    if not any(_holds_terraform(path) for path in paths):
        return False
    try:
        import tfparse  # noqa: F401
    except Exception:  # the Terraform loader reports it, with the file it was loading
        return False
    return True


def _holds_terraform(path: str) -> bool:
    if os.path.isfile(path):
        return _is_terraform_name(path)
    try:
        with os.scandir(path) as entries:
            return any(_is_terraform_name(entry.name) for entry in entries)
    except OSError:
        return False


def _is_terraform_name(name: str) -> bool:
    return name.endswith((".tf", ".tf.json", ".tfvars"))
