"""Shared test helpers: paths of the repository, its examples, and the tools' executables."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"


def tool(name: str) -> str:
    """An executable installed beside the running interpreter (the test environment's)."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if not found:
        raise RuntimeError(f"{name} is not installed in the test environment")
    return found


os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
