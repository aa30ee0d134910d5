"""Kinesis stream stores records unencrypted.

## What it does
Reports a Kinesis data stream that is not encrypted at rest with AWS KMS: Terraform
`aws_kinesis_stream` without `encryption_type = "KMS"`, CloudFormation
`AWS::Kinesis::Stream` without `StreamEncryption` (or with `EncryptionType: NONE`). When the
setting comes from a variable, a parameter or a condition, the finding names that input and
its default: a default that leaves the stream unencrypted is a finding; an input with no
default cannot be judged and is not reported.

## Why is this bad?
Records in an unencrypted stream are stored in plain text on the service side for the whole
retention period. Server-side encryption with KMS protects them at rest and puts access to
the data behind the key's policy as well as the stream's, so that a leaked stream
permission alone no longer exposes the records.

## Remediation
Terraform:

```hcl
resource "aws_kinesis_stream" "events" {
  name            = "events"
  shard_count     = 1
  encryption_type = "KMS"
  kms_key_id      = aws_kms_key.streams.arn
}
```

CloudFormation:

```yaml
Events:
  Type: AWS::Kinesis::Stream
  Properties:
    ShardCount: 1
    StreamEncryption:
      EncryptionType: KMS
      KeyId: !GetAtt StreamsKey.Arn
```

## References
- https://docs.aws.amazon.com/streams/latest/dev/server-side-encryption.html
- https://docs.aws.amazon.com/streams/latest/dev/security-best-practices.html
- https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/kinesis_stream
- https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-kinesis-stream.html
"""

from __future__ import annotations

from typing import Iterator

from kds_iac.model import Model
from kds_iac.rules.base import Examples, Finding, Rule, Severity
from kds_iac.views.kinesis import STREAM_TYPES, streams

RULE = Rule(
    id="KDS001",
    checkov_id="CKV_KDS_1",
    severity=Severity.HIGH,
    title="Kinesis stream is not encrypted at rest with KMS",
    resource_types=STREAM_TYPES,
    category="ENCRYPTION",
)

EXAMPLES = {
    "terraform": Examples(
        bad={
            "gated-module": frozenset(
                {
                    "aws_kinesis_stream.this",
                    'module.streams.aws_kinesis_stream.this["clicks"]',
                    "module.archive.aws_kinesis_stream.archive",
                    "module.streams.module.archive.aws_kinesis_stream.archive",
                }
            ),
            "unencrypted-streams": frozenset(
                {
                    "aws_kinesis_stream.plain",
                    "aws_kinesis_stream.explicitly_none",
                    "aws_kinesis_stream.from_variable",
                    "aws_kinesis_stream.optional_key",
                }
            ),
            "module-defaults": frozenset({"module.clickstream.aws_kinesis_stream.this"}),
        },
        good=("gated-module-good", "customer-managed-key", "aws-managed-key"),
    ),
    "cloudformation": Examples(
        bad={
            "unencrypted-streams.yaml": frozenset({"Plain", "OptionalKey", "SwitchedOff"}),
            "sam-consumer.yaml": frozenset({"ClickStream"}),
        },
        good=("customer-managed-key.yaml", "aws-managed-key.json"),
    ),
}


def check(model: Model) -> Iterator[Finding]:
    for stream in streams(model):
        if stream.encrypted is not False:
            continue
        setting = stream.encryption_setting
        if not stream.encryption_written:
            why = f"{setting} is not set, so records are stored unencrypted"
        else:
            why = f"{setting} is {stream.encryption.value}"
        provenance = stream.encryption.provenance()
        if provenance:
            why += f" with input defaults; decided by {provenance}"
        yield Finding(
            rule=RULE,
            resource=stream.resource,
            message=f"Kinesis stream {stream.address} is not encrypted at rest: {why}",
            line=stream.encryption_line,
        )
