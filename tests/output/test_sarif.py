"""SARIF output: valid against the official SARIF 2.1.0 schema, and the fields code scanning reads."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import jsonschema
import pytest

from kds_iac.model import Diagnostic, Location, Resource
from kds_iac.output.common import ReportContext
from kds_iac.output.sarif import FINGERPRINT_KEY, render
from kds_iac.rules.base import Finding, Severity
from tests.conftest import REPO
from tests.output import fakes

SCHEMA_PATH = REPO / "tests" / "data" / "sarif-2.1.0-schema.json"


# jsonschema checks "uri" only with an optional package; check RFC 3986 characters here.
_URI_CHARS = re.compile(r"^[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*$")
FORMATS = jsonschema.FormatChecker()


@FORMATS.checks("uri-reference")
def _uri_reference(value: object) -> bool:
    return not isinstance(value, str) or bool(_URI_CHARS.match(value))


@FORMATS.checks("uri")
def _uri(value: object) -> bool:
    return not isinstance(value, str) or (bool(_URI_CHARS.match(value)) and bool(urlsplit(value).scheme))


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft4Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert schema["id"].endswith("/sarif-schema-2.1.0.json")
    return jsonschema.Draft4Validator(schema, format_checker=FORMATS)


def test_format_checker_is_active(validator):
    assert list(validator.iter_errors({"version": "2.1.0", "runs": [], "$schema": "not a uri"}))


def log(result=None, tmp: Path | None = None, **overrides) -> dict:
    values = dict(tool_version="1.2.3", fail_on=Severity.INFO, exit_code=2, config_source="pyproject.toml",
                  cwd=str(tmp or "/work/project"))
    values.update(overrides)
    return json.loads(render(result or fakes.full_result(), ReportContext(**values)))


def validate(validator, document) -> None:
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


@pytest.mark.parametrize(
    "result",
    [fakes.full_result(), fakes.result(), fakes.result(findings=[fakes.finding_low()])],
    ids=["full", "empty", "low"],
)
def test_valid_against_official_schema(validator, result):
    validate(validator, log(result))


def test_schema_rejects_a_broken_log(validator):
    # The validator is really checking: a result without a message is not SARIF.
    document = log()
    del document["runs"][0]["results"][0]["message"]
    assert list(validator.iter_errors(document))


def test_driver_rules(validator):
    rules = log()["runs"][0]["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == ["KDS901", "KDS902", "KDS903"]
    first = rules[0]
    assert first["name"] == "StreamNotEncrypted"
    assert first["shortDescription"] == {"text": "Stream is not encrypted"}
    assert first["fullDescription"] == {"text": "Reports a stream that is not encrypted at rest with KMS."}
    assert first["help"]["markdown"] == fakes.DOC.strip()
    assert first["help"]["text"] == fakes.DOC.strip()
    assert first["helpUri"] == "https://github.com/kds-iac/kds-iac/blob/main/docs/rules/KDS901.md"
    assert first["defaultConfiguration"] == {"level": "error"}
    assert first["properties"]["security-severity"] == "8.0"
    assert float(first["properties"]["security-severity"]) == 8.0
    assert first["properties"]["tags"] == ["security", "kinesis", "terraform", "cloudformation"]
    assert first["properties"]["checkov_id"] == "CKV_KDS_901"
    # A rule without a docstring still has help that points at its page.
    assert rules[1]["name"] == "ShortRetention"
    assert "docs/rules/KDS902.md" in rules[1]["help"]["markdown"]
    assert [r["defaultConfiguration"]["level"] for r in rules] == ["error", "warning", "note"]


def test_results():
    run = log()["runs"][0]
    results = run["results"]
    assert [(r["ruleId"], r["ruleIndex"], r["level"]) for r in results] == [
        ("KDS901", 0, "error"),
        ("KDS902", 1, "warning"),
        ("KDS901", 0, "error"),
    ]
    high = results[0]
    assert high["message"] == {"text": "stream stores records unencrypted"}
    location = high["locations"][0]
    assert location["physicalLocation"] == {
        "artifactLocation": {"uri": "infra/main.tf", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 12, "startColumn": 1, "endLine": 12},
        "contextRegion": {"startLine": 10, "endLine": 18},
    }
    assert location["logicalLocations"] == [
        {"name": "aws_kinesis_stream.events", "fullyQualifiedName": "aws_kinesis_stream.events", "kind": "resource"}
    ]
    assert high["relatedLocations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "infra/kms.tf"
    assert "suppressions" not in high
    # A block-level finding covers the block.
    assert results[1]["locations"][0]["physicalLocation"]["region"] == {"startLine": 4, "startColumn": 3, "endLine": 12}
    assert results[1]["properties"]["constructPath"] == "App/Stream/Resource"
    assert run["originalUriBaseIds"] == {"%SRCROOT%": {"uri": "file:///work/project/"}}


def test_suppressed_finding_has_a_suppression():
    suppressed = log()["runs"][0]["results"][2]
    assert suppressed["suppressions"] == [
        {"kind": "inSource", "status": "accepted", "justification": "encrypted by the producer"}
    ]


def test_fingerprint_ignores_lines_but_not_identity():
    def fingerprint(finding: Finding) -> str:
        return log(fakes.result(findings=[finding]))["runs"][0]["results"][0]["partialFingerprints"][FINGERPRINT_KEY]

    base = fakes.finding_high()
    moved_resource = fakes.tf_stream()
    moved_resource.location = Location("infra/main.tf", 40, 48)
    moved = Finding(base.rule, moved_resource, "a reworded message", line=42)
    assert fingerprint(base) == fingerprint(moved)
    other_rule = Finding(fakes.RETENTION, fakes.tf_stream(), base.message, line=12)
    other_file = fakes.tf_stream()
    other_file.location = Location("infra/other.tf", 10, 18)
    other_address = fakes.tf_stream()
    other_address.address = "aws_kinesis_stream.clicks"
    assert len({
        fingerprint(base),
        fingerprint(other_rule),
        fingerprint(Finding(base.rule, other_file, base.message)),
        fingerprint(Finding(base.rule, other_address, base.message)),
    }) == 4


def test_parse_errors_are_tool_execution_notifications():
    invocation = log()["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is False
    assert invocation["exitCode"] == 2
    assert invocation["toolExecutionNotifications"] == [
        {
            "level": "error",
            "message": {"text": "mapping values are not allowed here"},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": "stacks/broken.yaml", "uriBaseId": "%SRCROOT%"},
                "region": {"startLine": 7, "startColumn": 3},
            }}],
            "descriptor": {"id": "input-error"},
            "properties": {"code": "parse"},
        },
        {
            "level": "note",
            "message": {"text": 'module "remote" not loaded: registry modules are not fetched'},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": "infra/main.tf", "uriBaseId": "%SRCROOT%"},
                "region": {"startLine": 3, "startColumn": 1},
            }}],
            "descriptor": {"id": "input-note"},
            "properties": {"code": "not-checked"},
        },
    ]
    clean = log(fakes.result(), exit_code=0)["runs"][0]["invocations"][0]
    assert clean["executionSuccessful"] is True and clean["toolExecutionNotifications"] == []


def test_run_properties_carry_scope():
    assert log()["runs"][0]["properties"] == {
        "scope": ["infra", "stacks"],
        "configFile": "pyproject.toml",
        "audit": "trails aws_cloudtrail.audit",
    }


def test_file_outside_working_directory_and_odd_names(validator, tmp_path):
    outside = Resource("aws_kinesis_stream", "aws_kinesis_stream.x", {}, Location("/elsewhere/my dir/main.tf", 1, 3),
                       "terraform")
    inside = Resource("aws_kinesis_stream", "aws_kinesis_stream.y", {},
                      Location(str(tmp_path / "sub dir" / "a#b.tf"), 1, 3), "terraform")
    missing = Diagnostic("error", "nope", 0, "no such file or directory")
    result = fakes.result(findings=[Finding(fakes.UNENCRYPTED, outside, "m"), Finding(fakes.UNENCRYPTED, inside, "m")],
                          diagnostics=[missing])
    document = log(result, tmp=tmp_path)
    validate(validator, document)
    uris = [r["locations"][0]["physicalLocation"]["artifactLocation"] for r in document["runs"][0]["results"]]
    assert uris[0] == {"uri": "file:///elsewhere/my%20dir/main.tf"}
    assert uris[1] == {"uri": "sub%20dir/a%23b.tf", "uriBaseId": "%SRCROOT%"}
    # Line 0 ("the whole file") gives a location without a region.
    note = document["runs"][0]["invocations"][0]["toolExecutionNotifications"][0]
    assert "region" not in note["locations"][0]["physicalLocation"]
