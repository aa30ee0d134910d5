"""Paper cuts a new user hit (issue 17), each tried as the user tried it: the real ``kds-iac``
executable on a scratch repository, with the exact findings, diagnostics and messages.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

from kds_iac.config import KNOWN_KEYS
from tests.conftest import declare_organization_trail, tool

TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Plain:
    Type: AWS::Kinesis::Stream
    Properties:
      ShardCount: 1
"""
TEMPLATE_JSON = '{"Resources": {"Plain": {"Type": "AWS::Kinesis::Stream", "Properties": {"ShardCount": 1}}}}\n'
TERRAFORM = 'resource "aws_kinesis_stream" "plain" {\n  name        = "plain"\n  shard_count = 1\n}\n'

# What a saved console report of checkov looks like: it quotes the template, line numbers first.
CHECKOV_LOG = """\
cloudformation scan results:

Passed checks: 0, Failed checks: 1, Skipped checks: 0

Check: CKV_KDS_1: "Kinesis stream is not encrypted at rest with KMS"
\tFAILED for resource: AWS::Kinesis::Stream.Plain
\tFile: /cfn/app.yaml:3-6

\t\t3 |   Plain:
\t\t4 |     Type: AWS::Kinesis::Stream
\t\t5 |     Properties:
\t\t6 |       ShardCount: 1
"""
CHECKOV_JSON = json.dumps(
    {
        "check_type": "cloudformation",
        "results": {
            "failed_checks": [
                {"check_id": "CKV_KDS_1", "resource": "AWS::Kinesis::Stream.Plain",
                 "code_block": [[2, "Resources:\n"], [3, "  Plain:\n"], [4, "    Type: AWS::Kinesis::Stream\n"]]}
            ]
        },
    },
    indent=2,
)


