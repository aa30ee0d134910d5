"""JUnit XML (GitLab, Jenkins, Azure Pipelines test reports).

One ``<testsuite>`` per rule that ran, named ``KDS001: <title>``. Each finding is a failing
``<testcase>`` (``classname`` the rule id, ``name`` the resource address, ``file`` and
``line`` attributes); a suppressed finding is a ``<skipped>`` testcase with its reason; a
rule without findings has one passing testcase ``no findings``. Input errors are
``<error>`` testcases in a last suite named ``inputs``; notes stay out (they are not tests).
Every finding is a failure whatever ``--fail-on`` says: the exit code carries the threshold.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING

from kds_iac.output.common import (
    TOOL_NAME,
    ReportContext,
    all_findings,
    rules_in_report,
    suppression_reason,
)
from kds_iac.output.text import diagnostic_line, finding_line
from kds_iac.reporting import diagnostic_position

if TYPE_CHECKING:  # pragma: no cover
    from kds_iac.engine import ScanResult

# Characters XML 1.0 cannot carry at all (ElementTree would write them and break the file).
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def render(result: "ScanResult", context: ReportContext) -> str:
    root = ET.Element("testsuites", name=TOOL_NAME)
    by_rule: dict[str, list] = {}
    for finding, suppressed in all_findings(result):
        by_rule.setdefault(finding.rule.id, []).append((finding, suppressed))

    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for rule, _module in rules_in_report(result):
        suite = ET.SubElement(root, "testsuite", name=_clean(f"{rule.id}: {rule.title}"))
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        for finding, suppressed in by_rule.get(rule.id, []):
            case = ET.SubElement(
                suite,
                "testcase",
                classname=rule.id,
                name=_clean(finding.address),
                file=_clean(finding.location.file),
                line=str(finding.primary_line),
                time="0",
            )
            counts["tests"] += 1
            if suppressed:
                ET.SubElement(case, "skipped", message=_clean(f"suppressed: {suppression_reason(finding)}"))
                counts["skipped"] += 1
            else:
                failure = ET.SubElement(
                    case, "failure", message=_clean(finding.message), type=finding.rule.severity.name
                )
                failure.text = _clean(f"{finding_line(finding)}\nHelp: {rule.help_uri}")
                counts["failures"] += 1
        if not counts["tests"]:
            ET.SubElement(suite, "testcase", classname=rule.id, name="no findings", time="0")
            counts["tests"] = 1
        _set_counts(suite, counts)
        for key in totals:
            totals[key] += counts[key]

    errors = [d for d in result.diagnostics if d.level == "error"]
    if errors:
        suite = ET.SubElement(root, "testsuite", name="inputs")
        for diagnostic in errors:
            line, _column = diagnostic_position(diagnostic)
            case = ET.SubElement(
                suite,
                "testcase",
                classname="inputs",
                name=_clean(diagnostic.file),
                file=_clean(diagnostic.file),
                line=str(line),
                time="0",
            )
            error = ET.SubElement(case, "error", message=_clean(diagnostic.message), type=diagnostic.code or "parse")
            error.text = _clean(diagnostic_line(diagnostic))
        counts = {"tests": len(errors), "failures": 0, "errors": len(errors), "skipped": 0}
        _set_counts(suite, counts)
        for key in totals:
            totals[key] += counts[key]

    _set_counts(root, totals)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _set_counts(element: ET.Element, counts: dict[str, int]) -> None:
    for key in ("tests", "failures", "errors", "skipped"):
        element.set(key, str(counts[key]))
    element.set("time", "0")


def _clean(text: str) -> str:
    return _INVALID_XML.sub("\ufffd", str(text))
