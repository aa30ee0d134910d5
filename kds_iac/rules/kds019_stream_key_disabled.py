"""Kinesis stream is encrypted with a KMS key that is disabled.

## What it does
Reports a customer managed KMS key of the scan that encrypts a Kinesis data stream and is
disabled: Terraform `aws_kms_key` with `is_enabled = false`, CloudFormation
`AWS::KMS::Key` with `Enabled: false`. Keys are enabled by default. The finding sits on the
key, at its `is_enabled` / `Enabled` line, and names every stream that uses it. When the
setting comes from a variable or a parameter, the finding names it and its default; an
input without a default is not reported.

## Why is this bad?
Kinesis calls KMS on every write and read of an encrypted stream. With the key disabled,
`PutRecord`/`PutRecords` fail with `KMSDisabledException`, so producers lose or pile up
data, and the records already stored cannot be decrypted by any consumer until the key is
enabled again. A disabled stream key is an outage of the whole data path, written into the
template.

## Remediation
Enable the key (remove the setting, or set it to true):

```hcl
resource "aws_kms_key" "streams" {
  description         = "Kinesis streams"
  enable_key_rotation = true
  is_enabled          = true
}
```

```yaml
StreamsKey:
  Type: AWS::KMS::Key
  Properties:
    EnableKeyRotation: true
    Enabled: true
```

To retire a key, first re-encrypt the stream with another key (`kms_key_id` /
`StreamEncryption.KeyId`), then disable the old one.

## References
- https://docs.aws.amazon.com/streams/latest/dev/server-side-encryption.html
- https://docs.aws.amazon.com/kms/latest/developerguide/enabling-keys.html
- https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/kms_key#is_enabled
- https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-kms-key.html
"""

from __future__ import annotations

from typing import Iterator

from kds_iac.model import Model
from kds_iac.rules.base import Examples, Finding, Rule, Severity
from kds_iac.views.kinesis import stream_keys
from kds_iac.views.kms import KEY_TYPES

RULE = Rule(
    id="KDS019",
    checkov_id="CKV_KDS_19",
    severity=Severity.HIGH,
    title="Kinesis stream is encrypted with a KMS key that is disabled",
    resource_types=KEY_TYPES,
    category="ENCRYPTION",
    formats=("terraform", "cloudformation", "serverless"),
)

EXAMPLES = {
    "terraform": Examples(
        bad={"datapath-disabled-key": {"aws_kms_key.disabled": 30, "aws_kms_key.switched_off": 38}},
        good=("customer-managed-key", "weak-customer-key", "aws-managed-key"),
    ),
    "cloudformation": Examples(
        bad={"datapath-disabled-key.yaml": {"DisabledKey": 17, "SwitchedOffKey": 34}},
        good=("customer-managed-key.yaml", "weak-customer-key.yaml"),
    ),
    "serverless": Examples(
        bad={
            "stream-keys": {"DisabledKey": 54},
        },
        good=("service-good",),
    ),
}


def check(model: Model) -> Iterator[Finding]:
    for key, encrypted in stream_keys(model):
        if key.enabled.value is not False:
            continue
        setting = key.enabled_setting
        why = f"{setting} is false"
        provenance = key.enabled.provenance()
        if provenance:
            why += f" with input defaults; decided by {provenance}"
        used_by = ", ".join(sorted({s.address for s in encrypted}))
        yield Finding(
            RULE,
            key.resource,
            f"KMS key {key.resource.address} encrypts Kinesis stream {used_by} but is disabled ({why}):"
            " writes to the stream fail and stored records cannot be read",
            line=key.resource.line_of(setting),
        )
