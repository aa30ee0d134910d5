"""Kinesis stream is encrypted with the AWS managed key instead of a customer managed key.

## What it does
Reports a Kinesis data stream whose server-side encryption uses the AWS managed key
`alias/aws/kinesis`, written as the alias, an alias ARN, a `Fn::Sub` of the ARN, or a
`data.aws_kms_alias`/`data.aws_kms_key` lookup, including when it is the default of a
variable or parameter.

A CloudFormation `Fn::If` whose condition no default decides (on `AWS::Region` or another
pseudo parameter, or on a parameter without a default) is judged branch by branch: the
stream is reported when a branch that a deployment can take uses the AWS managed key, and
the message names that branch. This is how the AWS CDK writes its default stream
encryption: the AWS managed key everywhere but the regions without Kinesis encryption.

A Terraform setting that reads a variable without a value is not judged: Terraform refuses
to plan until it is given, and the value used is in a file or pipeline this scan did not
see, so any verdict would be a guess (CloudFormation's region and account, by contrast,
are never in the template: every branch on them is taken by some deployment).

## Why is this bad?
With the AWS managed key, every principal in the account that may use Kinesis can decrypt
the stream's records: the key policy cannot be narrowed, key use cannot be separated from
stream use, the key cannot be shared with a consumer in another account, and it cannot be
disabled in an incident. A customer managed key lets you decide who may decrypt, audit it,
and rotate or revoke it.

## Remediation
Terraform:

```hcl
resource "aws_kms_key" "streams" {
  description         = "Kinesis streams"
  enable_key_rotation = true
}

resource "aws_kinesis_stream" "events" {
  name            = "events"
  shard_count     = 1
  encryption_type = "KMS"
  kms_key_id      = aws_kms_key.streams.arn
}
```

CloudFormation:

```yaml
StreamsKey:
  Type: AWS::KMS::Key
  Properties:
    EnableKeyRotation: true
Events:
  Type: AWS::Kinesis::Stream
  Properties:
    ShardCount: 1
    StreamEncryption:
      EncryptionType: KMS
      KeyId: !GetAtt StreamsKey.Arn
```

## References
- https://docs.aws.amazon.com/streams/latest/dev/what-is-sse.html
- https://docs.aws.amazon.com/kms/latest/developerguide/concepts.html#key-mgmt
- https://docs.aws.amazon.com/streams/latest/dev/security-best-practices.html
"""

from __future__ import annotations

from typing import Iterator, Optional

from kds_iac.fixes import SAFE, UNSAFE, Fix
from kds_iac.model import Model
from kds_iac.rules._key_fixes import keyed_fix
from kds_iac.rules.base import Examples, Finding, Rule, Severity
from kds_iac.views.kinesis import STREAM_SETTINGS, STREAM_TYPES, Stream, streams
from kds_iac.views.kms import AwsManagedKey

RULE = Rule(
    id="KDS002",
    checkov_id="CKV_KDS_2",
    severity=Severity.LOW,
    title="Kinesis stream uses the AWS managed key instead of a customer managed key",
    resource_types=STREAM_TYPES,
    category="ENCRYPTION",
    formats=("terraform", "cloudformation", "serverless"),
    fixes=(SAFE, UNSAFE),
)

EXAMPLES = {
    "terraform": Examples(
        bad={
            "aws-managed-key": {
                "aws_kinesis_stream.alias_name": 17,
                "aws_kinesis_stream.alias_arn": 24,
                "aws_kinesis_stream.data_lookup": 31,
                "aws_kinesis_stream.variable_default": 38,
            },
        },
        good=("customer-managed-key", "unencrypted-streams", "module-defaults", "kms-without-key"),
    ),
    "cloudformation": Examples(
        bad={
            "aws-managed-key.json": {"AliasName": 9, "AliasArnSub": 15},
            "cdk-synth.template.json": {"teststreamKinesisStreamF1C9A3D2": 8},
            "cdk-region-condition.template.json": {"EventsStreamB5E7A8F1": 9},
            "branch-by-branch.yaml": {"ManagedKeyOutsideProduction": 63},
        },
        good=(
            "customer-managed-key.yaml",
            "unencrypted-streams.yaml",
            "kms-without-key.yaml",
            "quickstart-style-vpc.yaml",
            "guarded-split-select.yaml",
        ),
    ),
    "serverless": Examples(
        bad={
            "stream-keys": {"ManagedKeyStream": 19},
        },
        good=("service-good", "service-bad",),
    ),
}


def check(model: Model) -> Iterator[Finding]:
    for stream in streams(model):
        bad = [c for c in stream.cases if c.encrypted and isinstance(c.key.value, AwsManagedKey)]
        if not bad:
            continue
        key = bad[0].key
        message = (
            f"Kinesis stream {stream.address} is encrypted with the AWS managed key "
            f"{key.value.reference}; use a customer managed KMS key"
        )
        if all(c.key_branch for c in bad):  # else a branch-free case is bad: no branch to name
            message += f" ({'; '.join(dict.fromkeys(c.key_branch for c in bad))})"
        provenance = key.provenance()
        if provenance:
            message += f" (key decided by {provenance})"
        yield Finding(RULE, stream.resource, message, line=stream.key_line, fix=_fix(stream, model))


def _fix(stream: Stream, model: Model) -> Optional[Fix]:
    """The key setting to the module's or template's one fit key (safe), else to a new key
    (unsafe); none when an input or a condition decides the key."""
    if stream.decided_by_inputs or not isinstance(stream.key.value, AwsManagedKey):
        return None
    return keyed_fix(
        model,
        stream.resource,
        f"Encrypt {stream.address}",
        lambda link: (STREAM_SETTINGS.set(stream.resource, "key", link, within=stream.block_setting),),
        new_key_description=f"Encrypts Kinesis stream {stream.address}",
    )
