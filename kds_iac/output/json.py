"""JSON: the stable machine format (schema version 1, documented in ``docs/output-json.md``).

Keys are always present (``null`` when a value does not apply) and keep the order below;
new keys may be added within version 1, nothing is renamed or removed without bumping it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterator, Optional

from kds_iac.model import Diagnostic, Resource
from kds_iac.output.common import (
    TOOL_NAME,
    ReportContext,
    all_findings,
    rules_in_report,
    summary_counts,
    suppression_reason,
)
from kds_iac.output.jsonlayout import dumps, filled, kept, value
from kds_iac.reporting import diagnostic_position
from kds_iac.rules.base import Finding

if TYPE_CHECKING:  # pragma: no cover
    from kds_iac.engine import ScanResult

SCHEMA_VERSION = 1


def render(result: "ScanResult", context: ReportContext) -> str:
    return "".join(chunks(result, context))


def chunks(result: "ScanResult", context: ReportContext) -> Iterator[str]:
    """The text of ``render`` in pieces, a finding at a time, for writing as it is made: the
    whole document as one dict of records and one string took more memory than the scan
    (a 10 MB template's 255,000 findings: about 900 MB; benchmarks/README.md). The same
    bytes as ``json.dumps(document(...), indent=2)``: the other keys are dumped with an empty
    findings list, and each record, dumped alone, is laid out at its depth and put in its
    place (``jsonlayout``)."""
    head = dumps(document(result, context, findings=False)) + "\n"
    write = _RecordText()
    fix_edits = context.fix_edits
    texts = (write(f, suppressed, None if suppressed else fix_edits(f)) for f, suppressed in all_findings(result))
    return filled(head, "findings", 2, texts)


def _finding_records(result: "ScanResult", context: ReportContext) -> Iterator[dict[str, Any]]:
    for f, suppressed in all_findings(result):
        yield finding_record(f, suppressed, None if suppressed else context.fix_edits(f))


def document(result: "ScanResult", context: ReportContext, findings: bool = True) -> dict[str, Any]:
    """The report as one dict; without ``findings``, its findings list is empty (``chunks``)."""
    return {
        "version": SCHEMA_VERSION,
        "tool": {"name": TOOL_NAME, "version": context.tool_version},
        "scope": list(result.scope),
        "config": context.config_source,
        "audit": result.audit or None,
        "rules": [
            {
                "id": rule.id,
                "checkov_id": rule.checkov_id,
                "severity": rule.severity.name.lower(),
                "title": rule.title,
                "help_uri": rule.help_uri,
            }
            for rule, _module in rules_in_report(result)
        ],
        "findings": list(_finding_records(result, context)) if findings else [],
        "diagnostics": [diagnostic_record(d) for d in result.diagnostics],
        "summary": summary_counts(result, context),
    }


def finding_record(finding: Finding, suppressed: bool, edits: Optional[list] = None) -> dict[str, Any]:
    resource = finding.resource
    return {
        "rule_id": finding.rule.id,
        "checkov_id": finding.rule.checkov_id,
        "severity": finding.rule.severity.name.lower(),
        "title": finding.rule.title,
        "file": resource.location.file,
        "start_line": resource.location.start_line,
        "end_line": resource.location.end_line,
        "line": finding.primary_line,
        "resource": resource.address,
        "resource_type": resource.type,
        "message": finding.message,
        "construct_path": resource.construct_path,
        "generated_from": resource.generated_from,
        "suppressed": suppressed,
        "suppression_reason": suppression_reason(finding) if suppressed else None,
        "help_uri": finding.rule.help_uri,
        "related": [related_record(r) for r in finding.related],
        "instances": list(finding.instances),
        "fix": fix_record(finding, edits) if edits is not None else None,
    }


_M = "\n" + " " * 6  # the line break and indentation of a record's keys (3 levels deep: ``value(..., 3)``)


class _RecordText:
    """``dumps(finding_record(finding, suppressed, edits), level=2)``, from pieces that many
    findings share: the keys of a rule and of a resource, with the text between them, made once.
    Laying out each record's 19 keys anew was two thirds of the report's time (0.25 of 0.38 s
    for 22,800 findings). The keys and their order are ``finding_record``'s; tests compare the
    two texts on findings of every kind."""

    def __init__(self) -> None:
        self._rules: dict[int, tuple[str, str]] = {}  # id(rule) -> text before the file, before related
        self._resources: dict[int, tuple[str, str, str]] = {}  # id(resource) -> before line, message, suppressed

    def __call__(self, finding: Finding, suppressed: bool, edits: Optional[list]) -> str:
        rule = finding.rule
        rule_text = self._rules.get(id(rule))
        if rule_text is None:  # the findings keep their rules alive: an id is not reused meanwhile
            rule_text = self._rules[id(rule)] = (
                (
                    f'{{{_M}"rule_id": {value(rule.id, 3)},{_M}"checkov_id": {value(rule.checkov_id, 3)},'
                    f'{_M}"severity": {value(rule.severity.name.lower(), 3)},{_M}"title": {value(rule.title, 3)},{_M}"file": '
                ),
                f'{value(rule.help_uri, 3)},{_M}"related": ',
            )
        resource = finding.resource
        resource_text = self._resources.get(id(resource)) or kept(self._resources, id(resource), (
            (
                f'{value(resource.location.file, 3)},{_M}"start_line": {value(resource.location.start_line, 3)},'
                f'{_M}"end_line": {value(resource.location.end_line, 3)},{_M}"line": '
            ),
            f',{_M}"resource": {value(resource.address, 3)},{_M}"resource_type": {value(resource.type, 3)},{_M}"message": ',
            (
                f',{_M}"construct_path": {value(resource.construct_path, 3)},'
                f'{_M}"generated_from": {value(resource.generated_from, 3)},{_M}"suppressed": '
            ),
        ))
        related, instances = finding.related, finding.instances
        return "".join((
            rule_text[0], resource_text[0], value(finding.primary_line, 3), resource_text[1], value(finding.message, 3),
            resource_text[2], value(suppressed, 3) if suppressed.__class__ is not bool else "true" if suppressed else "false",
            _REASON, value(suppression_reason(finding), 3) if suppressed else "null",
            _HELP, rule_text[1], value([related_record(r) for r in related], 3) if related else "[]",
            _INSTANCES, value(list(instances), 3) if instances else "[]",
            _FIX, value(fix_record(finding, edits), 3) if edits is not None else "null", "\n    }",
        ))


_REASON, _HELP, _INSTANCES, _FIX = (f',{_M}"{key}": ' for key in ("suppression_reason", "help_uri", "instances", "fix"))


def fix_record(finding: Finding, edits: list) -> dict[str, Any]:
    """The finding's fix and its text edits (1-based lines and columns, columns in code
    points, end exclusive), as ``kds-iac scan --fix`` would apply them."""
    return {
        "title": finding.fix.title,
        "safety": finding.fix.safety,
        "edits": [
            {
                "file": edit.file,
                "start_line": edit.start_line,
                "start_column": edit.start_column,
                "end_line": edit.end_line,
                "end_column": edit.end_column,
                "text": edit.text,
            }
            for edit in edits
        ],
    }


def related_record(resource: Resource) -> dict[str, Any]:
    return {
        "resource": resource.address,
        "resource_type": resource.type,
        "file": resource.location.file,
        "start_line": resource.location.start_line,
        "end_line": resource.location.end_line,
    }


def diagnostic_record(diagnostic: Diagnostic) -> dict[str, Any]:
    """Line and column as the text report prints them (a whole-file problem is 1:1, so
    ``file:line`` built from either report is the same); ``whole_file`` says which it is."""
    line, column = diagnostic_position(diagnostic)
    return {
        "level": diagnostic.level,
        "file": diagnostic.file,
        "line": line,
        "column": column,
        "message": diagnostic.message,
        "whole_file": diagnostic.line < 1,
        "code": diagnostic.code,
    }
