"""Firehose writes a Kinesis stream's records to S3 without SSE-KMS.

## What it does
Reports a Firehose delivery stream whose source is a Kinesis data stream
(`kinesis_source_configuration` / `KinesisStreamSourceConfiguration`) and that writes
objects to an S3 bucket of the scan (its S3 destination, a Redshift destination's staging
bucket, or the S3 backup of any destination) that are not encrypted with SSE-KMS. Objects get SSE-KMS when either

- the delivery stream's S3 configuration names a KMS key (Terraform `kms_key_arn`,
  CloudFormation `EncryptionConfiguration.KMSEncryptionConfig.AWSKMSKeyARN`), or
- the bucket's default encryption is `aws:kms` or `aws:kms:dsse` (Terraform
  `aws_s3_bucket_server_side_encryption_configuration` or the bucket's inline
  `server_side_encryption_configuration`; CloudFormation `BucketEncryption`).

Every S3 bucket has SSE-S3 (`AES256`) encryption by default since January 2023; this rule
asks for SSE-KMS, so a bucket left at that default is reported. An extended S3 or Redshift
destination's `s3_backup_configuration` / `S3BackupConfiguration` counts only when
`s3_backup_mode` / `S3BackupMode` is `Enabled`.
Firehose's own server-side encryption (`server_side_encryption`,
`DeliveryStreamEncryptionConfigurationInput`) protects only Direct PUT sources; it is
neither required nor accepted here (with a Kinesis source, the stream's encryption applies
instead). The finding sits on the delivery stream, at its destination block: that is where
a key can be named, whatever the bucket does. Buckets outside the scan, and keys or
algorithms that come from inputs without defaults, are not reported; inputs that decide a
finding are named with their defaults.

## Why is this bad?
Firehose copies every record of the stream into S3 objects that are kept far longer than
the stream's retention. With SSE-S3 the objects can be read by anyone who may read the
bucket; with SSE-KMS reading them also takes `kms:Decrypt` on a key whose policy you
control, and every use of the key is logged in CloudTrail, as it is for the stream
encrypted with KMS upstream.

## Remediation
Name a key in the delivery stream, or make SSE-KMS the bucket's default:

```hcl
resource "aws_kinesis_firehose_delivery_stream" "archive" {
  # ...
  extended_s3_configuration {
    role_arn    = aws_iam_role.firehose.arn
    bucket_arn  = aws_s3_bucket.archive.arn
    kms_key_arn = aws_kms_key.archive.arn
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "archive" {
  bucket = aws_s3_bucket.archive.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.archive.arn
    }
  }
}
```

```yaml
ExtendedS3DestinationConfiguration:
  BucketARN: !GetAtt Archive.Arn
  RoleARN: !GetAtt FirehoseRole.Arn
  EncryptionConfiguration:
    KMSEncryptionConfig:
      AWSKMSKeyARN: !GetAtt ArchiveKey.Arn
```

## Fix
When exactly one customer managed key of the delivery stream's Terraform module or
CloudFormation template is fit to use (created with the input defaults, enabled, rotation
on, key policy not open to everyone), a fix names it in each S3 configuration that writes
without SSE-KMS (`kms_key_arn`, `EncryptionConfiguration.KMSEncryptionConfig.AWSKMSKeyARN`).
Firehose then writes as the configuration's role (`role_arn` / `RoleARN`), which needs
`kms:GenerateDataKey` on the key: the fix is safe when that role, if it is a role of the scan,
is granted it (an IAM statement on the key, `*` or every key ARN where the key policy lets IAM
decide, or the key policy naming the role), else unsafe, its title naming the role. A role
given by an input or defined elsewhere is not judged. No fix without exactly one such key,
when an input decides the setting, or where a configuration writes `NoEncryptionConfig`.

## References
- https://docs.aws.amazon.com/firehose/latest/dev/encryption.html
- https://docs.aws.amazon.com/AmazonS3/latest/userguide/default-bucket-encryption.html
- https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/kinesis_firehose_delivery_stream
- https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-kinesisfirehose-deliverystream-encryptionconfiguration.html
"""

from __future__ import annotations

