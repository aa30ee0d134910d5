"""Producer or consumer of a Kinesis stream is also granted destructive stream actions.

## What it does
For every IAM role, user and group (a user together with its groups) that produces or
consumes records (it is allowed `kinesis:PutRecord`, `kinesis:PutRecords`,
`kinesis:GetRecords`, `kinesis:GetShardIterator` or `kinesis:SubscribeToShard`, from any
policy that reaches it), reports each policy that also names one of the actions that
destroy a stream or its data, weaken its protection or change who may use it:
`kinesis:StopStreamEncryption`, `kinesis:DeleteStream`, `kinesis:PutResourcePolicy`,
`kinesis:DeleteResourcePolicy`, `kinesis:DisableEnhancedMonitoring`,
`kinesis:DecreaseStreamRetentionPeriod`, `kinesis:DeregisterStreamConsumer`,
`kinesis:UpdateStreamMode`, `kinesis:UpdateShardCount`.

The finding sits on the policy that grants the dangerous action (for a SAM function, on
the function: the `KinesisCrudPolicy` template grants `kinesis:DeleteStream` and
`kinesis:DecreaseStreamRetentionPeriod` together with `kinesis:PutRecord`). A dangerous
action taken in by a wildcard is reported by KDS004, by `NotAction` by KDS007, by a broad
AWS managed policy by KDS008.

## Why is this bad?
Producers and consumers run application code that parses outside input and holds
credentials for a long time: they are the principals most likely to be compromised or to
misbehave. Managing the stream (deleting it, shrinking its retention, switching off its
encryption, opening it with a resource policy) belongs to the deployment pipeline, not to
the code that writes or reads records.

## Remediation
Split the permissions: the workload's role gets the data-plane actions only; the stream's
lifecycle stays with the deployment role.

```hcl
data "aws_iam_policy_document" "producer" {
  statement {
    actions   = ["kinesis:PutRecord", "kinesis:PutRecords"]
    resources = [aws_kinesis_stream.events.arn]
  }
}
```

SAM: use `KinesisStreamReadPolicy` for a consumer, or a statement naming the producer's
actions, rather than `KinesisCrudPolicy`:

```yaml
Policies:
  - Statement:
      - Effect: Allow
        Action: [kinesis:PutRecord, kinesis:PutRecords]
        Resource: !GetAtt Events.Arn
```

## References
- https://docs.aws.amazon.com/streams/latest/dev/controlling-access.html
- https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/serverless-policy-template-list.html#kinesis-crud-policy
- https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html#grant-least-privilege
"""

from __future__ import annotations

from typing import Iterator

from kds_iac import iam_actions
from kds_iac.model import Model
from kds_iac.rules._iam_findings import Problem, findings, statement_label
from kds_iac.rules.base import Examples, Finding, Rule, Severity
from kds_iac.views.facts import listed
from kds_iac.views.iam import IDENTITY, POLICY_HOLDER_TYPES, Principal, iam
from kds_iac.views.policy import UNKNOWN_PART

RULE = Rule(
    id="KDS006",
    checkov_id="CKV_KDS_6",
    severity=Severity.MEDIUM,
    title="Producer or consumer of a Kinesis stream is also granted destructive stream actions",
    resource_types=POLICY_HOLDER_TYPES,
    category="IAM",
    formats=("terraform", "cloudformation", "serverless"),
)

EXAMPLES = {
    "terraform": Examples(
        bad={"iam-dangerous": {"aws_iam_policy.producer_admin": 25, "aws_iam_role.consumer": 52}},
        good=("iam-least-privilege",),
    ),
    "cloudformation": Examples(
        bad={
            "iam-dangerous.yaml": {"ProducerRole": 20, "ConsumerPolicy": 45},
            "iam-sam.yaml": {"CrudFunction": 54},
        },
        good=("iam-least-privilege.yaml",),
    ),
    "serverless": Examples(
        bad={
            "iam-statements": {"provider.iam.role.statements[2]": 23},
        },
        good=("service-good",),
    ),
}

DATA_ACTIONS = iam_actions.PRODUCER_ACTIONS | iam_actions.CONSUMER_ACTIONS


def check(model: Model) -> Iterator[Finding]:
    view = iam(model)
    problems = []
    for principal in view.principals:
        data_actions = _data_actions(view, principal)
        if not data_actions:
            continue
        role = "produces" if data_actions & iam_actions.PRODUCER_ACTIONS else "consumes"
        if data_actions & iam_actions.PRODUCER_ACTIONS and data_actions & iam_actions.CONSUMER_ACTIONS:
            role = "produces and consumes"
        for grant in principal.grants:
            document, statement = grant.document, grant.statement
            if document.kind != IDENTITY or document.aws_managed or not statement.allows or statement.not_actions:
                continue
            if not view.statement_may_reach_kinesis(statement):
                continue
            named = {
                found
                for pattern in statement.actions
                if UNKNOWN_PART not in pattern and "*" not in pattern and "?" not in pattern
                for found in statement.actions_from(pattern)
            }
            dangerous = named & iam_actions.DANGEROUS_KINESIS_ACTIONS
            if not dangerous:
                continue
            who = principal.address + (f" (through group {grant.via_group.address})" if grant.via_group else "")
            problems.append(
                Problem(
                    document.editable,
                    f"{statement_label(document, statement)} grants {listed(dangerous, limit=5)} to {who}, "
                    f"which also {role} records ({listed(data_actions, limit=3)})",
                    document.line,
                )
            )
    yield from findings(RULE, problems)


def _data_actions(view, principal: Principal) -> frozenset[str]:
    found: set[str] = set()
    for grant in principal.grants:
        statement = grant.statement
        if statement.allows and view.statement_may_reach_kinesis(statement):
            found |= statement.kinesis_actions & DATA_ACTIONS
    return frozenset(found)
