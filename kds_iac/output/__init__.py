"""Report formats of the ``kds-iac`` command line.

Each format is a module with ``render(result, context) -> str``; modules are imported only
when their format is asked for, so the command line pays for one formatter at most. Text, JSON,
SARIF and JUnit XML also have ``chunks(result, context)``, the same text in pieces, which the
command writes as it comes: their whole reports took more memory than the scan.
"""

from __future__ import annotations

import importlib
from typing import Callable

FORMATS = {
    "text": "kds_iac.output.text",
    "json": "kds_iac.output.json",
    "sarif": "kds_iac.output.sarif",
    "junitxml": "kds_iac.output.junitxml",
    "markdown": "kds_iac.output.markdown",
    "html": "kds_iac.output.html",
}


def renderer(name: str) -> Callable:
    """The ``render`` function of format ``name`` (one of ``FORMATS``)."""
    return importlib.import_module(FORMATS[name]).render


def pieces(name: str) -> Callable:
    """Format ``name``'s ``chunks`` where it has one, else its ``render`` (one piece): what the
    command writes."""
    module = importlib.import_module(FORMATS[name])
    return getattr(module, "chunks", module.render)
