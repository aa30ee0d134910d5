"""SARIF ``fixes`` on results: safe fixes only, regions counted as the run's ``columnKind``
says (code points), valid against the SARIF 2.1.0 schema, and the same change ``--fix`` makes."""

from __future__ import annotations

import json
import shutil
import subprocess

from kds_iac.fixes import Fix, SetSetting, TextEdit
from kds_iac.output.common import ReportContext
from kds_iac.output.sarif import render
from kds_iac.rules.base import Finding, Severity
from tests.conftest import EXAMPLES, declare_organization_trail, tool
from tests.output import fakes
from tests.output.test_sarif import validate, validator  # noqa: F401 - the schema fixture


def _with_fix(finding: Finding, safety: str) -> Finding:
    finding.fix = Fix("Encrypt the stream with KMS", safety, (SetSetting(finding.resource, "encryption_type", "KMS"),))
    return finding


def test_safe_fix_becomes_sarif_fixes(validator):  # noqa: F811
    safe = _with_fix(fakes.finding_high(), "safe")
    risky = _with_fix(fakes.finding_low(), "unsafe")
    hidden = _with_fix(fakes.finding_suppressed(), "safe")
    edits = [
        TextEdit("infra/main.tf", 12, 22, 12, 28, '"KMS"'),
        TextEdit("infra/main.tf", 13, 1, 13, 1, "  kms_key_id      = aws_kms_key.streams.arn\n"),
        TextEdit("infra/kms.tf", 2, 3, 2, 3, "enable_key_rotation = true\n  "),
    ]
    context = ReportContext(
        tool_version="1.2.3", fail_on=Severity.INFO, cwd="/work/project",
        fixes={id(safe): edits, id(risky): [TextEdit("infra/main.tf", 1, 1, 1, 1, "#")], id(hidden): edits},
    )
    result = fakes.result(findings=[safe, risky], suppressed=[hidden])
    document = json.loads(render(result, context))
    validate(validator, document)
    results = {(r["ruleId"], r["properties"]["resource"], "suppressions" in r): r for r in document["runs"][0]["results"]}
    assert results[("KDS901", "aws_kinesis_stream.events", False)]["fixes"] == [
        {
            "description": {"text": "Encrypt the stream with KMS"},
            "artifactChanges": [
                {
                    "artifactLocation": {"uri": "infra/main.tf", "uriBaseId": "%SRCROOT%"},
                    "replacements": [
                        {
                            "deletedRegion": {"startLine": 12, "startColumn": 22, "endLine": 12, "endColumn": 28},
                            "insertedContent": {"text": '"KMS"'},
                        },
                        {
                            "deletedRegion": {"startLine": 13, "startColumn": 1, "endLine": 13, "endColumn": 1},
                            "insertedContent": {"text": "  kms_key_id      = aws_kms_key.streams.arn\n"},
                        },
                    ],
                },
                {
                    "artifactLocation": {"uri": "infra/kms.tf", "uriBaseId": "%SRCROOT%"},
                    "replacements": [
                        {
                            "deletedRegion": {"startLine": 2, "startColumn": 3, "endLine": 2, "endColumn": 3},
                            "insertedContent": {"text": "enable_key_rotation = true\n  "},
                        }
                    ],
                },
            ],
        }
    ]
    assert document["runs"][0]["columnKind"] == "unicodeCodePoints"
    assert "fixes" not in results[("KDS903", "aws_kinesis_stream.events", False)]  # unsafe: left out
    assert "fixes" not in results[("KDS901", "LegacyStream", True)]  # suppressed: nothing to fix


def test_no_fixes_without_edits(validator):  # noqa: F811
    finding = _with_fix(fakes.finding_high(), "safe")  # a fix the writers could not write
    document = json.loads(render(fakes.result(findings=[finding]), ReportContext(cwd="/work/project", fixes={})))
    validate(validator, document)
    assert "fixes" not in document["runs"][0]["results"][0]


def _apply_sarif(text: str, replacements: list[dict]) -> str:
    """Apply SARIF replacements (1-based lines, code point columns, end exclusive), last first."""
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    spans = []
    for replacement in replacements:
        region = replacement["deletedRegion"]
        start = starts[region["startLine"] - 1] + region["startColumn"] - 1
        end = starts[region["endLine"] - 1] + region["endColumn"] - 1
        spans.append((start, end, replacement["insertedContent"]["text"]))
    for start, end, inserted in sorted(spans, reverse=True):
        text = text[:start] + inserted + text[end:]
    return text


def test_sarif_fix_makes_the_change_fix_makes(tmp_path, validator):  # noqa: F811
    declare_organization_trail(tmp_path)
    for name in ("sarif", "fixed"):
        (tmp_path / name).mkdir()
        shutil.copytree(EXAMPLES / "terraform" / "cloudtrail-defects", tmp_path / name / "trails")
    completed = subprocess.run(
        [tool("kds-iac"), "scan", "--no-progress", "trails", "--format", "sarif"],
        cwd=tmp_path / "sarif", capture_output=True, text=True, timeout=300,
    )
    assert completed.returncode == 1, completed.stderr
    document = json.loads(completed.stdout)
    validate(validator, document)
    fixes = [(r["properties"]["resource"], r["fixes"]) for r in document["runs"][0]["results"] if "fixes" in r]
    assert [resource for resource, _ in fixes] == [
        "aws_cloudtrail.logging_off", "aws_cloudtrail.single_region", "aws_cloudtrail.no_validation",
        "aws_cloudtrail.management_excluded", "aws_cloudtrail.read_only",
    ]
    assert fixes[0][1] == [
        {
            "description": {"text": "Turn on logging of aws_cloudtrail.logging_off"},
            "artifactChanges": [
                {
                    "artifactLocation": {"uri": "trails/main.tf", "uriBaseId": "%SRCROOT%"},
                    "replacements": [
                        {
                            "deletedRegion": {"startLine": 16, "startColumn": 32, "endLine": 16, "endColumn": 37},
                            "insertedContent": {"text": "true"},
                        }
                    ],
                }
            ],
        }
    ]
    text = (tmp_path / "sarif" / "trails" / "main.tf").read_text()
    replacements = [r for _, fix in fixes for change in fix[0]["artifactChanges"] for r in change["replacements"]]
    fixed = subprocess.run(
        [tool("kds-iac"), "scan", "--no-progress", "trails", "--fix"],
        cwd=tmp_path / "fixed", capture_output=True, text=True, timeout=300,
    )
    assert fixed.returncode == 1, fixed.stderr
    assert _apply_sarif(text, replacements) == (tmp_path / "fixed" / "trails" / "main.tf").read_text() != text
