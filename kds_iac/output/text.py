"""Text: one line per problem, in the ``path:line:col: ...`` form editors and grep understand.

The report itself (what ``render`` returns; stdout or ``--output``) holds only problem lines::

    infra/broken.yaml:7:3: ERROR parse mapping values are not allowed here
    infra/main.tf:3:1: NOTE input module "remote" not loaded: registry modules are not fetched
    infra/streams.tf:12:1: HIGH KDS001 stream stores records unencrypted [aws_kinesis_stream.events]

Input errors and notes come first (they explain missing results), then findings in file and
line order. Suppressed findings are left out; the summary counts them. The header (what
was scanned) and the summary line are separate strings the command line writes to stderr,
so every line on stdout matches ``PROBLEM_PATTERN`` (for editor problem matchers): groups
file, line, column, severity (CRITICAL, HIGH, MEDIUM, LOW, INFO for findings; ERROR for an
input that could not be read; NOTE for a part of the input not checked), code (rule id,
``parse`` or ``input``) and message (ending in ``[resource address]`` for findings; starting
with ``[*]`` when the finding has a fix that ``kds-iac scan --fix`` applies: a safe one, or any
with ``--unsafe-fixes``; its text edits are not computed for this report, so a fix that the
writer then cannot make with certainty is left alone by ``--fix``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator, Optional, Sequence

from kds_iac.model import Diagnostic
from kds_iac.output.common import (
    TOOL_NAME,
    ReportContext,
    summary_line,
)
from kds_iac.reporting import diagnostic_position, finding_column, one_line
from kds_iac.rules.base import Finding, Severity

if TYPE_CHECKING:  # pragma: no cover
    from kds_iac.engine import ScanResult

PROBLEM_PATTERN = r"^(.+):(\d+):(\d+): (CRITICAL|HIGH|MEDIUM|LOW|INFO|ERROR|NOTE) (\S+) (.*)$"

_RESET = "\x1b[0m"
_SEVERITY_STYLE = {
    Severity.CRITICAL: "\x1b[1;31m",
    Severity.HIGH: "\x1b[31m",
    Severity.MEDIUM: "\x1b[33m",
    Severity.LOW: "\x1b[36m",
    Severity.INFO: "\x1b[2m",
}
_ERROR_STYLE = "\x1b[1;31m"
_NOTE_STYLE = "\x1b[2m"
_PATH_STYLE = "\x1b[1m"


def render(result: "ScanResult", context: ReportContext) -> str:
    return "".join(chunks(result, context))


def chunks(result: "ScanResult", context: ReportContext, lines: int = 2048) -> Iterator[str]:
    """The text of ``render`` in pieces (the diagnostics, then ``lines`` findings at a time),
    for writing as it is made: the whole report as one string, with its lines before the join,
    set the command's peak memory (a 10 MB template's 255,783 lines, 69 MB: +225 MB of RSS)."""
    color, applicable = context.color, context.applicable
    if result.diagnostics:
        yield "".join(diagnostic_line(d, color) + "\n" for d in result.diagnostics)
    findings = result.findings
    for start in range(0, len(findings), lines):
        yield "".join(finding_line(f, color, applicable(f)) + "\n" for f in findings[start : start + lines])


def finding_line(finding: Finding, color: bool = False, fixable: bool = False) -> str:
    """``fixable``: ``--fix`` would fix it, marked ``[*]`` after the rule id as ruff does."""
    rule, resource = finding.rule, finding.resource
    severity = rule.severity
    where = f"{resource.location.file}:{finding.primary_line}:{finding_column(finding)}:"
    label = _LABELS[severity]  # not ``severity.name``: the enum's property was 0.2 of 4.8 profiled s (10 MB template)
    if color:
        where = _PATH_STYLE + where + _RESET
        label = _SEVERITY_STYLE[severity] + label + _RESET
    instances = finding.instances
    addresses = ", ".join((resource.address,) + instances) if instances else resource.address
    mark = " [*]" if fixable else ""
    return f"{where} {label} {rule.id}{mark} {one_line(finding.message)} [{addresses}]"


_LABELS = {severity: severity.name for severity in Severity}


def diagnostic_line(diagnostic: Diagnostic, color: bool = False) -> str:
    line, column = diagnostic_position(diagnostic)
    where = f"{diagnostic.file}:{line}:{column}:"
    if diagnostic.level == "error":
        label, token, style = "ERROR", "parse", _ERROR_STYLE
    else:
        label, token, style = "NOTE", "input", _NOTE_STYLE
    if color:
        where = _PATH_STYLE + where + _RESET
        label = style + label + _RESET
    return f"{where} {label} {token} {one_line(diagnostic.message)}"


def header(scope: Sequence[str], context: ReportContext) -> str:
    """``kds-iac 0.1.0: scanning infra/, stacks/app.yaml (config: pyproject.toml)``."""
    text = f"{TOOL_NAME} {context.tool_version}: scanning {', '.join(scope) or '(nothing)'}"
    if context.config_source:
        text += f" (config: {context.config_source})"
    return text


def audit_line(result: "ScanResult") -> str:
    """``kds-iac: CloudTrail: trails aws_cloudtrail.audit``: what audits the scope's streams."""
    return f"{TOOL_NAME}: CloudTrail for the streams of this scope: {result.audit}" if result.audit else ""


def summary(result: "ScanResult", context: ReportContext) -> str:
    """``kds-iac: 2 findings (1 high, 1 medium) in 3 files; 1 suppressed``."""
    return f"{TOOL_NAME}: {summary_line(result, context)}"


def fix_counts(result: "ScanResult", context: ReportContext) -> tuple[int, int]:
    """How many findings ``--fix`` would fix, and how many more only ``--unsafe-fixes`` would."""
    applicable = sum(1 for f in result.findings if context.applicable(f))
    hidden = sum(1 for f in result.findings if context.offers_fix(f) and not context.applicable(f))
    return applicable, hidden


def fix_hint(result: "ScanResult", context: ReportContext) -> str:
    """``kds-iac: 2 fixable with --fix (1 more with --unsafe-fixes)``, or "" when none is."""
    applicable, hidden = fix_counts(result, context)
    if not applicable and not hidden:
        return ""
    if not applicable:
        return f"{TOOL_NAME}: {hidden} fixable with --fix --unsafe-fixes"
    text = f"{TOOL_NAME}: [*] {applicable} fixable with --fix"
    return text + (f" ({hidden} more with --unsafe-fixes)" if hidden else "")


def fix_summary(applied: dict, remaining: Optional[int], hidden: int) -> str:
    """``kds-iac: 3 fixes applied (2 safe, 1 unsafe), 4 findings remain, 1 fixable with
    --unsafe-fixes``; without ``remaining`` (``--diff``), what ``--fix`` would apply."""
    safe, unsafe = applied.get("safe", 0), applied.get("unsafe", 0)
    total = safe + unsafe
    verb = "would be applied" if remaining is None else "applied"
    text = f"{TOOL_NAME}: {total} fix{'es' if total != 1 else ''} {verb} ({safe} safe, {unsafe} unsafe)"
    if remaining is not None:
        text += f", {remaining} finding{'s' if remaining != 1 else ''} remain{'s' if remaining == 1 else ''}"
    return text + f", {hidden} fixable with --unsafe-fixes"
