"""SARIF 2.1.0 (GitHub code scanning, Azure DevOps, VS Code SARIF viewer).

One run. ``tool.driver.rules`` lists every rule that ran (help text from the rule module's
docstring); each finding is a result whose ``partialFingerprints`` hash the rule id, the
file (relative to the working directory) and the resource address, never line numbers, so
an alert survives edits above it. Suppressed findings are results with ``suppressions``;
input errors and notes are ``toolExecutionNotifications`` of the invocation; the scope and
the settings file are run properties. URIs are relative to ``%SRCROOT%`` (the working
directory) when the file lies under it, else absolute ``file://`` URIs. A finding with a safe
fix that can be written carries it in ``fixes``, for the SARIF consumers that offer them;
unsafe fixes are left out, since a consumer applies them without ``--unsafe-fixes``' warning.
"""

from __future__ import annotations

import hashlib
import inspect
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Optional

from kds_iac.model import Diagnostic, Resource, unique
from kds_iac.output.common import (
    INFORMATION_URI,
    TOOL_NAME,
    ReportContext,
    all_findings,
    artifact_uri,
    rules_in_report,
    suppression_reason,
)
from kds_iac.output.jsonlayout import dumps, filled, kept, value
from kds_iac.reporting import diagnostic_position, finding_column, full_description
from kds_iac.rules.base import Finding, Rule, RuleModule, Severity

if TYPE_CHECKING:  # pragma: no cover
    from kds_iac.engine import ScanResult

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
SRCROOT = "%SRCROOT%"
FINGERPRINT_KEY = "kdsIacResource/v1"

LEVELS = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
# GitHub reads properties.security-severity as a CVSS-like score (a number written as a
# string, as CodeQL and checkov write it): >= 9.0 critical, 7.0-8.9 high, 4.0-6.9 medium,
# 0.1-3.9 low.
SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "0.0",
}


def render(result: "ScanResult", context: ReportContext) -> str:
    return "".join(chunks(result, context))


def chunks(result: "ScanResult", context: ReportContext) -> Iterator[str]:
    """The text of ``render`` in pieces, a result at a time, as ``json.chunks`` writes its
    findings: the whole document's dicts cost more memory than the scan on a big template,
    and the garbage collector's passes over them a third of the writing time."""
    head = dumps(document(result, context, results=False)) + "\n"
    return filled(head, "results", 4, _results(result, rules_in_report(result), _ResultText(context)))


def _results(result: "ScanResult", rules: list, make: Callable[[Finding, bool, int], Any]) -> Iterator[Any]:
    """``make(finding, suppressed, rule index)`` for each finding of the report, in order."""
    index = {rule.id: i for i, (rule, _module) in enumerate(rules)}
    for f, suppressed in all_findings(result):
        yield make(f, suppressed, index[f.rule.id])


def document(result: "ScanResult", context: ReportContext, results: bool = True) -> dict[str, Any]:
    """The report as one dict; without ``results``, the run's results list is empty (``chunks``)."""
    rules = rules_in_report(result)
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": TOOL_NAME,
                "version": context.tool_version,
                "informationUri": INFORMATION_URI,
                "rules": [rule_descriptor(rule, module) for rule, module in rules],
            }
        },
        "invocations": [invocation(result, context)],
        "originalUriBaseIds": {SRCROOT: {"uri": Path(context.cwd).resolve().as_uri() + "/"}},
        "results": list(_results(result, rules, lambda f, suppressed, i: sarif_result(f, suppressed, i, context)))
        if results
        else [],
        "columnKind": "unicodeCodePoints",
        "properties": {
            "scope": list(result.scope),
            "configFile": context.config_source,
            "audit": result.audit or None,
        },
    }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def rule_descriptor(rule: Rule, module: Optional[RuleModule]) -> dict[str, Any]:
    doc = inspect.cleandoc(module.doc) if module and module.doc else ""
    tags = ["security", "kinesis", *(module.rule.formats if module else rule.formats)]
    descriptor: dict[str, Any] = {
        "id": rule.id,
        "name": rule_name(rule, module),
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": full_description(doc) or rule.title},
        "help": {
            "text": doc or f"{rule.title}\n\nSee {rule.help_uri}",
            "markdown": doc or f"**{rule.title}**\n\nSee [{rule.id}]({rule.help_uri}).",
        },
        "helpUri": rule.help_uri,
        "defaultConfiguration": {"level": LEVELS[rule.severity]},
        "properties": {
            "security-severity": SECURITY_SEVERITY[rule.severity],
            "severity": rule.severity.name.lower(),
            "checkov_id": rule.checkov_id,
            "precision": "high",
            "tags": list(unique(tags)),
        },
    }
    return descriptor


