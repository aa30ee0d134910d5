"""The real ``kds-iac`` executable on the fixtures in ``tests/fixtures/cli`` (see its README).

These need the real loaders and rules; until ``kds_iac.loaders.terraform`` and
``kds_iac.loaders.cloudformation`` exist they are skipped, and they run by themselves once
they land.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import jsonschema
import pytest

from kds_iac.output.text import PROBLEM_PATTERN
from tests.conftest import REPO, tool

FIXTURES = REPO / "tests" / "fixtures" / "cli"
LOADERS = ("terraform", "cloudformation", "terraform_plan")
LOADERS_READY = all(importlib.util.find_spec(f"kds_iac.loaders.{name}") for name in LOADERS)

pytestmark = pytest.mark.skipif(not LOADERS_READY, reason="needs the Terraform and CloudFormation loaders")


def kds_iac(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [tool("kds-iac"), *argv], cwd=FIXTURES, capture_output=True, text=True, timeout=120
    )


def problems(stdout: str) -> set[tuple[str, str]]:
    """(rule id, resource address) of every finding line."""
    found = set()
    for line in stdout.splitlines():
        match = re.match(PROBLEM_PATTERN, line)
        assert match, line
        if match.group(5).startswith("KDS"):
            found.add((match.group(5), re.search(r"\[([^\]]+)\]$", line).group(1)))
    return found


def test_clean_directory_exits_0():
    completed = kds_iac("scan", "clean")
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == ""
    assert completed.stderr.splitlines()[-1].startswith("kds-iac: no findings in 1 file")


def test_findings_exit_1_with_exact_lines():
    completed = kds_iac("scan", "findings")
    assert completed.returncode == 1, completed.stderr
    assert problems(completed.stdout) == {
        ("KDS001", "aws_kinesis_stream.plain"),
        ("KDS002", "aws_kinesis_stream.managed"),
    }
    first = completed.stdout.splitlines()[0]
    assert first.startswith("findings/main.tf:3:1: HIGH KDS001 ")


@pytest.mark.parametrize(
    "flags, code",
    [
        (["--fail-on", "high"], 1),
        (["--fail-on", "critical"], 0),
        (["--skip-rule", "KDS001", "--fail-on", "medium"], 0),
        (["--skip-rule", "CKV_KDS_1", "--skip-rule", "KDS002"], 0),
        (["--soft-fail"], 0),
    ],
)
def test_threshold_skip_and_soft_fail(flags, code):
    assert kds_iac("scan", "findings", *flags).returncode == code


def test_skipped_rule_is_not_reported():
    completed = kds_iac("scan", "findings", "--skip-rule", "KDS001")
    assert problems(completed.stdout) == {("KDS002", "aws_kinesis_stream.managed")}


def test_cloudformation_finding():
    completed = kds_iac("scan", "cfn/stack.yaml")
    assert completed.returncode == 1, completed.stderr
    assert problems(completed.stdout) == {("KDS001", "Orders")}


def test_parse_error_exits_2_and_the_rest_is_still_scanned():
    completed = kds_iac("scan", "broken", "findings", "--soft-fail")
    assert completed.returncode == 2
    lines = completed.stdout.splitlines()
    assert re.match(r"broken/stack\.yaml:\d+:\d+: ERROR parse ", lines[0]), lines
    assert problems("\n".join(lines[1:])) == {
        ("KDS001", "aws_kinesis_stream.plain"),
        ("KDS002", "aws_kinesis_stream.managed"),
    }


def test_missing_path_exits_2():
    completed = kds_iac("scan", "no-such-dir")
    assert completed.returncode == 2
    assert completed.stdout == "no-such-dir:1:1: ERROR parse no such file or directory\n"


def test_suppressed_finding():
    completed = kds_iac("scan", "suppressed", "-f", "json")
    assert completed.returncode == 0, completed.stderr
    document = json.loads(completed.stdout)
    (finding,) = document["findings"]
    assert (finding["rule_id"], finding["resource"], finding["suppressed"]) == (
        "KDS001",
        "aws_kinesis_stream.legacy",
        True,
    )
    assert finding["suppression_reason"] == "encrypted by the producer before it reaches the stream"
    assert document["summary"]["suppressed"] == 1 and document["summary"]["findings"] == 0


def test_json_report():
    completed = kds_iac("scan", "findings", "cfn", "-f", "json")
    document = json.loads(completed.stdout)
    assert document["scope"] == ["findings", "cfn"]
    assert {(f["rule_id"], f["resource"], f["file"]) for f in document["findings"]} == {
        ("KDS001", "aws_kinesis_stream.plain", "findings/main.tf"),
        ("KDS002", "aws_kinesis_stream.managed", "findings/main.tf"),
        ("KDS001", "Orders", "cfn/stack.yaml"),
    }
    assert document["summary"]["exit_code"] == completed.returncode == 1


def test_sarif_report_is_valid():
    completed = kds_iac("scan", "findings", "broken", "-f", "sarif")
    schema = json.loads((REPO / "tests" / "data" / "sarif-2.1.0-schema.json").read_text(encoding="utf-8"))
    document = json.loads(completed.stdout)
    jsonschema.validate(document, schema, cls=jsonschema.Draft4Validator)
    run = document["runs"][0]
    assert {r["ruleId"] for r in run["results"]} == {"KDS001", "KDS002"}
    assert {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]} == {
        "findings/main.tf"
    }
    assert run["invocations"][0]["executionSuccessful"] is False
    assert run["invocations"][0]["toolExecutionNotifications"][0]["level"] == "error"


def test_junit_report_is_valid_xml():
    completed = kds_iac("scan", "findings", "-f", "junitxml")
    root = ET.fromstring(completed.stdout.encode("utf-8"))
    failures = {(case.get("classname"), case.get("name")) for case in root.iter("testcase") if case.find("failure") is not None}
    assert failures == {("KDS001", "aws_kinesis_stream.plain"), ("KDS002", "aws_kinesis_stream.managed")}


def test_real_scan_imports_neither_checkov_nor_cfnlint():
    code = (
        "import sys, json, io, contextlib\n"
        "from kds_iac.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):\n"
        "    rc = main(['scan', '--no-progress', 'findings', 'cfn/stack.yaml'])\n"
        "print(json.dumps({'rc': rc, 'heavy': sorted(m for m in sys.modules if m.split('.')[0] in ('checkov', 'cfnlint'))}))\n"
    )
    completed = subprocess.run([sys.executable, "-c", code], cwd=FIXTURES, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout.splitlines()[-1]) == {"rc": 1, "heavy": []}


ENDS_AFTER_A_HANDLER = """
import atexit, sys
from kds_iac import cli
atexit.register(lambda: sys.stdout.write("exit handler ran"))  # stdout is a pipe: only a flush shows it
sys.argv = ["kds-iac", "scan", "findings", "--format", "json"]
cli.run()
"""


def test_the_command_ends_at_once_with_its_output_whole_and_exit_handlers_run():
    # ``cli.run`` (the command's entry) leaves without freeing what the scan built: the report
    # must still be whole, the exit handlers run, and what they wrote be flushed.
    environment = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # stdout buffered, as usual
    completed = subprocess.run(
        [sys.executable, "-c", ENDS_AFTER_A_HANDLER], cwd=FIXTURES, capture_output=True, text=True, timeout=120,
        env=environment,
    )
    assert completed.returncode == 1, completed.stderr
    report, last = completed.stdout.rsplit("\n", 1)
    assert last == "exit handler ran"
    assert {(f["rule_id"], f["resource"]) for f in json.loads(report)["findings"]} == {
        ("KDS001", "aws_kinesis_stream.plain"),
        ("KDS002", "aws_kinesis_stream.managed"),
    }
