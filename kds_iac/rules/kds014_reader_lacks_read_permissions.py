"""The role of a stream reader lacks the read permissions it needs.

## What it does
For every reader of a Kinesis stream of the scan whose role is a role of the scan, reports
the role when its identity policies surely do not allow the actions that reader needs on
that stream:

- a Lambda event source mapping (`aws_lambda_event_source_mapping`,
  `AWS::Lambda::EventSourceMapping`, a SAM `Events: Type: Kinesis`): the function's execution
  role needs `kinesis:DescribeStream`, `kinesis:GetRecords`, `kinesis:GetShardIterator` and
  `kinesis:ListShards` on the stream; reading through an enhanced fan-out consumer
  (`aws_kinesis_stream_consumer`, `AWS::Kinesis::StreamConsumer`, a consumer ARN) also needs
  `kinesis:SubscribeToShard`, on the stream or on its consumer;
- a Firehose delivery stream with a Kinesis source (`kinesis_source_configuration`,
  `KinesisStreamSourceConfiguration`): its source role needs the same four actions.

Grants are read from every way a policy reaches the role (inline policies, policy resources,
attachments, customer managed policies, and AWS managed policies such as
`AWSLambdaKinesisExecutionRole`, which SAM attaches for a Kinesis event), with wildcards
expanded, CDK-synthesized policies and `Resource` written as references, `Fn::Sub`/`Fn::Join`
ARNs or ARN patterns. The finding sits on the role (for a SAM function's generated role: the
function), which is what a person edits, and names the reader and the missing actions.

Nothing is reported when it cannot be proven: when a policy that reaches the role is not
known before deployment (an AWS managed policy kds-iac has no data for, a customer policy
defined elsewhere, an input without default), when a statement may cover the stream only
depending on such a value, when the stream has a resource policy (`aws_kinesis_resource_policy`,
`AWS::Kinesis::ResourcePolicy`) that allows the action, or when the stream, the function or
the role is not a resource of the scan. An explicit `Deny` that surely applies is reported.
`kinesis:DescribeStreamSummary` is recommended by AWS for Lambda but not required here;
KMS permissions for encrypted streams are not checked by this rule.

## Why is this bad?
A reader without these permissions cannot read: Lambda refuses to create the event source
mapping or stops with access denied errors, and Firehose does not deliver, so records
accumulate until they expire with the stream's retention and are lost. The usual quick fix
under pressure is `kinesis:*` on `*`, which is what least privilege is meant to prevent.
Granting exactly the read actions on exactly the stream keeps the reader working and the
role narrow.

## Remediation
Terraform:

```hcl
resource "aws_iam_role_policy" "read_events" {
  name = "read-events"
  role = aws_iam_role.consumer.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:GetRecords",
                  "kinesis:GetShardIterator", "kinesis:ListShards"]
      Resource = aws_kinesis_stream.events.arn
    }]
  })
}
```

CloudFormation:

```yaml
ConsumerRole:
  Type: AWS::IAM::Role
  Properties:
    AssumeRolePolicyDocument: ...
    Policies:
      - PolicyName: read-events
        PolicyDocument:
          Version: "2012-10-17"
          Statement:
            - Effect: Allow
              Action: [kinesis:DescribeStream, kinesis:DescribeStreamSummary, kinesis:GetRecords,
                       kinesis:GetShardIterator, kinesis:ListShards]
              Resource: !GetAtt Events.Arn
```

## References
- https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-create.html
- https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSLambdaKinesisExecutionRole.html
- https://docs.aws.amazon.com/firehose/latest/dev/controlling-access.html#using-iam-kinesis-streams
- https://docs.aws.amazon.com/streams/latest/dev/controlling-access.html
"""

from __future__ import annotations

from typing import Iterator

from kds_iac.model import Model, Resource
from kds_iac.rules.base import Examples, Finding, Rule, Severity
from kds_iac.views import compute
from kds_iac.views.iam import RESOURCE_POLICY, editable, iam, policies_line

RULE = Rule(
    id="KDS014",
    checkov_id="CKV_KDS_14",
    severity=Severity.LOW,
    title="The role of a stream reader lacks the read permissions it needs",
    resource_types=compute.ROLE_TYPES + compute.SAM_FUNCTION_TYPES,
    category="IAM",
    formats=("terraform", "cloudformation", "serverless"),
)

