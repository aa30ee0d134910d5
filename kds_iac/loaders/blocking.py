"""Terraform modules whose evaluation would open a file that is not a regular file.

The evaluator reads every ``.tf``/``.tf.json`` file of a module and of each module it calls
with a local ``source``; opening a FIFO among them blocks until the time limit. Discovery
refuses a module holding one; this follows the local calls too, including those that leave
the scanned tree (``source = "../modules/x"``), so a root is refused when any module it
calls holds such a file.
"""

from __future__ import annotations

import os
from typing import Optional

from kds_iac.files import decode_head, kind_of, read_bytes
from kds_iac.model import Diagnostic, DiagnosticCode

MAX_MODULES = 500  # local calls followed per root; a deeper tree is not this check's business


def blocking_call(root: str, max_bytes: int) -> Optional[tuple[str, str]]:
    """(module directory called from ``root``, its non-regular Terraform file), or None."""
    from kds_iac.loaders.discovery import _LOCAL_SOURCE, is_terraform_file

    seen = {os.path.normpath(root)}
    pending = [os.path.normpath(root)]
    while pending and len(seen) <= MAX_MODULES:
        directory = pending.pop()
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            if not is_terraform_file(entry.name):
                continue
            try:
                special = kind_of(entry.stat().st_mode)
            except OSError:
                continue
            if special is not None:
                if directory != os.path.normpath(root):
                    return directory, entry.path
                continue  # the root's own files: discovery reports them
            if not entry.name.endswith(".tf"):
                continue
            try:
                text = decode_head(read_bytes(entry.path, max_bytes)).decode("utf-8", "replace")
            except OSError:
                continue
            for source in _LOCAL_SOURCE.findall(text):
                target = os.path.normpath(os.path.join(directory, source))
                if target not in seen and os.path.isdir(target):
                    seen.add(target)
                    pending.append(target)
    return None


def refuse_blocking_modules(modules: list[str], max_bytes: int) -> tuple[list[str], list[Diagnostic]]:
    """``modules`` without those that call a module holding a non-regular Terraform file."""
    kept: list[str] = []
    diagnostics: list[Diagnostic] = []
    for module in modules:
        found = blocking_call(module, max_bytes)
        if found is None:
            kept.append(module)
            continue
        called, file = found
        try:
            kind = kind_of(os.stat(file).st_mode) or "special file"
        except OSError:
            kind = "special file"
        diagnostics.append(
            Diagnostic(
                "error",
                file,
                0,
                f"not a regular file ({kind}): Terraform module {module} is not checked, since it calls "
                f"module {called} and reading this file would block",
                code=DiagnosticCode.NOT_READ,
            )
        )
    return kept, diagnostics
