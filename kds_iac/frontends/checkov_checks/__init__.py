"""checkov checks for kds-iac's rules: ``checkov --external-checks-dir <this folder>``.

checkov needs this ``__init__.py`` to load the folder, and executes every other ``*.py`` in it
under its bare file name (``kds_iac_terraform_checks``, ``kds_iac_cloudformation_checks``).
Kept import-light: importing the package (as ``kds-iac checkov-dir`` does to print the
folder) must not import checkov.
"""

from __future__ import annotations

import os

DIRECTORY = os.path.dirname(os.path.abspath(__file__))


def directory() -> str:
    """The folder to give to ``checkov --external-checks-dir``."""
    return DIRECTORY
