"""IAM user holds Kinesis permissions instead of a role.

## What it does
Reports an IAM user (`aws_iam_user`, `AWS::IAM::User`) that is allowed Kinesis actions by
any policy that reaches it: inline user policies, attached customer or AWS managed
policies, and the policies of every group it belongs to (`aws_iam_user_group_membership`,
`aws_iam_group_membership`, `Groups`, `AWS::IAM::UserToGroupAddition`). When the user is not
defined in the scan (a name, a data source, an input), the policy or attachment that grants
it Kinesis actions is reported instead. The finding sits on the user: replacing it with a
role is the fix.

## Why is this bad?
An IAM user authenticates with long-term credentials: access keys that do not expire, get
copied into configuration files, environment variables and CI secrets, and keep working
after the person or system that used them is gone. Producers and consumers running on AWS
(Lambda, ECS, EC2, EKS, Kinesis Data Analytics, Firehose) get short-lived credentials from
an IAM role; those running elsewhere can use IAM Roles Anywhere or federation.

## Remediation
Give the workload a role and move the policy to it:

```hcl
resource "aws_iam_role" "producer" {
  name               = "events-producer"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

resource "aws_iam_role_policy" "producer" {
  role   = aws_iam_role.producer.id
  policy = data.aws_iam_policy_document.producer.json
}
```

```yaml
ProducerRole:
  Type: AWS::IAM::Role
  Properties:
    AssumeRolePolicyDocument:
      Version: "2012-10-17"
      Statement:
        - Effect: Allow
          Principal: { Service: ecs-tasks.amazonaws.com }
          Action: sts:AssumeRole
    Policies:
      - PolicyName: produce-events
        PolicyDocument:
          Version: "2012-10-17"
          Statement:
            - Effect: Allow
              Action: [kinesis:PutRecord, kinesis:PutRecords]
              Resource: !GetAtt Events.Arn
```

## References
- https://docs.aws.amazon.com/streams/latest/dev/security-best-practices.html
- https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html#bp-workloads-use-roles
- https://docs.aws.amazon.com/rolesanywhere/latest/userguide/introduction.html
"""

from __future__ import annotations

from typing import Iterator

from kds_iac.model import Model
from kds_iac.rules._iam_findings import Problem, findings
from kds_iac.rules.base import Examples, Finding, Rule, Severity
from kds_iac.views.facts import listed
from kds_iac.views.iam import (
    ATTACHMENT_TYPES,
    IDENTITY,
    USER,
    USER_POLICY_TYPES,
    USER_TYPES,
    IamView,
    iam,
    kinesis_holdings,
)

RULE = Rule(
    id="KDS010",
    checkov_id="CKV_KDS_10",
    severity=Severity.MEDIUM,
    title="IAM user holds Kinesis permissions instead of a role",
    resource_types=USER_TYPES + USER_POLICY_TYPES + ATTACHMENT_TYPES,
    category="IAM",
)

EXAMPLES = {
    "terraform": Examples(
        bad={
            "gated-module": {
                "aws_iam_user.consumer": 23,
                "module.streams.aws_iam_user.consumer[0]": 23,
            },
            "iam-users": {
                "aws_iam_user.producer": 8,
                "aws_iam_user.in_group": 44,
                "aws_iam_user_policy.outside_user": 60,
            },
            "iam-managed-policies": {"aws_iam_user.operator": 36},
            "creds-in-storage": {"aws_iam_user.uploader": 10},
        },
        good=("gated-module-good", "iam-least-privilege",),
    ),
    "cloudformation": Examples(
        bad={
            "iam-users.yaml": {"ProducerUser": 11, "GroupMember": 44, "ListedMember": 49},
            "creds-in-storage.yaml": {"UploaderUser": 14},
        },
        good=("iam-least-privilege.yaml",),
    ),
}


def check(model: Model) -> Iterator[Finding]:
    view = iam(model)
    problems = []
    for principal in view.principals:
        if principal.kind != USER:
            continue
        held = kinesis_holdings(view, principal)
        if not held:
            continue
        actions = frozenset().union(*(a for _, a in held))
        sources = listed(
            (g.document.describe() + (f" through group {g.via_group.address}" if g.via_group else "")) for g, _ in held
        )
        problems.append(
            Problem(
                principal.editable,
                f"IAM user {principal.address} holds Kinesis permissions ({listed(actions, limit=4)}) from {sources}; "
                "workloads should use an IAM role",
            )
        )
    problems += _outside_users(view)
    yield from findings(RULE, problems)


def _outside_users(view: IamView) -> list[Problem]:
    """Policies attached to users that are not resources of the scan."""
    problems = []
    for attachment in view.unresolved_attachments:
        if attachment.principal_kind != USER or attachment.document.kind != IDENTITY:
            continue
        actions = frozenset().union(
            *(
                s.kinesis_actions
                for s in attachment.document.known_statements
                if s.allows and view.statement_may_reach_kinesis(s)
            )
        )
        if not actions:
            continue
        problems.append(
            Problem(
                attachment.via.origin or attachment.via,
                f"{attachment.document.describe()} gives IAM user {attachment.principal_text} Kinesis permissions "
                f"({listed(actions, limit=4)}); workloads should use an IAM role",
                attachment.via.line_of(attachment.attribute),
            )
        )
    return problems
