"""Load, run every rule, and sort the findings: the one engine behind every front-end."""

from __future__ import annotations

import os
from operator import attrgetter
from typing import Callable, Mapping, Optional, Sequence

from kds_iac.config import Config
from kds_iac.loaders import load
from kds_iac.model import Diagnostic, DiagnosticCode, Model, Resource
from kds_iac.rules import RuleModule, all_rules
from kds_iac.rules.base import Finding, one_per_place


class ScanResult:
    __slots__ = ("findings", "suppressed", "diagnostics", "scope", "files", "rules", "audit", "model")

    def __init__(
        self,
        findings: Optional[list[Finding]] = None,
        suppressed: Optional[list[Finding]] = None,
        diagnostics: Optional[list[Diagnostic]] = None,
        scope: Optional[list[str]] = None,
        files: Optional[list[str]] = None,
        rules: Optional[list[RuleModule]] = None,
        audit: str = "",
    ):
        self.findings = [] if findings is None else findings
        self.suppressed = [] if suppressed is None else suppressed
        self.diagnostics = [] if diagnostics is None else diagnostics
        self.scope = [] if scope is None else scope
        self.files = [] if files is None else files
        self.rules = [] if rules is None else rules
        self.audit = audit  # what audits the scope's streams, for report headers ("" if none)
        self.model: Optional[Model] = None  # what was judged, for reports that draw it (kds-iac map)


def run_rules(model: Model, rules: Sequence[RuleModule]) -> list[Finding]:
    """Every rule's findings, sorted. The cyclic collector is paused meanwhile: views and
    findings stay alive with the model, and each collection walked the whole model (a 10 MB
    template's rules: 6.2 s of CPU, 3.8 s paused; benchmarks/README.md)."""
    from kds_iac import gc_pause

    findings: list[Finding] = []
    with gc_pause.paused():
        for rule in rules:
            findings.extend(guarded_check(rule, model))
    _sort(findings)
    return findings


def guarded_check(rule: RuleModule, model: Model) -> list[Finding]:
    """The rule's findings; if it raises, an error diagnostic in ``model.diagnostics`` instead of
    a crash, so every other rule (and what this one found before failing) is still reported."""
    found: list[Finding] = []
    try:
        for finding in rule.check(model):
            found.append(finding)
    except Exception as error:  # noqa: BLE001 - a rule bug must not end the scan
        model.diagnostics.append(internal_error(f"rule {rule.rule.id}", error, model))
    return found


def internal_error(what: str, error: BaseException, model: Model) -> Diagnostic:
    """An error diagnostic for a bug in ``what`` (a rule, a view), at the resource being judged
    when it raised: the innermost frame holding a ``Resource`` says which. The
    traceback goes to the ``kds_iac.engine`` logger at debug level. Reading the frames needs
    no bookkeeping in rules or views, so a rule written tomorrow is covered too."""
    import logging  # only on failure: start-up stays light

    logging.getLogger("kds_iac.engine").debug("%s raised", what, exc_info=error)
    resource = _resource_being_judged(error)
    text = (str(error).splitlines() or [""])[0][:200]
    detail = f"{type(error).__name__}: {text}" if text else type(error).__name__
    if resource is not None:
        return Diagnostic(
            "error",
            resource.location.file,
            resource.location.start_line,
            f"internal error in {what} while judging {resource.address} ({detail}); "
            "findings of this rule may be missing",
            resource.location.column,
            code=DiagnosticCode.INTERNAL,
        )
    scope = ", ".join(model.scope) or "the scan"
    return Diagnostic(
        "error", model.scope[0] if model.scope else "", 0,
        f"internal error in {what} on {scope} ({detail}); findings of this rule may be missing",
        code=DiagnosticCode.INTERNAL,
    )


def _resource_being_judged(error: BaseException) -> Optional[Resource]:
    frames = []
    trace = error.__traceback__
    while trace is not None:
        frames.append(trace.tb_frame)
        trace = trace.tb_next
    for frame in reversed(frames):  # innermost first: the view or helper that failed
        for value in frame.f_locals.values():
            if isinstance(value, Resource):
                return value
    return None


def scan(
    paths: Sequence[str],
    *,
    config: Optional[Config] = None,
    var_files: Sequence[str] = (),
    variables: Optional[Mapping[str, str]] = None,
    progress: Optional[Callable[[int, int, str], None]] = None,
    one_finding_per_place: bool = True,
    jobs: int = 1,
) -> ScanResult:
    """``progress(done, total, unit)`` is handed to the loaders (the CLI's progress bar).
    ``jobs``: units loaded at once (the command's ``--jobs``; 1, serial, for callers that scan
    one unit, such as the language server); the result does not depend on it.

    With ``one_finding_per_place``, instances of one block that get the same finding (a
    module scanned as a root and through its example's call) are reported once, naming
    every instance; the checkov bridge asks for each instance, as checkov reports them."""
    config = config or Config()
    rules = [r for r in all_rules() if not ({r.rule.id, r.rule.checkov_id} & config.skip_rules)]
    model = load(paths, var_files=var_files, variables=variables, progress=progress, jobs=jobs)
    model.audit = config.audit
    result = ScanResult(
        diagnostics=model.diagnostics, scope=model.scope, files=model.files, rules=rules, audit=_audit_line(model)
    )
    result.model = model
    findings = run_rules(model, rules)
    if one_finding_per_place:
        findings = one_per_place(findings)
    for finding in findings:
        if model.focus_files and not _in_focus(finding, model):
            continue
        (result.suppressed if finding.suppressed_reason is not None else result.findings).append(finding)
    return result


def _audit_line(model: Model) -> str:
    """What covers the scope with CloudTrail; empty when it holds no stream to audit (or when
    the view fails, which is reported)."""
    from kds_iac.views.cloudtrail import audit

    try:
        scope = audit(model)
        return scope.describe() if scope.streams else ""
    except Exception as error:  # noqa: BLE001 - a view bug must not end the scan
        model.diagnostics.append(internal_error("the CloudTrail view", error, model))
        return ""


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


def _sort(findings: list[Finding]) -> None:
    """Sort by (file, line, rule id, address), as one sort by that tuple would: one stable sort
    per field, the last field first. Each sort's keys are values the findings already hold,
    where one sort by tuples made a tuple per finding (a 10 MB template's 255,783: 22 MB more
    at the scan's peak), in about the same time. ``one_per_place`` relies on this order."""
    for key in _SORT_KEYS:
        findings.sort(key=key)


# the last field first; the line is the one a finding points at (``Finding.primary_line``)
_SORT_KEYS = tuple(attrgetter(name) for name in ("resource.address", "rule.id", "primary_line", "resource.location.file"))
