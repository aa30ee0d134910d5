"""What a rule is and what it produces.

A rule module holds a docstring with fixed sections, ``RULE`` (its metadata), ``EXAMPLES``
(good and bad examples under ``examples/``, with the exact findings each bad one must give)
and ``check(model)``, which yields findings. Rules read views, never raw template text.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Callable, Iterator, Optional

from kds_iac.model import Location, Model, Resource

DOC_SECTIONS = ("What it does", "Why is this bad?", "Remediation", "References")
DOCS_BASE_URL = "https://github.com/kds-iac/kds-iac/blob/main/docs/rules"


class Severity(enum.IntEnum):
    INFO = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @classmethod
    def parse(cls, text: str) -> "Severity":
        try:
            return cls[text.strip().upper()]
        except KeyError:
            names = ", ".join(s.name.lower() for s in cls)
            raise ValueError(f"unknown severity {text!r} (one of: {names})") from None


@dataclass(frozen=True)
class Rule:
    id: str  # KDS001: stable, never reused
    checkov_id: str  # CKV_KDS_1
    severity: Severity
    title: str
    resource_types: tuple[str, ...]  # where findings sit (Terraform and CloudFormation types)
    category: str  # checkov's CheckCategories name: ENCRYPTION, IAM, LOGGING, ...
    formats: tuple[str, ...] = ("terraform", "cloudformation")

    @property
    def help_uri(self) -> str:
        return f"{DOCS_BASE_URL}/{self.id}.md"


@dataclass(frozen=True)
class Examples:
    """Example paths are relative to ``examples/<format>/``.

    ``bad`` maps each bad example to the exact set of resource addresses the rule must
    report in it; ``good`` lists examples where the rule must report nothing.
    """

    bad: dict[str, frozenset[str]]
    good: tuple[str, ...]


@dataclass(frozen=True)
class Finding:
    rule: Rule
    resource: Resource
    message: str
    line: Optional[int] = None  # the attribute line to point at; defaults to the block start
    related: tuple[Resource, ...] = field(default=())

    @property
    def location(self) -> Location:
        """The resource block: what a person edits to fix the finding."""
        return self.resource.location

    @property
    def primary_line(self) -> int:
        """The line to point an editor at: the offending attribute, else the block start."""
        return self.line or self.resource.location.start_line

    @property
    def address(self) -> str:
        return self.resource.address

    @property
    def suppressed_reason(self) -> Optional[str]:
        skips = self.resource.skips
        for key in (self.rule.id, self.rule.checkov_id):
            if key in skips:
                return skips[key]
        return None


Check = Callable[[Model], Iterator[Finding]]


@dataclass(frozen=True)
class RuleModule:
    """A loaded rule module: metadata, docs, examples and the check itself."""

    rule: Rule
    doc: str
    examples: dict[str, Examples]
    check: Check
    module_name: str