def rule_name(rule: Rule, module: Optional[RuleModule]) -> str:
    """PascalCase from the module name (``kds001_stream_unencrypted`` -> ``StreamUnencrypted``)."""
    words: list[str] = []
    if module:
        stem = module.module_name.rsplit(".", 1)[-1]
        words = re.sub(r"^kds\d+_?", "", stem).split("_")
    if not any(words):
        words = re.findall(r"[A-Za-z0-9]+", rule.title)
    name = "".join(w[:1].upper() + w[1:] for w in words if w)
    return name or rule.id


def sarif_result(finding: Finding, suppressed: bool, rule_index: int, context: ReportContext) -> dict[str, Any]:
    uri, relative = artifact_uri(finding.location.file, context.cwd)
    result: dict[str, Any] = {
        "ruleId": finding.rule.id,
        "ruleIndex": rule_index,
        "level": LEVELS[finding.rule.severity],
        "message": {"text": finding.message},
        "locations": [
            {
                "physicalLocation": physical_location(finding, uri, relative),
                "logicalLocations": [logical_location(finding.resource)],
            }
        ],
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint(finding, uri)},
        "properties": {
            "severity": finding.rule.severity.name.lower(),
            "checkov_id": finding.rule.checkov_id,
            "resource": finding.address,
            "resourceType": finding.resource.type,
            "instances": list(finding.instances),
        },
    }
    if finding.resource.construct_path:
        result["properties"]["constructPath"] = finding.resource.construct_path
    if finding.related:
        result["relatedLocations"] = [
            related_location(i, resource, context) for i, resource in enumerate(finding.related, start=1)
        ]
    edits = None if suppressed else context.fix_edits(finding)
    if edits is not None and finding.fix.is_safe:
        result["fixes"] = [sarif_fix(finding.fix.title, edits, context)]
    if suppressed:
        result["suppressions"] = [_suppression(finding)]
    return result


_M5, _M6, _M7 = ("\n" + " " * (2 * level) for level in (5, 6, 7))  # a line break and the indentation 5, 6, 7 deep


class _ResultText:
    """``dumps(sarif_result(finding, suppressed, rule_index, context), level=4)``, from pieces
    that many findings share, made once: a rule's, a resource's, and a resource's locations at
    one line. Laying out each result's 13 containers anew was most of the report's time. The
    keys and their order are ``sarif_result``'s; tests compare the two texts on results of
    every kind."""

    def __init__(self, context: ReportContext) -> None:
        self.context = context
        # the findings keep their rules and resources alive: an id is not reused meanwhile
        self._rules: dict[tuple[int, int], tuple[str, str]] = {}  # (id(rule), index) -> head, properties
        self._resources: dict[int, tuple[str, str, str]] = {}  # id(resource) -> properties, constructPath, logical
        self._places: dict[tuple[int, Optional[int]], tuple[str, str]] = {}  # (id(resource), line) -> locations, uri

    def __call__(self, finding: Finding, suppressed: bool, rule_index: int) -> str:
        rule, resource = finding.rule, finding.resource
        rule_text = self._rules.get((id(rule), rule_index))
        if rule_text is None:
            rule_text = self._rules[(id(rule), rule_index)] = (
                (
                    f'{{{_M5}"ruleId": {value(rule.id, 5)},{_M5}"ruleIndex": {value(rule_index, 5)},'
                    f'{_M5}"level": {value(LEVELS[rule.severity], 5)},{_M5}"message": {{{_M6}"text": '
                ),
                (
                    f'{_M5}}},{_M5}"properties": {{{_M6}"severity": {value(rule.severity.name.lower(), 6)},'
                    f'{_M6}"checkov_id": {value(rule.checkov_id, 6)},{_M6}"resource": '
                ),
            )
        resource_text = self._resources.get(id(resource)) or kept(self._resources, id(resource), (
            f'{value(resource.address, 6)},{_M6}"resourceType": {value(resource.type, 6)},{_M6}"instances": ',
            f',{_M6}"constructPath": {value(resource.construct_path, 6)}' if resource.construct_path else "",
            value([logical_location(resource)], 7),
        ))
        place = (id(resource), finding.line)
        place_text = self._places.get(place) or kept(self._places, place, self._place(finding, resource_text[2]))
        instances = finding.instances
        parts = [
            rule_text[0], value(finding.message, 6), place_text[0], value(fingerprint(finding, place_text[1]), 6),
            rule_text[1], resource_text[0], value(list(instances), 6) if instances else "[]", resource_text[1],
            _M5, "}",
        ]
        related = finding.related
        if related:
            parts += (_RELATED, value([related_location(i, r, self.context) for i, r in enumerate(related, start=1)], 5))
        edits = None if suppressed else self.context.fix_edits(finding)
        if edits is not None and finding.fix.is_safe:
            parts += (_FIXES, value([sarif_fix(finding.fix.title, edits, self.context)], 5))
        if suppressed:
            parts += (_SUPPRESSIONS, value([_suppression(finding)], 5))
        parts.append("\n        }")
        return "".join(parts)

    def _place(self, finding: Finding, logical: str) -> tuple[str, str]:
        """The text from the end of the message to the fingerprint's value, and the file's URI."""
        uri, relative = artifact_uri(finding.location.file, self.context.cwd)
        return (
            (
                f'{_M5}}},{_M5}"locations": [{_M6}{{{_M7}"physicalLocation": '
                f'{value(physical_location(finding, uri, relative), 7)},{_M7}"logicalLocations": {logical}'
                f'{_M6}}}{_M5}],{_M5}"partialFingerprints": {{{_M6}{value(FINGERPRINT_KEY, 6)}: '
            ),
            uri,
        )


