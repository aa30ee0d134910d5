"""JUnit XML: well-formed, one suite per rule, a failing case per finding, errors for inputs."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from kds_iac.model import Diagnostic, DiagnosticCode
from kds_iac.output.common import ReportContext
from kds_iac.output.junitxml import chunks, render
from kds_iac.rules.base import Finding
from tests.output import fakes


def parse(result=None) -> ET.Element:
    text = render(result or fakes.full_result(), ReportContext(tool_version="1.2.3"))
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    return ET.fromstring(text.encode("utf-8"))


def test_structure_and_counts():
    root = parse()
    assert root.tag == "testsuites"
    assert {k: root.get(k) for k in ("name", "tests", "failures", "errors", "skipped")} == {
        "name": "kds-iac", "tests": "5", "failures": "2", "errors": "1", "skipped": "1"}
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == [
        "KDS901: Stream is not encrypted",
        "KDS902: Stream keeps records for 24 hours only",
        "KDS903: Stream uses the AWS managed key",
        "inputs",
    ]
    assert [(s.get("tests"), s.get("failures"), s.get("errors"), s.get("skipped")) for s in suites] == [
        ("2", "1", "0", "1"), ("1", "1", "0", "0"), ("1", "0", "0", "0"), ("1", "0", "1", "0")]


def test_failing_testcase_per_finding():
    suite = parse().find("testsuite[@name='KDS901: Stream is not encrypted']")
    failing, skipped = suite.findall("testcase")
    assert failing.attrib == {"classname": "KDS901", "name": "aws_kinesis_stream.events", "file": "infra/main.tf",
                              "line": "12", "time": "0"}
    failure = failing.find("failure")
    assert failure.get("message") == "stream stores records unencrypted"
    assert failure.get("type") == "HIGH"
    assert failure.text.splitlines() == [
        "infra/main.tf:12:1: HIGH KDS901 stream stores records unencrypted [aws_kinesis_stream.events]",
        "Help: https://github.com/kds-iac/kds-iac/blob/main/docs/rules/KDS901.md",
    ]
    assert skipped.get("name") == "LegacyStream"
    assert skipped.find("skipped").get("message") == "suppressed: encrypted by the producer"


def test_rule_without_findings_passes():
    suite = parse().find("testsuite[@name='KDS903: Stream uses the AWS managed key']")
    (case,) = suite.findall("testcase")
    assert case.get("name") == "no findings" and list(case) == []


def test_parse_errors_are_errors():
    (case,) = parse().find("testsuite[@name='inputs']").findall("testcase")
    assert (case.get("file"), case.get("line")) == ("stacks/broken.yaml", "7")
    error = case.find("error")
    assert error.get("message") == "mapping values are not allowed here"
    assert error.get("type") == "parse"
    assert error.text == "stacks/broken.yaml:7:3: ERROR parse mapping values are not allowed here"


def test_an_error_is_typed_by_its_diagnostic_code():
    missing = Diagnostic("error", "nope", 0, "no such file or directory", code=DiagnosticCode.NOT_FOUND)
    (case,) = parse(fakes.result(diagnostics=[missing])).find("testsuite[@name='inputs']").findall("testcase")
    assert (case.get("file"), case.find("error").get("type")) == ("nope", "not-found")


def test_notes_are_not_tests():
    root = parse(fakes.result(diagnostics=[fakes.NOTE]))
    assert root.find("testsuite[@name='inputs']") is None
    assert root.get("errors") == "0"


def test_markup_and_control_characters_stay_well_formed():
    finding = Finding(fakes.UNENCRYPTED, fakes.tf_stream(), 'a <b> & "c" \x01 \x1b[31m ]]>')
    root = parse(fakes.result(findings=[finding]))
    message = root.find(".//failure").get("message")
    assert message.startswith('a <b> & "c" ') and "]]>" in message
    assert "\x01" not in message and "\x1b" not in message


@pytest.mark.parametrize(
    "result",
    [
        fakes.full_result(),  # rule suites, a passing one, a skipped case, the inputs suite
        fakes.result(),  # rules without findings
        fakes.result(diagnostics=[fakes.PARSE_ERROR]),
        fakes.ScanResult(diagnostics=[fakes.PARSE_ERROR]),  # no rule ran: the inputs suite alone
        fakes.ScanResult(),  # nothing at all: an empty root
    ],
    ids=["full", "no-findings", "error", "error-only", "empty"],
)
def test_written_a_suite_at_a_time_as_elementtree_writes_the_whole_document(result):
    """The pieces are ElementTree's text of the whole indented document they make up."""
    context = ReportContext(tool_version="1.2.3")
    pieces = list(chunks(result, context))
    text = "".join(pieces)
    assert text == render(result, context)
    _declaration, body = text.split("\n", 1)
    root = ET.fromstring(body)
    ET.indent(root)
    assert body == ET.tostring(root, encoding="unicode") + "\n"
    assert len(pieces) == 2 + len(root) + (1 if len(root) else 0)  # declaration, start, suites, end
