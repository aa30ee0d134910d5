"""Project settings: ``[tool.kds-iac]`` in ``pyproject.toml`` or ``.kds-iac.yaml``."""

from __future__ import annotations

from dataclasses import dataclass, field

from kds_iac.rules.base import Severity


@dataclass
class Config:
    skip_rules: set[str] = field(default_factory=set)  # rule ids or checkov ids
    fail_on: Severity = Severity.INFO  # lowest severity that makes the exit code 1
    source: str | None = None  # the file the settings came from, for the output header
