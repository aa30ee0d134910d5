"""Customer managed key of a Kinesis stream has rotation disabled or a public key policy.

## What it does
For every Kinesis stream encrypted with a customer managed key defined in the scan (found
through references, aliases, alias ARNs and module inputs), reports the key when automatic
rotation is disabled (`enable_key_rotation` / `EnableKeyRotation` false or left out), or when
its key policy allows `kms:*` or `kms:Decrypt` to Principal `*` without a condition that
pins the caller (`aws:PrincipalOrgID`, `aws:PrincipalAccount`, `aws:SourceAccount`,
`aws:SourceArn`, `kms:CallerAccount`, ...). A key that no stream uses is not judged here.

## Why is this bad?
The key is what keeps a stream's records confidential. A key policy that lets anyone
decrypt turns stream encryption into a formality: any principal of any account that can
read the records can also decrypt them. Without rotation, one key version protects every
record for the key's whole life, so a compromised key version exposes all of it.

## Remediation
Terraform:

```hcl
resource "aws_kms_key" "streams" {
  enable_key_rotation = true
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "AccountAdministration"
      Effect    = "Allow"
      Principal = { AWS = "arn:aws:iam::${data.aws_caller_identity.current.account_id}:root" }
      Action    = "kms:*"
      Resource  = "*"
    }]
  })
}
```

CloudFormation:

```yaml
StreamsKey:
  Type: AWS::KMS::Key
  Properties:
    EnableKeyRotation: true
    KeyPolicy:
      Version: "2012-10-17"
      Statement:
        - Effect: Allow
          Principal:
            AWS: !Sub arn:${AWS::Partition}:iam::${AWS::AccountId}:root
          Action: kms:*
          Resource: "*"
```

## Fix
When disabled rotation is the key's only defect and no input decides it, the safe fix sets
`enable_key_rotation = true` / `EnableKeyRotation: true`. A key policy that lets anyone decrypt
is not fixed: which principals should use the key is for a person to decide.

## References
- https://docs.aws.amazon.com/kms/latest/developerguide/rotate-keys.html
- https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html
- https://docs.aws.amazon.com/streams/latest/dev/permissions-user-key-KMS.html
"""

from __future__ import annotations

from typing import Iterator, Optional

from kds_iac.fixes import SAFE, Fix
from kds_iac.model import Model
from kds_iac.rules.base import Examples, Finding, Rule, Severity
from kds_iac.views.kinesis import stream_keys
from kds_iac.views.kms import KEY_SETTINGS, KEY_TYPES, KmsKey
from kds_iac.views.settings import fixable

RULE = Rule(
    id="KDS003",
    checkov_id="CKV_KDS_3",
    severity=Severity.MEDIUM,
    title="Customer managed key of a Kinesis stream has rotation disabled or a public key policy",
    resource_types=KEY_TYPES,
    category="ENCRYPTION",
    formats=("terraform", "cloudformation", "serverless"),
    fixes=(SAFE,),
)

EXAMPLES = {
    "terraform": Examples(
        bad={"weak-customer-key": {"aws_kms_key.no_rotation": 3, "aws_kms_key.public_policy": 10}},
        good=("customer-managed-key", "aws-managed-key", "unencrypted-streams", "module-defaults"),
    ),
    "cloudformation": Examples(
        bad={
            "weak-customer-key.yaml": {"NoRotationKey": 5, "PublicPolicyKey": 14},
            "nested-stacks": {"StreamKey": 13},  # the parent's key, used by its nested stacks' streams
        },
        good=("customer-managed-key.yaml", "aws-managed-key.json", "nested-stacks-good"),
    ),
    "serverless": Examples(
        bad={
            "stream-keys": {"RotationOffKey": 40},
        },
        good=("service-good",),
    ),
}


def check(model: Model) -> Iterator[Finding]:
    for key, encrypted in stream_keys(model):
        defects, line = _defects(key)
        if not defects:
            continue
        used_by = ", ".join(sorted({s.address for s in encrypted}))
        yield Finding(
            RULE,
            key.resource,
            f"KMS key {key.resource.address} encrypts Kinesis stream {used_by} but {'; '.join(defects)}",
            line=line,
            fix=_fix(key, defects),
        )


def _defects(key: KmsKey) -> tuple[list[str], int | None]:
    defects: list[str] = []
    line = None
    if key.rotation.value is False:
        text = "automatic key rotation is disabled"
        if key.rotation.provenance():
            text += f" (decided by {key.rotation.provenance()})"
        defects.append(text)
        line = key.resource.line_of(key.rotation_setting)
    statement = key.public_decrypt()
    if statement is not None and key.policy.known:
        label = f" (statement {statement.sid})" if statement.sid else ""
        defects.append(f"its key policy lets any principal decrypt{label} without a condition pinning the caller")
        if key.policy_resource is key.resource:
            line = line or key.resource.line_of(key.policy_attribute)
    return defects, line


def _fix(key: KmsKey, defects: list[str]) -> Optional[Fix]:
    """Rotation on, when rotation is the only defect and no input decides it; a public key
    policy is not fixed: which principals should decrypt is a person's choice."""
    rotation = key.rotation
    if rotation.value is not False or len(defects) != 1 or rotation.inputs or rotation.conditions:
        return None
    if not fixable(key.resource):
        return None
    intent = KEY_SETTINGS.set(key.resource, "rotation", True)
    return Fix(f"Turn on automatic rotation of {key.resource.address}", SAFE, (intent,)) if intent else None
