"""The engine end to end: what a scan of named files and directories reports."""

from __future__ import annotations

import os

from kds_iac.engine import scan
from tests.conftest import audited_config


def _write_module(root):
    (root / "variables.tf").write_text('variable "encryption" {\n  default = "NONE"\n}\n')
    (root / "main.tf").write_text(
        'resource "aws_kinesis_stream" "main" {\n'
        '  name            = "main"\n'
        "  shard_count     = 1\n"
        "  encryption_type = var.encryption\n"
        "}\n"
    )
    (root / "other.tf").write_text('resource "aws_kinesis_stream" "other" {\n  name = "other"\n}\n')


def test_a_named_terraform_file_is_evaluated_with_its_module_but_only_it_is_reported(tmp_path):
    _write_module(tmp_path)
    result = scan([str(tmp_path / "main.tf")], config=audited_config())
    assert {(f.rule.id, f.address) for f in result.findings} == {("KDS001", "aws_kinesis_stream.main")}
    (finding,) = result.findings
    assert 'var.encryption (default: "NONE")' in finding.message  # declared in a sibling file
    assert finding.location.file == str(tmp_path / "main.tf")
    assert finding.primary_line == 4


def test_a_directory_reports_every_file_of_the_module(tmp_path):
    _write_module(tmp_path)
    result = scan([str(tmp_path)], config=audited_config())
    assert {(f.rule.id, f.address) for f in result.findings} == {
        ("KDS001", "aws_kinesis_stream.main"),
        ("KDS001", "aws_kinesis_stream.other"),
    }


def test_skip_rules_from_the_config_drop_a_rule(tmp_path):
    from kds_iac.config import Config

    _write_module(tmp_path)
    assert scan([str(tmp_path)], config=Config(skip_rules={"CKV_KDS_1"}, audit=audited_config().audit)).findings == []


def test_a_named_file_does_not_hide_the_findings_of_a_named_directory(tmp_path):
    module = tmp_path / "module"
    module.mkdir()
    _write_module(module)
    template = tmp_path / "stack.yaml"
    template.write_text("Resources:\n  Plain:\n    Type: AWS::Kinesis::Stream\n    Properties:\n      ShardCount: 1\n")
    result = scan([str(module), os.path.relpath(template)], config=audited_config())  # absolute and relative together
    assert {(f.rule.id, f.address) for f in result.findings} == {
        ("KDS001", "aws_kinesis_stream.main"),
        ("KDS001", "aws_kinesis_stream.other"),
        ("KDS001", "Plain"),
    }


def test_rules_judge_a_terraform_plan_like_the_configuration():
    """Plan JSON: values unknown in HCL are known, and the key is reached through its Ref."""
    from tests.conftest import REPO

    plan = REPO / "tests" / "fixtures" / "terraform_plan" / "kms_stream.json"
    result = scan([str(plan)], config=audited_config())
    assert {(f.rule.id, f.address) for f in result.findings} == {
        ("KDS001", "aws_kinesis_stream.plain"),
        ("KDS002", "aws_kinesis_stream.managed"),
        ("KDS003", "aws_kms_key.stream"),
    }
    assert result.diagnostics == []
