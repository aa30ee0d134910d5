"""Load, run every rule, and sort the findings: the one engine behind every front-end."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Callable, Mapping, Optional, Sequence

from kds_iac.config import Config
from kds_iac.loaders import load
from kds_iac.model import Diagnostic, Model
from kds_iac.rules import RuleModule, all_rules
from kds_iac.rules.base import Finding


@dataclass
class ScanResult:
    findings: list[Finding] = field(default_factory=list)
    suppressed: list[Finding] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    scope: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    rules: list[RuleModule] = field(default_factory=list)
    audit: str = ""  # how the scope's API calls are audited, for report headers


def run_rules(model: Model, rules: Sequence[RuleModule]) -> list[Finding]:
    findings: list[Finding] = []
    for rule in rules:
        findings.extend(rule.check(model))
    findings.sort(key=_sort_key)
    return findings


def scan(
    paths: Sequence[str],
    *,
    config: Optional[Config] = None,
    var_files: Sequence[str] = (),
    variables: Optional[Mapping[str, str]] = None,
    progress: Optional[Callable[[int, int, str], None]] = None,
) -> ScanResult:
    """``progress(done, total, unit)`` is handed to the loaders (the CLI's progress bar)."""
    config = config or Config()
    rules = [r for r in all_rules() if not ({r.rule.id, r.rule.checkov_id} & config.skip_rules)]
    model = load(paths, var_files=var_files, variables=variables, progress=progress)
    model.audit = config.audit
    result = ScanResult(
        diagnostics=model.diagnostics, scope=model.scope, files=model.files, rules=rules, audit=_audit_line(model)
    )
    for finding in run_rules(model, rules):
        if model.focus_files and not _in_focus(finding, model):
            continue
        (result.suppressed if finding.suppressed_reason is not None else result.findings).append(finding)
    return result


def _audit_line(model: Model) -> str:
    """What covers the scope with CloudTrail; empty when it holds no stream to audit."""
    from kds_iac.views.cloudtrail import audit

    scope = audit(model)
    return scope.describe() if scope.streams else ""


def _in_focus(finding: Finding, model: Model) -> bool:
    """A finding is reported when its file was named, or lies under a named directory."""
    if os.path.normpath(finding.location.file) in model.focus_files:
        return True
    file = os.path.abspath(finding.location.file)
    for path in model.scope:
        if os.path.isdir(path):
            directory = os.path.abspath(path)
            if os.path.commonpath([directory, file]) == directory:
                return True
    return False


def _sort_key(finding: Finding) -> tuple:
    loc = finding.location
    return (loc.file, finding.primary_line, finding.rule.id, finding.address)
