"""Kinesis resource policy or stream key policy grants to any principal without pinning the caller.

## What it does
Reports a Kinesis resource policy (`aws_kinesis_resource_policy`,
`AWS::Kinesis::ResourcePolicy`) with an `Allow` statement for `Principal: "*"` or
`Principal: {AWS: "*"}` that has no condition pinning the caller to an organization, account,
source or network (`aws:PrincipalOrgID`, `aws:PrincipalAccount`, `aws:SourceAccount`,
`aws:SourceArn`, `aws:PrincipalArn`, `aws:SourceVpce`, ...). A condition whose value is only
known at deployment counts as pinning: it cannot be proven open.

Also reports the key policy of a customer managed key that encrypts a Kinesis stream of the
scan when it allows KMS actions to any principal without such a condition, except when the
statement allows `kms:Decrypt`: a key policy that lets anyone decrypt is reported by KDS003
on the key already, and is not reported twice. KDS009 covers the rest: anyone may, say,
`kms:GenerateDataKey` (write records readable with the key) or `kms:PutKeyPolicy`.

Grants to named other accounts are KDS015 (lower severity).

## Why is this bad?
A resource policy is evaluated for callers of every AWS account. `Principal: "*"` without
a pinning condition lets anyone on the internet with AWS credentials read or write the
stream, or use its key, subject only to the actions listed.

## Remediation
Name the principals, or pin the caller with a condition:

```hcl
resource "aws_kinesis_resource_policy" "events" {
  resource_arn = aws_kinesis_stream.events.arn
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { AWS = "*" }
      Action    = ["kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:DescribeStreamSummary"]
      Resource  = aws_kinesis_stream.events.arn
      Condition = { StringEquals = { "aws:PrincipalOrgID" = var.organization_id } }
    }]
  })
}
```

```yaml
EventsPolicy:
  Type: AWS::Kinesis::ResourcePolicy
  Properties:
    ResourceArn: !GetAtt Events.Arn
    ResourcePolicy:
      Version: "2012-10-17"
      Statement:
        - Effect: Allow
          Principal:
            AWS: !Sub arn:${AWS::Partition}:iam::${ConsumerAccountId}:root
          Action: [kinesis:GetRecords, kinesis:GetShardIterator, kinesis:DescribeStreamSummary]
          Resource: !GetAtt Events.Arn
```

## References
- https://docs.aws.amazon.com/streams/latest/dev/controlling-access.html#resource-based-policies
- https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html
- https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-overview.html
"""

from __future__ import annotations

from typing import Iterator

from kds_iac.model import Model
from kds_iac.rules._iam_findings import Problem, findings, provenance, statement_label, stream_resource_policies
from kds_iac.rules.base import Examples, Finding, Rule, Severity
from kds_iac.views.facts import listed
from kds_iac.views.iam import KEY_POLICY, RESOURCE_POLICY_HOLDER_TYPES

RULE = Rule(
    id="KDS009",
    checkov_id="CKV_KDS_9",
    severity=Severity.HIGH,
    title="Kinesis resource policy or stream key policy grants to any principal without pinning the caller",
    resource_types=RESOURCE_POLICY_HOLDER_TYPES,
    category="IAM",
    formats=("terraform", "cloudformation", "serverless"),
)

EXAMPLES = {
    "terraform": Examples(
        bad={"iam-resource-policies": {"aws_kinesis_resource_policy.public": 63, "aws_kms_key_policy.stream_key": 11}},
        good=("iam-least-privilege",),
    ),
    "cloudformation": Examples(
        bad={"iam-resource-policies.yaml": {"PublicPolicy": 54, "StreamKey": 16}},
        good=("iam-least-privilege.yaml",),
    ),
    "serverless": Examples(
        bad={
            "shared-streams": {"PublicClicks": 7},
        },
        good=("service-good",),
    ),
}


def check(model: Model) -> Iterator[Finding]:
    problems = []
    for document in stream_resource_policies(model):
        for statement in document.known_statements:
            if not (statement.allows and statement.everyone) or statement.pins_caller:
                continue
            label = statement_label(document, statement)
            actions = listed(statement.actions or (f"every action except {', '.join(statement.not_actions)}",), limit=4)
            if document.kind == KEY_POLICY:
                if statement.grants_action("kms:Decrypt"):
                    continue  # KDS003 reports a key policy that lets anyone decrypt
                if not any(a.startswith("kms:") for a in statement.expanded_actions):
                    continue
                used_by = document.key.resource.address
                text = f"key policy of {used_by}, which encrypts a Kinesis stream, allows {actions} to any principal"
            else:
                text = f"{label} allows {actions} to any principal"
            text += " without a condition pinning the caller" + provenance(statement, document)
            problems.append(Problem(document.editable, text, document.line))
    yield from findings(RULE, problems)
