"""Hand-made scan results for output and CLI tests: no loader, no real rule involved."""

from __future__ import annotations

from typing import Iterator

from kds_iac.engine import ScanResult
from kds_iac.model import Diagnostic, DiagnosticCode, Location, Model, Resource
from kds_iac.rules.base import Finding, Rule, RuleModule, Severity

DOC = """Kinesis stream stores records unencrypted.

## What it does
Reports a stream that is not encrypted
at rest with KMS.

## Why is this bad?
Records are stored in plain text.

## Remediation
Set `encryption_type = "KMS"`.

## References
- https://docs.aws.amazon.com/streams/latest/dev/server-side-encryption.html
"""

STREAM_TYPES = ("aws_kinesis_stream", "AWS::Kinesis::Stream")

UNENCRYPTED = Rule("KDS901", "CKV_KDS_901", Severity.HIGH, "Stream is not encrypted", STREAM_TYPES, "ENCRYPTION")
RETENTION = Rule("KDS902", "CKV_KDS_902", Severity.MEDIUM, "Stream keeps records for 24 hours only", STREAM_TYPES, "ENCRYPTION")
MANAGED_KEY = Rule("KDS903", "CKV_KDS_903", Severity.LOW, "Stream uses the AWS managed key", STREAM_TYPES, "ENCRYPTION")


def _no_check(model: Model) -> Iterator[Finding]:
    return iter(())


def module(rule: Rule, doc: str = "", name: str = "") -> RuleModule:
    return RuleModule(rule=rule, doc=doc, examples={}, check=_no_check, module_name=f"tests.fake.{name or rule.id.lower()}")


MODULES = [
    module(UNENCRYPTED, DOC, "kds901_stream_not_encrypted"),
    module(RETENTION, "", "kds902_short_retention"),
    module(MANAGED_KEY, "", "kds903_managed_key"),
]


def tf_stream() -> Resource:
    return Resource(
        type="aws_kinesis_stream",
        address="aws_kinesis_stream.events",
        attributes={"name": "events"},
        location=Location("infra/main.tf", 10, 18),
        source_format="terraform",
        attribute_lines={"encryption_type": 12},
    )


def tf_key() -> Resource:
    return Resource(
        type="aws_kms_key",
        address="aws_kms_key.streams",
        attributes={},
        location=Location("infra/kms.tf", 1, 5),
        source_format="terraform",
    )


def cfn_stream() -> Resource:
    return Resource(
        type="AWS::Kinesis::Stream",
        address="Stream",
        attributes={},
        location=Location("stacks/app.yaml", 4, 12, column=3),
        source_format="cloudformation",
        construct_path="App/Stream/Resource",
    )


def cfn_skipped_stream() -> Resource:
    return Resource(
        type="AWS::Kinesis::Stream",
        address="LegacyStream",
        attributes={},
        location=Location("stacks/app.yaml", 14, 20, column=3),
        source_format="cloudformation",
        skips={"CKV_KDS_901": "encrypted by the producer"},
    )


def finding_high() -> Finding:
    return Finding(UNENCRYPTED, tf_stream(), "stream stores records unencrypted", line=12, related=(tf_key(),))


def finding_medium() -> Finding:
    return Finding(RETENTION, cfn_stream(), "retention is 24 hours")


def finding_low() -> Finding:
    return Finding(MANAGED_KEY, tf_stream(), "uses alias/aws/kinesis", line=13)


def finding_suppressed() -> Finding:
    return Finding(UNENCRYPTED, cfn_skipped_stream(), "stream stores records unencrypted")


PARSE_ERROR = Diagnostic("error", "stacks/broken.yaml", 7, "mapping values are not allowed here", column=3,
                         code=DiagnosticCode.PARSE)
NOTE = Diagnostic("info", "infra/main.tf", 3, 'module "remote" not loaded: registry modules are not fetched',
                  code=DiagnosticCode.NOT_CHECKED)


def result(
    findings: list[Finding] | None = None,
    suppressed: list[Finding] | None = None,
    diagnostics: list[Diagnostic] | None = None,
) -> ScanResult:
    return ScanResult(
        findings=list(findings or []),
        suppressed=list(suppressed or []),
        diagnostics=list(diagnostics or []),
        scope=["infra", "stacks"],
        files=["infra/kms.tf", "infra/main.tf", "stacks/app.yaml", "stacks/broken.yaml"],
        rules=list(MODULES),
        audit="trails aws_cloudtrail.audit",
    )


def full_result() -> ScanResult:
    """Two findings (high, medium), one suppressed, one parse error, one note."""
    return result(
        findings=[finding_high(), finding_medium()],
        suppressed=[finding_suppressed()],
        diagnostics=[PARSE_ERROR, NOTE],
    )
