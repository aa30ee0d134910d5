"""CloudTrail log bucket of the scope's streams is public or its logs lack KMS encryption.

## What it does
For each trail of a scope that holds Kinesis data streams, follows the trail's log bucket
(`s3_bucket_name` / `S3BucketName`, through references or by name) to a bucket of the scan
and reports:

- **public access**: a public canned ACL (`public-read`, `public-read-write`,
  `authenticated-read`; CloudFormation `AccessControl: PublicRead`, ...) on the bucket or
  an `aws_s3_bucket_acl`, or a bucket policy statement (`aws_s3_bucket_policy`, the bucket's
  inline `policy`, `AWS::S3::BucketPolicy`) that allows any principal (`*`) without a
  condition pinning the caller's account, organization or network, unless the bucket's
  public access block (`aws_s3_bucket_public_access_block`,
  `PublicAccessBlockConfiguration`) neutralizes it. The finding sits on the resource that
  grants the access.
- **no KMS encryption of the logs**: the trail names no KMS key and the bucket's default
  encryption is not SSE-KMS, so log files are stored with S3-managed keys only. The
  finding sits on the bucket's encryption setting (or the bucket, when none is written).

Buckets outside the scan are not reported; an account-level public access block cannot be
seen in a template.

## Why is this bad?
CloudTrail logs record every call on the streams, with caller identities, source addresses
and request parameters: a public log bucket hands that map of the account to anyone.
Encrypting log files with a KMS key adds a second gate (`kms:Decrypt`) to reading them and
logs every read.

## Remediation
Keep the bucket private and encrypt the logs with a KMS key, on the trail (`kms_key_id` /
`KMSKeyId`) or as the bucket's default:

```hcl
resource "aws_s3_bucket_public_access_block" "audit_logs" {
  bucket                  = aws_s3_bucket.audit_logs.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "audit_logs" {
  bucket = aws_s3_bucket.audit_logs.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.audit.arn
    }
  }
}
```

```yaml
AuditLogBucket:
  Type: AWS::S3::Bucket
  Properties:
    PublicAccessBlockConfiguration:
      BlockPublicAcls: true
      BlockPublicPolicy: true
      IgnorePublicAcls: true
      RestrictPublicBuckets: true
    BucketEncryption:
      ServerSideEncryptionConfiguration:
        - ServerSideEncryptionByDefault:
            SSEAlgorithm: aws:kms
            KMSMasterKeyID: !Ref AuditKey
```

## References
- https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-s3-bucket-policy-for-cloudtrail.html
- https://docs.aws.amazon.com/awscloudtrail/latest/userguide/encrypting-cloudtrail-log-files-with-aws-kms.html
- https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html
- https://docs.aws.amazon.com/securityhub/latest/userguide/s3-controls.html
"""

from __future__ import annotations

from typing import Iterator

from kds_iac.model import Model, Resource
from kds_iac.rules.base import Examples, Finding, Rule, Severity
from kds_iac.views.cloudtrail import audit
from kds_iac.views.s3_access import BUCKET_ACL_TYPES, BUCKET_POLICY_TYPES, describe, public_grants
from kds_iac.views.storage import BUCKET_SSE_TYPES, BUCKET_TYPES, bucket_encryption, bucket_of

RULE = Rule(
    id="KDS023",
    checkov_id="CKV_KDS_23",
    severity=Severity.HIGH,
    title="CloudTrail log bucket of the scope's streams is public or its logs lack KMS encryption",
    resource_types=BUCKET_TYPES + BUCKET_ACL_TYPES + BUCKET_POLICY_TYPES + BUCKET_SSE_TYPES,
    category="LOGGING",
    scope_wide=True,
)

EXAMPLES = {
    "terraform": Examples(
        bad={
            "cloudtrail-log-bucket": {
                "aws_s3_bucket_acl.public_acl": 24,
                "aws_s3_bucket_policy.public_policy": 41,
                "aws_s3_bucket.plain": 60,
            },
        },
        good=("cloudtrail-effective", "cloudtrail-sibling-module", "cloudtrail-defects"),
    ),
    "cloudformation": Examples(
        bad={"cloudtrail-log-bucket": {"PublicAclBucket": 22, "PublicPolicy": 37, "PlainBucket": 52}},
        good=("cloudtrail-effective", "cloudtrail-sibling-template", "cloudtrail-defects"),
    ),
}


def check(model: Model) -> Iterator[Finding]:
    scope = audit(model)
    if not scope.streams:
        return
    seen: set[tuple[int, int, str]] = set()
    for trail in scope.trails:
        if trail.is_store:
            continue
        bucket = bucket_of(trail.bucket, model).value
        if not isinstance(bucket, Resource):
            continue
        for grant in public_grants(bucket, model):
            key = (id(grant.resource), grant.line, "public")
            if key not in seen:
                seen.add(key)
                yield Finding(
                    RULE,
                    grant.resource,
                    f"CloudTrail log bucket {bucket.address} of trail {trail.address} is public: {describe(grant)};"
                    " the logs of every call on the scope's Kinesis streams can be read from outside the account",
                    line=grant.line,
                    related=(trail.resource,),
                )
        encryption = bucket_encryption(bucket, model)
        if trail.kms_key.absent and encryption.kms is False:
            key = (id(encryption.written_on), encryption.line, "encryption")
            if key in seen:
                continue
            seen.add(key)
            provenance = encryption.algorithm.provenance()
            decided = f" (decided by {provenance})" if provenance else ""
            yield Finding(
                RULE,
                encryption.written_on,
                f"CloudTrail log bucket {bucket.address} keeps the logs of trail {trail.address} with S3-managed keys"
                f" only: its default encryption is {encryption.algorithm.value}{decided} and the trail names no KMS key",
                line=encryption.line,
                related=(trail.resource,),
            )
