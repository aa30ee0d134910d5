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
from typing import TYPE_CHECKING, Iterator

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
    return "".join(chunks(result, context))


def chunks(result: "ScanResult", context: ReportContext) -> Iterator[str]:
    """The text of ``render`` a suite at a time: ElementTree's text of the whole indented document
    (``ET.indent``, then ``ET.tostring``), without the whole tree in memory. A suite indented
    one level deep is laid out as it is inside the document; the totals of the root's start tag
    are counted first."""
    by_rule: dict[str, list] = {}
    for finding, suppressed in all_findings(result):
        by_rule.setdefault(finding.rule.id, []).append((finding, suppressed))
    suites = [(rule, by_rule.get(rule.id, [])) for rule, _module in rules_in_report(result)]
    errors = [d for d in result.diagnostics if d.level == "error"]

    totals = {"tests": 0, "failures": 0, "errors": len(errors), "skipped": 0}
    for _rule, cases in suites:
        for key, count in _rule_counts(cases).items():
            totals[key] += count
    totals["tests"] += len(errors)
    root = ET.Element("testsuites", name=TOOL_NAME)
    _set_counts(root, totals)
    yield '<?xml version="1.0" encoding="UTF-8"?>\n'
    if not suites and not errors:
        yield ET.tostring(root, encoding="unicode") + "\n"
        return
    yield ET.tostring(root, encoding="unicode")[: -len(" />")] + ">"  # the start tag of the empty root
    for rule, cases in suites:
        yield _written(_rule_suite(rule, cases))
    if errors:
        yield _written(_inputs_suite(errors))
    yield "\n</testsuites>\n"


def _written(suite: ET.Element) -> str:
    """``suite`` as the root's child, after the root's indentation (the last one's is the end's)."""
    ET.indent(suite, level=1)
    return "\n  " + ET.tostring(suite, encoding="unicode")


def _rule_counts(cases: list) -> dict[str, int]:
    """A rule's suite: a failing case per finding, a skipped one per suppressed finding, and
    one passing case when there is neither."""
    skipped = sum(1 for _finding, suppressed in cases if suppressed)
    return {"tests": len(cases) or 1, "failures": len(cases) - skipped, "errors": 0, "skipped": skipped}


def _rule_suite(rule, cases: list) -> ET.Element:
    suite = ET.Element("testsuite", name=_clean(f"{rule.id}: {rule.title}"))
    for finding, suppressed in cases:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=rule.id,
            name=_clean(finding.address),
            file=_clean(finding.location.file),
            line=str(finding.primary_line),
            time="0",
        )
        if suppressed:
            ET.SubElement(case, "skipped", message=_clean(f"suppressed: {suppression_reason(finding)}"))
        else:
            failure = ET.SubElement(case, "failure", message=_clean(finding.message), type=finding.rule.severity.name)
            failure.text = _clean(f"{finding_line(finding)}\nHelp: {rule.help_uri}")
    if not cases:
        ET.SubElement(suite, "testcase", classname=rule.id, name="no findings", time="0")
    _set_counts(suite, _rule_counts(cases))
    return suite


def _inputs_suite(errors: list) -> ET.Element:
    suite = ET.Element("testsuite", name="inputs")
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
    _set_counts(suite, {"tests": len(errors), "failures": 0, "errors": len(errors), "skipped": 0})
    return suite


def _set_counts(element: ET.Element, counts: dict[str, int]) -> None:
    for key in ("tests", "failures", "errors", "skipped"):
        element.set(key, str(counts[key]))
    element.set("time", "0")


def _clean(text: str) -> str:
    return _INVALID_XML.sub("\ufffd", str(text))
