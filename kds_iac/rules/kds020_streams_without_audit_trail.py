"""Kinesis streams in a scope that no CloudTrail trail audits.

## What it does
Reports every Kinesis data stream of the scan when the scope (what was scanned together:
the directory given to `kds-iac scan` or `checkov -d`; for a single file, its directory)
creates no CloudTrail trail (Terraform `aws_cloudtrail`, CloudFormation
`AWS::CloudTrail::Trail`) and no CloudTrail Lake event data store
(`aws_cloudtrail_event_data_store`, `AWS::CloudTrail::EventDataStore`), and the project's
settings do not declare an organization trail defined elsewhere. A trail written behind a
condition that is off with input defaults (Terraform `count = var.enabled ? 1 : 0`,
CloudFormation `Condition:`) counts as absent; the message names the input that turns it on.

Many organizations run one organization trail from a separate repository. Declare it in
`[tool.kds-iac]` (`pyproject.toml`) or `.kds-iac.yaml`, with a reference a reviewer can
follow:

```toml
[tool.kds-iac]
organization-trail = "arn:aws:cloudtrail:us-east-1:111122223333:trail/org-audit (repo acme/org-audit)"
```

With it the rule passes and the report header says which trail covers the scope and where
that was declared. Whether the trails that exist are effective is KDS021's question.

## Why is this bad?
Kinesis records its control-plane calls (`CreateStream`, `StopStreamEncryption`,
`PutResourcePolicy`, `DeleteStream`, ...) only through CloudTrail. Without a trail, the
90-day event history is all there is: no copy you keep, nothing to alert on when someone
turns a stream's encryption off or opens its resource policy to another account, and no
evidence for an investigation.

## Remediation
Create a multi-region trail in the same scope, or declare the organization trail that
already records the account (see above):

```hcl
resource "aws_cloudtrail" "audit" {
  name                          = "audit"
  s3_bucket_name                = aws_s3_bucket.audit_logs.id
  is_multi_region_trail         = true
  enable_log_file_validation    = true
  kms_key_id                    = aws_kms_key.audit.arn
}
```

```yaml
AuditTrail:
  Type: AWS::CloudTrail::Trail
  Properties:
    IsLogging: true
    IsMultiRegionTrail: true
    EnableLogFileValidation: true
    KMSKeyId: !Ref AuditKey
    S3BucketName: !Ref AuditLogBucket
```

## References
- https://docs.aws.amazon.com/streams/latest/dev/logging-using-cloudtrail.html
- https://docs.aws.amazon.com/awscloudtrail/latest/userguide/creating-trail-organization.html
- https://docs.aws.amazon.com/securityhub/latest/userguide/cloudtrail-controls.html
- https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/cloudtrail
"""

from __future__ import annotations

from typing import Iterator

from kds_iac.model import Model
from kds_iac.rules.base import AroundAddress, Examples, Finding, Rule, Severity
from kds_iac.views.cloudtrail import audit, scope_name
from kds_iac.views.kinesis import STREAM_TYPES

RULE = Rule(
    id="KDS020",
    checkov_id="CKV_KDS_20",
    severity=Severity.MEDIUM,
    title="Kinesis streams in a scope that no CloudTrail trail audits",
    resource_types=STREAM_TYPES,
    category="LOGGING",
    scope_wide=True,
)

EXAMPLES = {
    "terraform": Examples(
        bad={
            "cloudtrail-missing": {"aws_kinesis_stream.orders": 9, "aws_kinesis_stream.payments": 16},
            "cloudtrail-conditional": {"aws_kinesis_stream.orders": 24},
        },
        good=("cloudtrail-effective", "cloudtrail-sibling-module", "cloudtrail-organization", "cloudtrail-defects"),
    ),
    "cloudformation": Examples(
        bad={
            "cloudtrail-missing": {"Orders": 11, "Payments": 19},
            "cloudtrail-conditional": {"Orders": 27},
        },
        good=("cloudtrail-effective", "cloudtrail-sibling-template", "cloudtrail-organization", "cloudtrail-defects"),
    ),
}


def check(model: Model) -> Iterator[Finding]:
    scope = audit(model)
    if not scope.streams or scope.trails or scope.organization_trail:
        return
    why = f"no CloudTrail trail or event data store in scope {scope_name(model)}"
    if scope.missing:
        why += " (" + "; ".join(m.describe() for m in scope.missing) + ")"
    hint = (
        "; create a multi-region trail, or declare the organization trail that records this account"
        " with organization-trail in [tool.kds-iac] or .kds-iac.yaml"
    )
    message = AroundAddress("API calls on Kinesis stream ", f" are not audited: {why}{hint}")
    related = tuple(m.resource for m in scope.missing)
    for stream in scope.streams:
        yield Finding(RULE, stream.resource, message, related=related)