def kds(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([tool("kds-iac"), *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def report(*args: str, cwd: Path) -> tuple[int, dict, str]:
    done = kds("scan", *args, "--format", "json", "--no-progress", cwd=cwd)
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, json.loads(done.stdout), done.stderr


def findings(document: dict) -> set[tuple[str, str, str]]:
    return {(f["rule_id"], f["file"], f["resource"]) for f in document["findings"] if not f["suppressed"]}


def diagnostics(document: dict) -> set[tuple]:
    return {(d["level"], d["file"], d["line"], d["column"], d["whole_file"]) for d in document["diagnostics"]}


def test_logs_and_notes_that_quote_a_template_are_passed_over_in_a_directory(tmp_path):
    declare_organization_trail(tmp_path)
    (tmp_path / "cfn").mkdir()
    (tmp_path / "cfn" / "app.yaml").write_text(TEMPLATE)
    (tmp_path / "checkov-output.txt").write_text(CHECKOV_LOG)
    (tmp_path / "checkov-results.json").write_text(CHECKOV_JSON)
    (tmp_path / "inventory.yaml").write_text("streams:\n  - Type: AWS::Kinesis::Stream\n    count: 3\n")
    (tmp_path / "NOTES").write_text("We use `Type: AWS::Kinesis::Stream` with\nResources: listed in the wiki.\n")
    (tmp_path / "policy.json.tpl").write_text('{"Statement": [{"Effect": "Allow", "Action": "kinesis:Get*"}]}\n')
    with open(tmp_path / "build.txt", "w") as handle:  # over the size limit, and no template
        handle.write("Type: AWS::Kinesis::Stream\n" * 420_000)
    code, document, stderr = report(".", cwd=tmp_path)
    assert diagnostics(document) == set()
    assert findings(document) == {("KDS001", "cfn/app.yaml", "Plain")}
    assert code == 1, stderr
    assert document["summary"]["files_scanned"] == 1


def test_the_same_log_named_on_the_command_line_is_an_error(tmp_path):
    """A file the user names is read as what they say it is; it is not a template."""
    (tmp_path / "checkov-output.txt").write_text(CHECKOV_LOG)
    code, document, _ = report("checkov-output.txt", cwd=tmp_path)
    assert {(d["level"], d["file"], d["line"], d["message"]) for d in document["diagnostics"]} == {
        ("error", "checkov-output.txt", 3, "YAML syntax error: mapping values are not allowed in this context")
    }
    assert code == 2


def test_pre_commit_passing_a_saved_report_with_the_changed_files_skips_it(tmp_path):
    """The CloudFormation hook passes every changed .json/.yaml with --ignore-unrecognized."""
    declare_organization_trail(tmp_path)
    (tmp_path / "app.yaml").write_text(TEMPLATE)
    (tmp_path / "checkov-results.json").write_text(CHECKOV_JSON)
    (tmp_path / "inventory.yaml").write_text("streams:\n  - Type: AWS::Kinesis::Stream\n    count: 3\n")
    code, document, _ = report("--ignore-unrecognized", "checkov-results.json", "inventory.yaml", "app.yaml", cwd=tmp_path)
    assert diagnostics(document) == set()
    assert findings(document) == {("KDS001", "app.yaml", "Plain")}
    assert document["scope"] == ["app.yaml"]
    assert code == 1


def test_templates_under_every_usual_name_are_found_in_a_directory_as_when_named(tmp_path):
    declare_organization_trail(tmp_path)
    names = ["stack.template", "stack.tpl", "stack.cfn", "stack", "stack.yml", "stack.txt"]
    for name in names:
        (tmp_path / name).write_text(TEMPLATE)
    others = ["App.template.json", "utf16.tpl", "flow.yaml", "flow-resources.yaml"]
    (tmp_path / "App.template.json").write_text(TEMPLATE_JSON)
    (tmp_path / "utf16.tpl").write_bytes(TEMPLATE.encode("utf-16"))  # with a byte-order mark
    (tmp_path / "flow.yaml").write_text(  # YAML flow style, as yaml.dump writes long templates
        "{AWSTemplateFormatVersion: '2010-09-09', Resources: {Plain: {Type: 'AWS::Kinesis::Stream',\n"
        "      Properties: {ShardCount: 1}}}}\n"
    )
    (tmp_path / "flow-resources.yaml").write_text("{Resources: {Plain: {Type: AWS::Kinesis::Stream}}}\n")
    expected = {("KDS001", name, "Plain") for name in [*names, *others]}
    code, document, _ = report(".", cwd=tmp_path)
    assert findings(document) == expected and diagnostics(document) == set()
    assert code == 1
    code, named, _ = report(*names, *others, cwd=tmp_path)
    assert findings(named) == expected and diagnostics(named) == set()


def test_a_file_that_claims_to_be_a_template_and_cannot_be_read_is_an_error(tmp_path):
    declare_organization_trail(tmp_path)
    (tmp_path / "good.tpl").write_text(TEMPLATE)
    (tmp_path / "broken.tpl").write_text('AWSTemplateFormatVersion: "2010-09-09"\nResources: [\n')
    (tmp_path / "broken").write_text('{"Resources": {"S": {"Type": "AWS::Kinesis::Stream",,}}}\n')
    code, document, _ = report(".", cwd=tmp_path)
    assert diagnostics(document) == {("error", "broken.tpl", 3, 1, False), ("error", "broken", 1, 53, False)}
    assert findings(document) == {("KDS001", "good.tpl", "Plain")}
    assert code == 2


def _two_formats(root: Path) -> None:
    declare_organization_trail(root)
    (root / "cfn").mkdir()
    (root / "cfn" / "app.yaml").write_text(TEMPLATE)
    (root / "tf").mkdir()
    (root / "tf" / "main.tf").write_text(TERRAFORM)


def test_one_path_style_for_every_format_and_output(tmp_path):
    _two_formats(tmp_path)
    expected = {("KDS001", "cfn/app.yaml", "Plain"), ("KDS001", "tf/main.tf", "aws_kinesis_stream.plain")}
    for scope in (".", "./", "./cfn/../"):
        code, document, _ = report(scope, cwd=tmp_path)
        assert findings(document) == expected, scope
        assert code == 1
    text = kds("scan", ".", "--no-progress", cwd=tmp_path)
    assert {line.split(":")[0] for line in text.stdout.splitlines()} == {"cfn/app.yaml", "tf/main.tf"}
    kds("scan", ".", "-q", "--format", "junitxml", "--output", "r.xml", cwd=tmp_path)
    cases = ET.parse(tmp_path / "r.xml").getroot().iter("testcase")
    assert {case.get("file") for case in cases if case.find("failure") is not None} == {"cfn/app.yaml", "tf/main.tf"}
    kds("scan", ".", "-q", "--format", "sarif", "--output", "r.sarif", cwd=tmp_path)
    results = json.loads((tmp_path / "r.sarif").read_text())["runs"][0]["results"]
    assert {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results} == {
        "cfn/app.yaml", "tf/main.tf"
    }
    kds("scan", ".", "-q", "--create-baseline", cwd=tmp_path)
    entries = json.loads((tmp_path / ".kds-iac.baseline").read_text())["findings"]
    assert {e["file"] for e in entries} == {"cfn/app.yaml", "tf/main.tf"}


def test_stale_baseline_entries_are_named(tmp_path):
    _two_formats(tmp_path)
    (tmp_path / "cfn" / "other.yaml").write_text(TEMPLATE)
    assert kds("scan", ".", "-q", "--create-baseline", cwd=tmp_path).returncode == 0
    (tmp_path / "cfn" / "app.yaml").write_text(TEMPLATE.replace("Plain", "Renamed"))  # Plain is gone
    (tmp_path / "tf" / "main.tf").write_text(
        TERRAFORM.replace("shard_count = 1", 'shard_count = 1\n  encryption_type = "KMS"\n  kms_key_id = "alias/x"')
    )
    done = kds("scan", ".", "--no-progress", "--baseline", ".kds-iac.baseline", cwd=tmp_path)
    assert done.returncode == 1  # Renamed is new
    assert re.findall(r"^cfn/\S+", done.stdout, re.MULTILINE) == ["cfn/app.yaml:3:3:"]
    note = done.stderr[done.stderr.index("kds-iac: baseline"):]
    assert note == (
        "kds-iac: baseline .kds-iac.baseline: 1 known finding left out; 2 entries no longer found "
        "(fixed, renamed or moved?), re-create the baseline to drop them:\n"
        "  cfn/app.yaml: KDS001 [Plain]\n"
        "  tf/main.tf: KDS001 [aws_kinesis_stream.plain]\n"
    )


def test_scan_help_lists_every_settings_key():
    done = subprocess.run([tool("kds-iac"), "scan", "--help"], capture_output=True, text=True, timeout=60)
    settings = done.stdout[done.stdout.index("settings:"): done.stdout.index("baseline:")]
    listed = set(re.findall(r"^    ([a-z-]+) ", settings, re.MULTILINE))
    assert listed == set(KNOWN_KEYS)


def test_a_whole_file_problem_is_line_1_column_1_in_every_format(tmp_path):
    (tmp_path / "good.yaml").write_text(TEMPLATE)
    os.mkfifo(tmp_path / "pipe.yaml")
    code, document, _ = report("good.yaml", "missing", cwd=tmp_path)
    assert diagnostics(document) == {("error", "missing", 1, 1, True)}
    text = kds("scan", "good.yaml", "missing", "--no-progress", cwd=tmp_path)
    assert text.stdout.splitlines()[0] == "missing:1:1: ERROR parse no such file or directory"
    kds("scan", "good.yaml", "missing", "-q", "--format", "junitxml", "--output", "r.xml", cwd=tmp_path)
    errors = [case for case in ET.parse(tmp_path / "r.xml").getroot().iter("testcase") if case.find("error") is not None]
    assert [(case.get("file"), case.get("line")) for case in errors] == [("missing", "1")]
    _, with_fifo, _ = report(".", cwd=tmp_path)
    assert ("info", "pipe.yaml", 1, 1, True) in diagnostics(with_fifo)
    assert code == 2
