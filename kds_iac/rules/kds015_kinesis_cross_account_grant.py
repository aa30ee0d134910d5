"""Kinesis resource policy or stream key policy grants access to another AWS account.

## What it does
Reports an `Allow` statement of a Kinesis resource policy (`aws_kinesis_resource_policy`,
`AWS::Kinesis::ResourcePolicy`) that names an AWS account by its literal id (`123456789012`,
`arn:aws:iam::123456789012:root`, a role or user ARN of that account) other than the
stream's own account when the resource ARN names it, or that grants to `Principal: "*"`
pinned to an organization (`aws:PrincipalOrgID`, `aws:PrincipalOrgPaths`): every account of
the organization.

For the key policy of a customer managed key that encrypts a stream of the scan, a named
account is reported only when the key's own account is known: it is the account whose
root is granted `kms:*` in the same policy (the usual administration statement) and the
named account differs. An account built from `${AWS::AccountId}` or
`data.aws_caller_identity` is the deploying account and never reported.

Grants to any principal without a pinning condition are KDS009 (high severity).

## Why is this bad?
A cross-account grant is sometimes the design: a central analytics account reading a
producer's stream. It is also how data leaves an organization unnoticed, and the other
account's own policies then decide who there can read the records. Each such grant should
be deliberate and reviewed; this rule makes them visible.

## Remediation
Keep the grant if it is intended (suppress the finding with a reason), scope it to the
actions and principals needed, and prefer naming a role of the other account to its root:

```hcl
Principal = { AWS = "arn:aws:iam::${var.analytics_account_id}:role/stream-reader" }
```

```yaml
Principal:
  AWS: !Sub arn:${AWS::Partition}:iam::${AnalyticsAccountId}:role/stream-reader
```

## References
- https://docs.aws.amazon.com/streams/latest/dev/controlling-access.html#resource-based-policies
- https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-modifying-external-accounts.html
- https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies-cross-account-resource-access.html
"""

from __future__ import annotations

from typing import Iterator

from kds_iac.model import Model
from kds_iac.rules._iam_findings import Problem, findings, provenance, statement_label, stream_resource_policies
from kds_iac.rules.base import Examples, Finding, Rule, Severity
from kds_iac.views.facts import listed
from kds_iac.views.iam import (
    RESOURCE_POLICY,
    RESOURCE_POLICY_HOLDER_TYPES,
    own_accounts,
    principal_accounts,
    resource_accounts,
)

RULE = Rule(
    id="KDS015",
    checkov_id="CKV_KDS_15",
    severity=Severity.LOW,
    title="Kinesis resource policy or stream key policy grants access to another AWS account",
    resource_types=RESOURCE_POLICY_HOLDER_TYPES,
    category="IAM",
    formats=("terraform", "cloudformation", "serverless"),
)

EXAMPLES = {
    "terraform": Examples(
        bad={
            "iam-resource-policies": {
                "aws_kinesis_resource_policy.cross_account": 77,
                "aws_kms_key_policy.stream_key": 11,
            },
        },
        good=("iam-least-privilege",),
    ),
    "cloudformation": Examples(
        bad={"iam-resource-policies.yaml": {"CrossAccountPolicy": 67, "OrganizationPolicy": 80}},
        good=("iam-least-privilege.yaml",),
    ),
    "serverless": Examples(
        bad={
            "shared-streams": {"PartnerOrders": 20},
        },
        good=("service-good",),
    ),
}

ORGANIZATION_KEYS = ("aws:principalorgid", "aws:principalorgpaths")


def check(model: Model) -> Iterator[Finding]:
    problems = []
    for document in stream_resource_policies(model):
        own = own_accounts(document)
        for statement in document.known_statements:
            if not statement.allows:
                continue
            label = statement_label(document, statement)
            if document.kind == RESOURCE_POLICY:
                own_here = own | resource_accounts(statement)
            else:
                if not own:
                    continue  # the key's own account is not known: a named account may be it
                own_here = own
            foreign = [(acct, ident) for acct, ident in principal_accounts(statement) if acct not in own_here]
            if foreign:
                named = listed(ident for _, ident in foreign)
                problems.append(
                    Problem(
                        document.editable,
                        f"{label} grants {listed(statement.actions, limit=4) or 'actions'} to account(s) outside "
                        f"the stream's own: {named}{provenance(statement, document)}",
                        document.line,
                    )
                )
            if document.kind == RESOURCE_POLICY and statement.everyone and statement.pins_caller:
                organizations = [
                    value
                    for (_, key), values in statement.conditions.items()
                    if key in ORGANIZATION_KEYS
                    for value in values
                ]
                if organizations:
                    problems.append(
                        Problem(
                            document.editable,
                            f"{label} grants {listed(statement.actions, limit=4) or 'actions'} to every account of "
                            f"organization {listed(organizations)}{provenance(statement, document)}",
                            document.line,
                        )
                    )
    yield from findings(RULE, problems)
