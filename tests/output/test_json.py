"""JSON output: the documented schema, key for key, on a fixed result."""

from __future__ import annotations

import json

from kds_iac.output.common import ReportContext
from kds_iac.output.json import render
from kds_iac.rules.base import Severity
from tests.output import fakes

FINDING_KEYS = [
    "rule_id", "checkov_id", "severity", "title", "file", "start_line", "end_line", "line",
    "resource", "resource_type", "message", "construct_path", "generated_from", "suppressed",
    "suppression_reason", "help_uri", "related", "instances", "fix",
]


def document(result=None, **overrides) -> dict:
    values = dict(tool_version="1.2.3", fail_on=Severity.INFO, exit_code=2, config_source="pyproject.toml")
    values.update(overrides)
    return json.loads(render(result or fakes.full_result(), ReportContext(**values)))


def test_top_level_keys_in_order():
    assert list(document()) == ["version", "tool", "scope", "config", "audit", "rules", "findings", "diagnostics", "summary"]
    doc = document()
    assert doc["version"] == 1
    assert doc["tool"] == {"name": "kds-iac", "version": "1.2.3"}
    assert doc["scope"] == ["infra", "stacks"]
    assert doc["config"] == "pyproject.toml"
    assert doc["audit"] == "trails aws_cloudtrail.audit"


def test_rules():
    assert document()["rules"] == [
        {"id": "KDS901", "checkov_id": "CKV_KDS_901", "severity": "high", "title": "Stream is not encrypted",
         "help_uri": "https://github.com/kds-iac/kds-iac/blob/main/docs/rules/KDS901.md"},
        {"id": "KDS902", "checkov_id": "CKV_KDS_902", "severity": "medium",
         "title": "Stream keeps records for 24 hours only",
         "help_uri": "https://github.com/kds-iac/kds-iac/blob/main/docs/rules/KDS902.md"},
        {"id": "KDS903", "checkov_id": "CKV_KDS_903", "severity": "low", "title": "Stream uses the AWS managed key",
         "help_uri": "https://github.com/kds-iac/kds-iac/blob/main/docs/rules/KDS903.md"},
    ]


def test_findings_exact():
    findings = document()["findings"]
    assert [list(f) for f in findings] == [FINDING_KEYS] * 3
    assert findings[0] == {
        "rule_id": "KDS901",
        "checkov_id": "CKV_KDS_901",
        "severity": "high",
        "title": "Stream is not encrypted",
        "file": "infra/main.tf",
        "start_line": 10,
        "end_line": 18,
        "line": 12,
        "resource": "aws_kinesis_stream.events",
        "resource_type": "aws_kinesis_stream",
        "message": "stream stores records unencrypted",
        "construct_path": None,
        "generated_from": None,
        "suppressed": False,
        "suppression_reason": None,
        "help_uri": "https://github.com/kds-iac/kds-iac/blob/main/docs/rules/KDS901.md",
        "related": [
            {"resource": "aws_kms_key.streams", "resource_type": "aws_kms_key", "file": "infra/kms.tf",
             "start_line": 1, "end_line": 5}
        ],
        "instances": [],
        "fix": None,
    }
    medium, suppressed = findings[1], findings[2]
    assert (medium["rule_id"], medium["resource"], medium["line"], medium["construct_path"]) == (
        "KDS902", "Stream", 4, "App/Stream/Resource")
    assert medium["suppressed"] is False
    assert (suppressed["rule_id"], suppressed["resource"], suppressed["file"], suppressed["line"]) == (
        "KDS901", "LegacyStream", "stacks/app.yaml", 14)
    assert suppressed["suppressed"] is True
    assert suppressed["suppression_reason"] == "encrypted by the producer"


def test_diagnostics_exact():
    assert document()["diagnostics"] == [
        {"level": "error", "file": "stacks/broken.yaml", "line": 7, "column": 3,
         "message": "mapping values are not allowed here", "whole_file": False, "code": "parse"},
        {"level": "info", "file": "infra/main.tf", "line": 3, "column": 1,
         "message": 'module "remote" not loaded: registry modules are not fetched', "whole_file": False,
         "code": "not-checked"},
    ]


def test_summary_exact():
    assert document()["summary"] == {
        "findings": 2,
        "by_severity": {"critical": 0, "high": 1, "medium": 1, "low": 0, "info": 0},
        "suppressed": 1,
        "failing": 2,
        "errors": 1,
        "notes": 1,
        "files_scanned": 4,
        "rules_run": 3,
        "fail_on": "info",
        "soft_fail": False,
        "exit_code": 2,
    }
    assert document(fail_on=Severity.HIGH)["summary"]["failing"] == 1


def test_empty_result():
    doc = document(fakes.result(), exit_code=0, config_source=None)
    assert doc["findings"] == [] and doc["diagnostics"] == [] and doc["config"] is None
    assert doc["summary"]["findings"] == 0 and doc["summary"]["exit_code"] == 0


def test_output_is_stable():
    context = ReportContext(tool_version="1.2.3")
    assert render(fakes.full_result(), context) == render(fakes.full_result(), context)
