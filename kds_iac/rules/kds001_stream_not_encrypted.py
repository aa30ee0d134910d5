"""Kinesis stream stores records unencrypted.

## What it does
Reports a Kinesis data stream that is not encrypted at rest with AWS KMS: Terraform
`aws_kinesis_stream` without `encryption_type = "KMS"`, CloudFormation
`AWS::Kinesis::Stream` without `StreamEncryption` (or with `EncryptionType: NONE`), and
`KMS` without a key (`kms_key_id` / `KeyId` left out or empty), which AWS rejects and which,
as written, encrypts nothing. When the setting comes from a variable, a parameter or a
condition, the finding names that input and its default: a default that leaves the stream
unencrypted is a finding.

A CloudFormation `Fn::If` whose condition no default decides (it reads `AWS::Region`,
`AWS::AccountId`, `AWS::Partition` or another pseudo parameter, or a parameter without a
default) is judged branch by branch: the stream is reported when a branch that a deployment
can take leaves it unencrypted, and the message names that branch. A branch taken only in
regions where Kinesis offers no server-side encryption (the China regions, where the AWS CDK
leaves it out of its default) is not reported.

A Terraform setting that reads a variable without a value (no default, none in the tfvars
or `--var`s given) is not judged: Terraform itself refuses to plan until the variable is
given, the value the run will use is in a file or pipeline this scan did not see, and a
guess either way would be a finding or a pass that nothing in the configuration proves.
CloudFormation is different: the region and account are never in the template, so every
branch of a condition on them is one that some deployment takes.

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

from typing import Iterator, Optional

from kds_iac.fixes import SAFE, UNSAFE, Fix, Link
from kds_iac.model import Model
from kds_iac.rules._key_fixes import keyed_fix
from kds_iac.rules.base import Examples, Finding, Rule, Severity
from kds_iac.views.kinesis import ABSENT, STREAM_SETTINGS, STREAM_TYPES, Stream, streams

RULE = Rule(
    id="KDS001",
    checkov_id="CKV_KDS_1",
    severity=Severity.HIGH,
    title="Kinesis stream is not encrypted at rest with KMS",
    resource_types=STREAM_TYPES,
    category="ENCRYPTION",
    formats=("terraform", "cloudformation", "serverless"),
    fixes=(SAFE, UNSAFE),
)

EXAMPLES = {
    "terraform": Examples(
        bad={
            "gated-module": {
                "aws_kinesis_stream.this": 45,
                'module.streams.aws_kinesis_stream.this["clicks"]': 45,
                "module.archive.aws_kinesis_stream.archive": 4,
                "module.streams.module.archive.aws_kinesis_stream.archive": 4,
                "module.legacy_archive.aws_kinesis_stream.archive": 4,
                "module.streams.module.legacy_archive.aws_kinesis_stream.archive": 4,
            },
            "unencrypted-streams": {
                "aws_kinesis_stream.plain": 15,
                "aws_kinesis_stream.explicitly_none": 23,
                "aws_kinesis_stream.from_variable": 29,
                "aws_kinesis_stream.optional_key": 35,
            },
            "module-defaults": {"module.clickstream.aws_kinesis_stream.this": 13},
            "kms-without-key": {"aws_kinesis_stream.no_key_id": 18, "aws_kinesis_stream.orders": 24},
        },
        good=("gated-module-good", "customer-managed-key", "aws-managed-key"),
    ),
    "cloudformation": Examples(
        bad={
            "unencrypted-streams.yaml": {"Plain": 20, "OptionalKey": 29, "SwitchedOff": 35},
            "sam-consumer.yaml": {"ClickStream": 6},
            "kms-without-key.yaml": {"NoKeyId": 32, "Orders": 39},
            "branch-by-branch.yaml": {"ByParameter": 41, "IrelandOnly": 52},
            # a nested stack's stream is addressed Stack/LogicalId through its parent; the
            # child template is also scanned alone, where its key parameter has its default
            "nested-stacks": {"Archive": 19, "DeadLetters": 20, "Events/DeadLetters": 20},
            # Fn::ForEach instances are named as CloudFormation names them; a loop over a
            # collection known only at deployment keeps the template text
            "foreach-streams.yaml": {"StreamClicks": 62, "StreamOrders": 62, "Tenant${Name}": 71},
        },
        good=(
            "nested-stacks-good",
            "customer-managed-key.yaml",
            "aws-managed-key.json",
            "cdk-region-condition.template.json",
            "quickstart-style-vpc.yaml",
            "guarded-split-select.yaml",
        ),
    ),
    "serverless": Examples(
        bad={
            "service-bad": {"OrdersStream": 4, "AuditStream": 15},
        },
        good=("service-good", "stream-keys", "iam-statements",),
    ),
}


def check(model: Model) -> Iterator[Finding]:
    for stream in streams(model):
        reasons: list[str] = []
        for case in stream.cases:
            if case.encrypted is not False or not case.sse_offered:
                continue
            reason = _why(case)
            if reason not in reasons:
                reasons.append(reason)
        if not reasons:
            continue
        yield Finding(
            rule=RULE,
            resource=stream.resource,
            message=f"Kinesis stream {stream.address} is not encrypted at rest: {'; '.join(reasons)}",
            line=stream.encryption_line,
            fix=_fix(stream, model),
        )


def _fix(stream: Stream, model: Model) -> Optional[Fix]:
    """KMS with the module's or template's one fit key (safe), else with a new key (unsafe);
    none when an input decides the setting or a key is already named."""
    if stream.decided_by_inputs or stream.key.value not in (ABSENT, ""):
        return None
    return keyed_fix(
        model,
        stream.resource,
        f"Encrypt {stream.address}",
        lambda link: encrypt_with(stream, link),
        new_key_description=f"Encrypts Kinesis stream {stream.address}",
    )


def encrypt_with(stream: Stream, link: Link) -> tuple:
    """The settings that encrypt ``stream`` with the key ``link`` points at (KDS002 too)."""
    intents = []
    if stream.encryption.value != "KMS":
        intents.append(STREAM_SETTINGS.set(stream.resource, "encryption", "KMS", within=stream.block_setting))
    intents.append(STREAM_SETTINGS.set(stream.resource, "key", link, within=stream.block_setting))
    return tuple(intents)


def _why(case: Stream) -> str:
    """Why one case of the stream is unencrypted, with the branch and inputs that decide it."""
    setting = case.encryption_setting
    if case.key_missing:
        why = (
            f"{setting} asks for KMS but {case.key_setting} is not set; AWS rejects that, and as written "
            "nothing is encrypted"
        )
        decided, branch = case.key, case.key_branch
    else:
        if not case.encryption_written:
            why = f"{setting} is not set, so records are stored unencrypted"
        else:
            why = f"{setting} is {case.encryption.value}"
        decided, branch = case.encryption, case.encryption_branch
    provenance = decided.provenance()
    if branch:
        why += f" ({branch}; decided by {provenance})" if provenance else f" ({branch})"
    elif provenance:
        why += f" with input defaults; decided by {provenance}"
    return why
