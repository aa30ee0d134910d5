"""Access key created for an IAM user that holds Kinesis permissions.

## What it does
Reports an access key (`aws_iam_access_key`, `AWS::IAM::AccessKey`) created for an IAM user
that holds Kinesis permissions (see KDS010), and says so when the key's secret is exported
in an output (Terraform `output` with `aws_iam_access_key.x.secret` or
`ses_smtp_password_v4`, even `sensitive`; CloudFormation `Outputs` with
`!GetAtt Key.SecretAccessKey`): the secret then sits in the Terraform state and output, or
in the stack's outputs where anyone allowed `cloudformation:DescribeStacks` reads it.

## Why is this bad?
An access key is a long-term credential: it never expires on its own, and whoever has it
can write to or read from the stream from anywhere. Creating it in infrastructure code
puts the secret in the Terraform state or the CloudFormation stack, and exporting it as an
output hands it to every reader of the state, the pipeline logs or the stack.

## Remediation
Use an IAM role for the workload (see KDS010) and remove the key. If a key is unavoidable
for a workload outside AWS, create it out of band, store it in a secrets manager, rotate
it, and never export it:

```hcl
# instead of aws_iam_access_key + output "secret":
resource "aws_iam_role" "producer" { ... }
```

```yaml
# instead of AWS::IAM::AccessKey and an output of !GetAtt Key.SecretAccessKey:
ProducerRole:
  Type: AWS::IAM::Role
```

## References
- https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html#rotate-credentials
- https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/iam_access_key
- https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-iam-accesskey.html
"""

from __future__ import annotations

from typing import Iterator

from kds_iac.model import Model
from kds_iac.rules._iam_findings import Problem, findings
from kds_iac.rules.base import Examples, Finding, Rule, Severity
from kds_iac.views.facts import listed
from kds_iac.views.iam import ACCESS_KEY_TYPES, USER, iam, kinesis_holdings, sensitive_output

RULE = Rule(
    id="KDS011",
    checkov_id="CKV_KDS_11",
    severity=Severity.HIGH,
    title="Access key created for an IAM user that holds Kinesis permissions",
    resource_types=ACCESS_KEY_TYPES,
    category="IAM",
)

EXAMPLES = {
    "terraform": Examples(
        bad={
            "gated-module": {
                "aws_iam_access_key.consumer": 30,
                "module.streams.aws_iam_access_key.consumer[0]": 30,
            },
            "iam-users": {"aws_iam_access_key.producer": 22, "aws_iam_access_key.in_group": 54},
            "creds-in-storage": {"aws_iam_access_key.uploader": 24},
        },
        good=("gated-module-good", "iam-least-privilege"),
    ),
    "cloudformation": Examples(
        bad={"iam-users.yaml": {"ProducerKey": 26}, "creds-in-storage.yaml": {"UploaderKey": 29}},
        good=("iam-least-privilege.yaml",),
    ),
}


def check(model: Model) -> Iterator[Finding]:
    view = iam(model)
    problems = []
    for key in view.access_keys:
        user = key.user
        if user is None or user.kind != USER:
            continue
        held = kinesis_holdings(view, user)
        if not held:
            continue
        actions = frozenset().union(*(a for _, a in held))
        text = (
            f"access key {key.resource.address} is a long-term credential for IAM user {user.address}, "
            f"which holds Kinesis permissions ({listed(actions, limit=4)})"
        )
        if key.exported_in:
            outputs = listed(o.address + (" (sensitive)" if sensitive_output(o) else "") for o in key.exported_in)
            text += f"; worse, its secret is exported in {outputs}"
        problems.append(Problem(key.resource.origin or key.resource, text, key.user_line))
    yield from findings(RULE, problems)
