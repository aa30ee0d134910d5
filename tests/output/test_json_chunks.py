"""JSON and SARIF written a finding at a time must be the very bytes of the document dumped
whole by the standard library."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from kds_iac.model import Location, Resource
from kds_iac.output.common import ReportContext
from kds_iac.output import json as json_report
from kds_iac.output import sarif
from kds_iac.rules.base import Finding, Severity
from tests.output import fakes


def _whole(writer, result, context) -> str:
    return json.dumps(writer.document(result, context), indent=2, ensure_ascii=False) + "\n"


def _odd_finding() -> Finding:
    """Text that JSON escapes or keeps as is: newlines, quotes, non-ASCII, a lookalike of the layout."""
    resource = Resource(
        "AWS::Kinesis::Stream", 'Strëam"\n  "findings": [],', {}, Location("stäcks/a b.yaml", 3, 9), "cloudformation"
    )
    return Finding(fakes.RETENTION, resource, 'line one\n  "findings": [],\n\tcafé ✓ \u2028 end')


@pytest.mark.parametrize(
    "result",
    [
        fakes.full_result(),
        fakes.result(),  # no findings
        fakes.result(suppressed=[fakes.finding_suppressed()]),  # suppressed only
        fakes.result(findings=[_odd_finding(), fakes.finding_low()], diagnostics=[fakes.PARSE_ERROR]),
    ],
    ids=["full", "empty", "suppressed-only", "odd-text"],
)
@pytest.mark.parametrize("writer", [json_report, sarif], ids=["json", "sarif"])
def test_chunks_give_the_bytes_of_the_whole_document(writer, result):
    context = ReportContext(tool_version="1.2.3", fail_on=Severity.INFO, exit_code=1, config_source=None, cwd="/w")
    text = "".join(writer.chunks(result, context))
    assert text == _whole(writer, result, context)
    assert writer.render(result, context) == text
    assert len(list(writer.chunks(result, context))) > 1 or not (result.findings or result.suppressed)


@pytest.mark.parametrize("fmt", ["json", "sarif", "text"])
def test_the_command_writes_the_same_bytes_to_a_file_and_to_stdout(tmp_path, fmt):
    target = "examples/cloudformation/iam-wildcards.yaml"
    out = tmp_path / f"report.{fmt}"
    to_file = subprocess.run(
        [sys.executable, "-m", "kds_iac", "scan", target, "--format", fmt, "-o", str(out), "-q"],
        capture_output=True, text=True, timeout=300,
    )
    to_stdout = subprocess.run(
        [sys.executable, "-m", "kds_iac", "scan", target, "--format", fmt, "-q"],
        capture_output=True, text=True, timeout=300,
    )
    assert to_file.returncode == to_stdout.returncode == 1, to_file.stderr + to_stdout.stderr
    assert out.read_text(encoding="utf-8") == to_stdout.stdout
    if fmt == "text":
        assert "KDS004" in to_stdout.stdout
        return
    document = json.loads(to_stdout.stdout)
    assert document["findings"] if fmt == "json" else document["runs"][0]["results"]
