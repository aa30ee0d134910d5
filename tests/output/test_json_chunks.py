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
from kds_iac.output import jsonlayout, sarif
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


@pytest.mark.parametrize("kept", [1, 2, 1024])
def test_records_with_fixes_instances_and_shared_resources_are_the_bytes_of_the_whole_document(monkeypatch, kept):
    """``json.chunks`` and ``sarif.chunks`` write each record from pieces they make once per rule
    and per resource (and keep ``KEPT`` of): the same resource in two findings, instances, a
    generated resource, fix edits (a safe and an unsafe fix, one without edits) and values that
    are not text must still be ``json.dumps``'."""
    monkeypatch.setattr(jsonlayout, "KEPT", kept)
    from kds_iac.fixes import Fix, SetSetting, TextEdit

    stream = fakes.tf_stream()
    generated = Resource("AWS::IAM::Role", "FunctionRole", {}, Location("stacks/sam.yaml", 0, 0), "cloudformation",
                         generated_from="Function")
    first = Finding(fakes.UNENCRYPTED, stream, "stream stores records unencrypted", line=12, related=(fakes.tf_key(),))
    first.instances = ("module.a.aws_kinesis_stream.events", "module.b.aws_kinesis_stream.events")
    first.fix = Fix("Encrypt the stream", "safe", (SetSetting(stream, "encryption_type", "KMS"),))
    second = Finding(fakes.MANAGED_KEY, stream, "uses alias/aws/kinesis", line=13)
    second.fix = Fix("Use a new key", "unsafe", (SetSetting(stream, "kms_key_id", "x"),))
    third = Finding(fakes.RETENTION, generated, "retention is 24 hours", related=(stream, generated))
    third.fix = Fix("Keep records longer", "safe", (SetSetting(generated, "RetentionPeriodHours", 48),))
    fourth = Finding(fakes.UNENCRYPTED, fakes.cfn_stream(), "stream stores records unencrypted")
    fourth.line = 5.0  # no rule gives a float, but the writer must lay out whatever a record holds
    fifth = Finding(fakes.RETENTION, stream, "retention is 24 hours", line=12)  # first's resource and line
    edits = [TextEdit("infra/main.tf", 12, 22, 12, 28, '"KMS"'), TextEdit("infra/main.tf", 13, 1, 13, 1, "  kms_key_id = \"ü\"\n")]
    result = fakes.result(
        findings=[first, second, third, fourth, fifth],
        suppressed=[fakes.finding_suppressed(), Finding(fakes.RETENTION, fakes.cfn_skipped_stream(), "short")],
    )
    context = ReportContext(tool_version="1.2.3", exit_code=1, cwd="/w", fixes={id(first): edits, id(second): edits[:1]})
    for writer in (json_report, sarif):
        assert "".join(writer.chunks(result, context)) == _whole(writer, result, context)


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
