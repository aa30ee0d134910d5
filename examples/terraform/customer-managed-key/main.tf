# Streams encrypted with a customer managed key that rotates and has an account-scoped policy.

data "aws_caller_identity" "current" {}

locals {
  partitions = ["a", "b"]
}

resource "aws_kms_key" "streams" {
  description         = "Kinesis streams"
  enable_key_rotation = true
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AccountAdministration"
        Effect    = "Allow"
        Principal = { AWS = "arn:aws:iam::${data.aws_caller_identity.current.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        Sid       = "OrganizationProducers"
        Effect    = "Allow"
        Principal = { AWS = "*" }
        Action    = ["kms:Decrypt", "kms:GenerateDataKey"]
        Resource  = "*"
        Condition = { StringEquals = { "aws:PrincipalOrgID" = "o-exampleorgid" } }
      }
    ]
  })
}

resource "aws_kms_alias" "streams" {
  name          = "alias/streams"
  target_key_id = aws_kms_key.streams.key_id
}

resource "aws_kinesis_stream" "by_arn" {
  name            = "by-arn"
  shard_count     = 1
  encryption_type = "KMS"
  kms_key_id      = aws_kms_key.streams.arn
}

resource "aws_kinesis_stream" "by_alias" {
  name            = "by-alias"
  shard_count     = 1
  encryption_type = "KMS"
  kms_key_id      = aws_kms_alias.streams.name
}

resource "aws_kinesis_stream" "partitioned" {
  for_each        = toset(local.partitions)
  name            = "partition-${each.key}"
  shard_count     = 1
  encryption_type = "KMS"
  kms_key_id      = aws_kms_key.streams.arn
}

# Not used by any stream: its settings are not this tool's concern.
resource "aws_kms_key" "unrelated" {
  description = "Used by another team for S3"
}