EXAMPLES = {
    "terraform": Examples(
        bad={
            "roles-readers-missing": {
                "aws_iam_role.consumer_without_policy": 45,
                "aws_iam_role.consumer_other_stream": 70,
                "aws_iam_role.firehose_source": 119,
            },
        },
        good=("roles-readers-granted", "roles-present", "roles-missing", "creds-from-roles"),
    ),
    "cloudformation": Examples(
        bad={
            "roles-readers-missing.yaml": {"ConsumerRole": 40, "FanOutRole": 74, "FirehoseSourceRole": 105},
            "nested-stacks": {"ConsumerRole": 55},  # reads the stream a nested stack exports
        },
        good=("roles-readers-granted.yaml", "sam-consumer.yaml", "cdk-synth.template.json", "roles-present.yaml", "nested-stacks-good"),
    ),
    "serverless": Examples(
        bad={
            "reader-custom-role": {"ConsumerRole": 58},
        },
        good=("service-good", "failure-destinations",),
    ),
}

READ_ACTIONS = ("kinesis:DescribeStream", "kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:ListShards")
FAN_OUT_ACTIONS = ("kinesis:SubscribeToShard",)


def check(model: Model) -> Iterator[Finding]:
    for mapping in compute.event_source_mappings(model):
        source = mapping.source.value
        function = mapping.function.value
        if not isinstance(source, compute.StreamSource) or not isinstance(function, compute.Function):
            continue
        needed = READ_ACTIONS + (FAN_OUT_ACTIONS if source.fan_out else ())
        origin = editable(mapping.resource)
        if origin is mapping.resource:
            how = f"event source mapping {mapping.resource.address}"
        else:  # generated by SAM from an event of the function
            how = f"its Kinesis event {mapping.resource.address.removeprefix(origin.address)}"
        reader = f"Lambda function {editable(function.resource).address} ({how})"
        yield from _judge(model, function.role.value, source, needed, reader)
    for delivery in compute.delivery_streams(model):
        source = delivery.source.value
        if not isinstance(source, compute.StreamSource):
            continue
        reader = f"Firehose delivery stream {editable(delivery.resource).address}"
        yield from _judge(model, delivery.role.value, source, READ_ACTIONS, reader)


def _judge(model: Model, role: object, source: compute.StreamSource, needed: tuple[str, ...], reader: str) -> Iterator[Finding]:
    if not isinstance(role, Resource) or source.stream is None:
        return
    view = iam(model)
    principal = view.principal(role)
    if principal is None:
        return
    access = view.kinesis_access(principal, source.stream)
    denied = [a for a in needed if a in access.denied]
    missing = [a for a in needed if a not in access.actions and a not in access.denied]
    if not access.unknown and not view.may_hold_unseen_policy(principal):
        missing = [a for a in missing if a not in access.maybe]
    else:
        missing = []  # a policy not known before deployment may grant them
    missing = [a for a in missing if not _resource_policy_may_allow(view, source.stream, a)]
    if not denied and not missing:
        return
    problems = []
    if missing:
        problems.append(f"does not allow {', '.join(missing)}")
    if denied:
        problems.append(f"explicitly denies {', '.join(denied)}")
    target = editable(role)
    role_name = role.address if target is role else f"{role.address} (generated for {target.address})"
    message = (
        f"{reader} reads {source.describe()}, but its role {role_name} {' and '.join(problems)} on it, "
        f"so it cannot read the stream; allow {', '.join(needed)} on the stream's ARN"
        + (" (kinesis:SubscribeToShard may name the consumer's ARN)" if source.fan_out else "")
    )
    yield Finding(RULE, target, message, line=policies_line(target))


def _resource_policy_may_allow(view, stream: Resource, action: str) -> bool:
    """A Kinesis resource policy on the stream (or its consumers) that allows ``action`` to
    some principal: identity policies alone then do not decide it."""
    for document in view.documents:
        if document.kind != RESOURCE_POLICY or not any(t is stream or compute.consumer_stream(t) is stream for t in document.on):
            continue
        if not isinstance(document.statements.value, list):
            return True
        for statement in document.statements.value:
            if statement.allows and statement.grants_action(action):
                return True
    return False

