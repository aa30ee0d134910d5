"""Broad AWS managed policy that grants Kinesis is attached to a principal.

## What it does
Reports the attachment of an AWS managed policy that grants Kinesis broadly:
`AmazonKinesisFullAccess` (`kinesis:*` on every stream), `AmazonKinesisAnalyticsFullAccess`
(creates and deletes streams, writes to any of them), `AdministratorAccess` and
`PowerUserAccess` (everything). Every way a template attaches one is recognized by the
policy's ARN, including `arn:${AWS::Partition}:iam::aws:policy/...` and a
`data "aws_iam_policy"` lookup: `aws_iam_role_policy_attachment`,
`aws_iam_user_policy_attachment`, `aws_iam_group_policy_attachment`,
`aws_iam_policy_attachment`, `managed_policy_arns`, `ManagedPolicyArns` on a role, user or
group, and SAM `Policies` by name (`- AmazonKinesisFullAccess`). The finding sits on the
resource that attaches the policy.

## Why is this bad?
These policies grant every Kinesis action on every stream in the account, present and
future, and two of them grant far more. A workload holding one can delete streams, change
their encryption and resource policies, and read any other team's records.

## Remediation
Replace the managed policy with one that names the actions and streams:

```hcl
resource "aws_iam_role_policy" "producer" {
  role = aws_iam_role.producer.id
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = ["kinesis:PutRecord", "kinesis:PutRecords"], Resource = aws_kinesis_stream.events.arn }]
  })
}
```

```yaml
Function:
  Type: AWS::Serverless::Function
  Properties:
    Policies:
      - KinesisStreamReadPolicy:
          StreamName: !Ref Events
```

## References
- https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AmazonKinesisFullAccess.html
- https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_managed-vs-inline.html#aws-managed-policies
- https://docs.aws.amazon.com/streams/latest/dev/controlling-access.html
"""

from __future__ import annotations

from typing import Iterator

from kds_iac.model import Model
from kds_iac.rules._iam_findings import Problem, findings
from kds_iac.rules.base import Examples, Finding, Rule, Severity
from kds_iac.views.facts import listed
from kds_iac.views.iam import IDENTITY, MANAGED_POLICY_ATTACHER_TYPES, iam

RULE = Rule(
    id="KDS008",
    checkov_id="CKV_KDS_8",
    severity=Severity.HIGH,
    title="Broad AWS managed policy that grants Kinesis is attached to a principal",
    resource_types=MANAGED_POLICY_ATTACHER_TYPES,
    category="IAM",
    formats=("terraform", "cloudformation", "serverless"),
)

EXAMPLES = {
    "terraform": Examples(
        bad={
            "iam-managed-policies": {
                "aws_iam_role_policy_attachment.kinesis_full_access": 21,
                "aws_iam_policy_attachment.admins": 44,
                "aws_iam_role.power_user": 51,
                "aws_iam_group_policy_attachment.analytics": 65,
            },
        },
        good=("iam-least-privilege",),
    ),
    "cloudformation": Examples(
        bad={
            "iam-managed-policies.json": {"AdminRole": 12, "AnalyticsGroup": 33},
            "iam-sam.yaml": {"FullAccessFunction": 62},
        },
        good=("iam-least-privilege.yaml",),
    ),
    "serverless": Examples(
        bad={
            "iam-statements": {"provider.iam.role": 35},
        },
        good=("service-good",),
    ),
}

BROAD = {
    "AmazonKinesisFullAccess": "every Kinesis action on every stream",
    "AmazonKinesisAnalyticsFullAccess": "kinesis:CreateStream, kinesis:DeleteStream and kinesis:PutRecord on every stream",
    "AdministratorAccess": "every action on every resource",
    "PowerUserAccess": "every action except IAM, Organizations and Account management on every resource",
}


def check(model: Model) -> Iterator[Finding]:
    problems = []
    for document in iam(model).documents:
        if document.kind != IDENTITY or document.aws_managed not in BROAD or document.implicit:
            continue
        reached = listed(a.principal.address if a.principal else a.principal_text for a in document.attachments)
        text = (
            f"{document.editable.address} attaches AWS managed policy {document.aws_managed} "
            f"to {reached or 'a principal'}: it grants {BROAD[document.aws_managed]}"
        )
        inputs = document.statements.provenance()
        if inputs:
            text += f" (with input defaults; decided by {inputs})"
        problems.append(Problem(document.editable, text, document.line))
    yield from findings(RULE, problems)