from typing import Iterator, Optional

from kds_iac.fixes import SAFE, UNSAFE, Fix
from kds_iac.model import Model, Resource
from kds_iac.rules._key_fixes import WRITE_KEY, keyed_fix, role_users
from kds_iac.rules.base import Examples, Finding, Rule, Severity
from kds_iac.views.compute import DELIVERY_STREAM_TYPES, StreamSource, delivery_streams, role_of
from kds_iac.views.storage import S3_DELIVERY_SETTINGS, S3Delivery, delivery_kms, s3_deliveries

RULE = Rule(
    id="KDS016",
    checkov_id="CKV_KDS_16",
    severity=Severity.MEDIUM,
    title="Firehose writes a Kinesis stream's records to S3 without SSE-KMS",
    resource_types=DELIVERY_STREAM_TYPES,
    category="ENCRYPTION",
    formats=("terraform", "cloudformation", "serverless"),
    fixes=(SAFE, UNSAFE),
)

EXAMPLES = {
    "terraform": Examples(
        bad={
            "datapath-firehose-s3": {
                "aws_kinesis_firehose_delivery_stream.sse_s3_bucket": 100,
                "aws_kinesis_firehose_delivery_stream.backup_unencrypted": 114,
                "aws_kinesis_firehose_delivery_stream.inline_aes256": 134,
            }
        },
        good=("roles-readers-granted", "customer-managed-key"),
    ),
    "cloudformation": Examples(
        bad={"datapath-firehose-s3.yaml": {"SseS3Bucket": 65, "NoEncryptionDelivery": 77}},
        good=("roles-readers-granted.yaml", "customer-managed-key.yaml"),
    ),
    "serverless": Examples(
        bad={
            "shared-streams": {"ClicksArchive": 13},
        },
        good=("service-good",),
    ),
}


def check(model: Model) -> Iterator[Finding]:
    for delivery_stream in delivery_streams(model):
        resource = delivery_stream.resource
        problems: list[str] = []
        line = None
        related = []
        unencrypted: list[S3Delivery] = []
        for delivery in s3_deliveries(resource, model):
            kms, fact, bucket_encryption = delivery_kms(delivery, model)
            if kms is not False:
                continue
            bucket = delivery.bucket.value
            if bucket_encryption is not None and bucket_encryption.algorithm.value == "AES256":
                default = "SSE-S3 (AES256)"
            else:
                default = str(fact.value)
            what = f"its {delivery.role} (bucket {bucket.address}) names no KMS key and the bucket's default encryption is {default}"
            if delivery.encryption_disabled:
                what = what.replace("names no KMS key", "sets NoEncryption")
            provenance = fact.provenance() or delivery.kms_key.provenance()
            if provenance:
                what += f" with input defaults; decided by {provenance}"
            problems.append(what)
            unencrypted.append(delivery)
            related.append(bucket)
            line = line or resource.line_of(delivery.setting)
        if problems:
            source = delivery_stream.source.value
            reads = source.describe() if isinstance(source, StreamSource) else "stream"
            yield Finding(
                RULE,
                resource,
                f"Firehose delivery stream {resource.address} reads Kinesis {reads}"
                f" and writes objects without SSE-KMS: {'; '.join(problems)}",
                line=line,
                related=tuple(related),
                fix=_fix(resource, unencrypted, model),
            )


def _fix(resource: Resource, deliveries: list[S3Delivery], model: Model) -> Optional[Fix]:
    """The KMS key of each S3 configuration that writes without SSE-KMS, set to the one fit
    customer managed key of the module or template. None when an input decides a setting,
    where a configuration asks for no encryption (the key would contradict it), or without
    exactly one such key."""
    if any(d.kms_key.inputs or d.kms_key.conditions or d.encryption_disabled for d in deliveries):
        return None
    return keyed_fix(
        model,
        resource,
        f"Encrypt the objects of {resource.address}",
        lambda link: tuple(S3_DELIVERY_SETTINGS.set(resource, "key", link, within=d.setting) for d in deliveries),
        users=lambda: role_users(model, (role_of(d.writer, model).value for d in deliveries), WRITE_KEY),
    )
