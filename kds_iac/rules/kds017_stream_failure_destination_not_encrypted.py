"""On-failure destination of a Lambda stream mapping is not encrypted with KMS.

## What it does
Reports an SQS queue or SNS topic of the scan that a Lambda event source mapping reading a
Kinesis stream (or one of its enhanced fan-out consumers) names as its on-failure
destination (Terraform `destination_config.on_failure.destination_arn`, CloudFormation
`DestinationConfig.OnFailure.Destination`) and that is not encrypted with a KMS key:
`aws_sqs_queue` / `AWS::SQS::Queue` or `aws_sns_topic` / `AWS::SNS::Topic` without
`kms_master_key_id` / `KmsMasterKeyId`. SQS managed encryption (SSE-SQS,
`sqs_managed_sse_enabled`, on by default for new queues) is not KMS and does not count. The
finding sits on the queue or topic (what a person edits), at its key setting (or, for a
queue, its `sqs_managed_sse_enabled` line), and names the mappings that use it.
Destinations outside the scan, or whose key comes from an input without a default, are
not reported; S3 on-failure destinations are not judged by this rule.

## Why is this bad?
When a batch of stream records fails, Lambda sends an invocation record to the on-failure
destination: the stream and shard, the sequence numbers of the failed batch, the function's
error and its response context. The failed records can then be fetched from the stream
with those sequence numbers. A queue or topic without a customer controlled KMS key puts
this trail of the stream's data outside the key policy that protects the stream itself,
and SNS topics are not encrypted at rest at all without one. The records themselves are
not copied to SQS or SNS, so this rule is of low severity.

## Remediation
Terraform:

```hcl
resource "aws_sqs_queue" "failures" {
  name              = "events-failures"
  kms_master_key_id = aws_kms_key.streams.arn
}
```

CloudFormation:

```yaml
Failures:
  Type: AWS::SNS::Topic
  Properties:
    KmsMasterKeyId: !Ref StreamsKey
```

The function's role then needs `kms:GenerateDataKey` and `kms:Decrypt` on that key to send
to the destination.

## Fix
A fix sets `kms_master_key_id` / `KmsMasterKeyId`: to the ARN of the one fit customer
managed key of the queue's or topic's Terraform module or CloudFormation template (created
with the input defaults, enabled, rotation on, key policy not open to everyone), or, when
there is none, to the service's AWS managed key (`alias/aws/sqs`, `alias/aws/sns`), which
this rule accepts. No fix with several fit keys (which one is a choice), when an input
decides the setting, or for a queue that writes `sqs_managed_sse_enabled` /
`SqsManagedSseEnabled` (AWS refuses a key beside it). With a customer managed key, the role
of each function whose mapping sends there needs `kms:GenerateDataKey` and `kms:Decrypt` on
it: when a role of the scan is not granted them (by an IAM statement on the key, `*` or every
key ARN where the key policy lets IAM decide, or by the key policy naming it), the fix is
unsafe and its title names the role; otherwise it is safe.

## References
- https://docs.aws.amazon.com/lambda/latest/dg/kinesis-on-failure-destination.html
- https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-server-side-encryption.html
- https://docs.aws.amazon.com/sns/latest/dg/sns-server-side-encryption.html
- https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/lambda_event_source_mapping
- https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-lambda-eventsourcemapping.html
"""

from __future__ import annotations

from typing import Iterator, Optional

from kds_iac.fixes import SAFE, UNSAFE, Fix, Link
from kds_iac.model import Model
from kds_iac.rules._key_fixes import USE_KEY, losing_access, role_users
from kds_iac.rules.base import Examples, Finding, Rule, Severity
from kds_iac.views.compute import Function, StreamSource, event_source_mappings
from kds_iac.views.kms import fit_keys_near
from kds_iac.views.settings import fixable
from kds_iac.views.storage import MESSAGE_STORE_SETTINGS, QUEUE_TYPES, TOPIC_TYPES, MessageStore, message_store_of

RULE = Rule(
    id="KDS017",
    checkov_id="CKV_KDS_17",
    severity=Severity.LOW,
    title="On-failure destination of a Lambda stream mapping is not encrypted with KMS",
    resource_types=QUEUE_TYPES + TOPIC_TYPES,
    category="ENCRYPTION",
    formats=("terraform", "cloudformation", "serverless"),
    fixes=(SAFE, UNSAFE),
)

EXAMPLES = {
    "terraform": Examples(
        bad={"datapath-failure-destinations": {"aws_sqs_queue.sqs_managed": 49, "aws_sns_topic.plain": 55}},
        good=("roles-readers-granted", "customer-managed-key"),
    ),
    "cloudformation": Examples(
        bad={"datapath-failure-destinations.yaml": {"SqsManagedQueue": 43, "PlainTopic": 49}},
        good=("roles-readers-granted.yaml", "sam-consumer.yaml"),
    ),
    "serverless": Examples(
        bad={
            "failure-destinations": {"PlainFailures": 59},
        },
        good=("service-good",),
    ),
}


def check(model: Model) -> Iterator[Finding]:
    stores: dict[int, tuple[MessageStore, list[str], list]] = {}
    for mapping in event_source_mappings(model):
        if not isinstance(mapping.source.value, StreamSource):
            continue
        store = message_store_of(mapping.on_failure, model).value
        if isinstance(store, MessageStore):
            entry = stores.setdefault(id(store.resource), (store, [], []))
            entry[1].append(mapping.resource.address)
            function = mapping.function.value
            if isinstance(function, Function):
                entry[2].append(function.role.value)
    for store, mappings, roles in stores.values():
        if store.kms is not False:
            continue
        setting = store.kms_setting
        if store.kind == "SQS queue" and store.sqs_managed_sse.value is True:
            why = f"{setting} is not set, so it uses SQS managed encryption (SSE-SQS), not a KMS key"
        else:
            why = f"{setting} is not set, so it is not encrypted with a KMS key"
        provenance = store.kms_key.provenance()
        if provenance:
            why += f" with input defaults; decided by {provenance}"
        yield Finding(
            RULE,
            store.resource,
            f"{store.kind} {store.address} receives the failed batches of Kinesis event source mapping "
            f"{', '.join(sorted(set(mappings)))} but {why}",
            line=store.line,
            fix=_fix(store, model, roles),
        )


def _fix(store: MessageStore, model: Model, roles: list) -> Optional[Fix]:
    """The key setting, to the one fit customer managed key of the template or module, or
    to the service's AWS managed key when there is none (this rule accepts any KMS key).
    None with several fit keys (a choice), when an input decides the setting, or beside a
    written SQS managed encryption switch, which may not be set together with a key. Unsafe
    when a role of the functions that send there (``roles``) is not granted
    kms:GenerateDataKey and kms:Decrypt on the customer managed key: sending would fail."""
    key = store.kms_key
    if key.inputs or key.conditions or store.managed_sse_written or not fixable(store.resource):
        return None
    keys = fit_keys_near(model, store.resource)
    if len(keys) > 1:
        return None
    if keys:
        value, name = Link(keys[0].resource, "arn"), f"KMS key {keys[0].resource.address}"
    else:
        value = name = store.aws_managed_key
    intent = MESSAGE_STORE_SETTINGS.set(store.resource, "key", value)
    if not intent:
        return None
    title, safety = f"Encrypt {store.kind} {store.address} with {name}", SAFE
    lost = losing_access(model, role_users(model, roles, USE_KEY), keys[0]) if keys else ""
    if lost:
        title, safety = f"{title}; {lost}", UNSAFE
    return Fix(title, safety, (intent,))