_RELATED, _FIXES, _SUPPRESSIONS = (f',{_M5}"{key}": ' for key in ("relatedLocations", "fixes", "suppressions"))


def _suppression(finding: Finding) -> dict[str, Any]:
    return {"kind": "inSource", "status": "accepted", "justification": suppression_reason(finding)}


def sarif_fix(title: str, edits: list, context: ReportContext) -> dict[str, Any]:
    """A safe fix as SARIF ``fixes[]``: one artifact change per file, one replacement per
    edit. Regions count columns as the run's ``columnKind`` says (code points, 1-based, end
    exclusive), which is how text edits count them; an insertion is an empty region."""
    changes: dict[str, list] = {}
    for edit in edits:
        changes.setdefault(edit.file, []).append(edit)
    out = []
    for file, own in changes.items():
        uri, relative = artifact_uri(file, context.cwd)
        out.append(
            {
                "artifactLocation": _artifact(uri, relative),
                "replacements": [
                    {
                        "deletedRegion": {
                            "startLine": edit.start_line,
                            "startColumn": edit.start_column,
                            "endLine": edit.end_line,
                            "endColumn": edit.end_column,
                        },
                        "insertedContent": {"text": edit.text},
                    }
                    for edit in own
                ],
            }
        )
    return {"description": {"text": title}, "artifactChanges": out}


def physical_location(finding: Finding, uri: str, relative: bool) -> dict[str, Any]:
    block = finding.location
    line = finding.primary_line
    if finding.line is None:  # the whole block is the problem
        region = {"startLine": line, "startColumn": finding_column(finding), "endLine": max(block.end_line, line)}
    else:
        region = {"startLine": line, "startColumn": finding_column(finding), "endLine": line}
    location: dict[str, Any] = {"artifactLocation": _artifact(uri, relative), "region": region}
    if (region["startLine"], region["endLine"]) != (block.start_line, block.end_line) and (
        block.start_line <= line <= block.end_line
    ):
        location["contextRegion"] = {"startLine": block.start_line, "endLine": block.end_line}
    return location


def logical_location(resource: Resource) -> dict[str, Any]:
    return {"name": resource.address, "fullyQualifiedName": resource.address, "kind": "resource"}


def related_location(identifier: int, resource: Resource, context: ReportContext) -> dict[str, Any]:
    uri, relative = artifact_uri(resource.location.file, context.cwd)
    return {
        "id": identifier,
        "physicalLocation": {
            "artifactLocation": _artifact(uri, relative),
            "region": {"startLine": max(resource.location.start_line, 1), "endLine": max(resource.location.end_line, 1)},
        },
        "logicalLocations": [logical_location(resource)],
        "message": {"text": f"{resource.type} {resource.address}"},
    }


def fingerprint(finding: Finding, uri: str) -> str:
    """Stable across runs and line moves: rule id, artifact URI and resource address."""
    key = "\x00".join((finding.rule.id, uri, finding.address))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def invocation(result: "ScanResult", context: ReportContext) -> dict[str, Any]:
    errors = [d for d in result.diagnostics if d.level == "error"]
    return {
        "executionSuccessful": not errors,
        "exitCode": context.exit_code,
        "workingDirectory": {"uri": Path(context.cwd).resolve().as_uri() + "/"},
        "toolExecutionNotifications": [notification(d, context) for d in result.diagnostics],
    }


def notification(diagnostic: Diagnostic, context: ReportContext) -> dict[str, Any]:
    uri, relative = artifact_uri(diagnostic.file, context.cwd)
    physical: dict[str, Any] = {"artifactLocation": _artifact(uri, relative)}
    if diagnostic.line >= 1:
        line, column = diagnostic_position(diagnostic)
        physical["region"] = {"startLine": line, "startColumn": column}
    is_error = diagnostic.level == "error"
    out: dict[str, Any] = {
        "level": "error" if is_error else "note",
        "message": {"text": diagnostic.message},
        "locations": [{"physicalLocation": physical}],
        "descriptor": {"id": "input-error" if is_error else "input-note"},
    }
    if diagnostic.code is not None:  # what kind of trouble (kds_iac.model.DiagnosticCode)
        out["properties"] = {"code": diagnostic.code}
    return out


def _artifact(uri: str, relative: bool) -> dict[str, Any]:
    return {"uri": uri, "uriBaseId": SRCROOT} if relative else {"uri": uri}
