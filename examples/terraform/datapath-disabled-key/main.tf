# KDS019: streams encrypted with customer managed keys that the template disables.

data "aws_caller_identity" "current" {}

variable "key_enabled" {
  description = "Switch for the archive key"
  type        = bool
  default     = false
}

locals {
  key_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AccountAdministration"
        Effect    = "Allow"
        Principal = { AWS = "arn:aws:iam::${data.aws_caller_identity.current.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*"
      }
    ]
  })
}

# Bad: disabled outright.
resource "aws_kms_key" "disabled" {
  description         = "Orders stream"
  enable_key_rotation = true
  is_enabled          = false
  policy              = local.key_policy
}

# Bad: disabled by the default of an input.
resource "aws_kms_key" "switched_off" {
  description         = "Archive stream"
  enable_key_rotation = true
  is_enabled          = var.key_enabled
  policy              = local.key_policy
}

# Good: enabled explicitly.
resource "aws_kms_key" "enabled" {
  description         = "Clicks stream"
  enable_key_rotation = true
  is_enabled          = true
  policy              = local.key_policy
}

# Not a finding: disabled, but no stream uses it.
resource "aws_kms_key" "retired" {
  description         = "Retired"
  enable_key_rotation = true
  is_enabled          = false
  policy              = local.key_policy
}

resource "aws_kinesis_stream" "orders" {
  name            = "orders"
  shard_count     = 1
  encryption_type = "KMS"
  kms_key_id      = aws_kms_key.disabled.arn
}

resource "aws_kinesis_stream" "archive" {
  name            = "archive"
  shard_count     = 1
  encryption_type = "KMS"
  kms_key_id      = aws_kms_key.switched_off.arn
}

resource "aws_kinesis_stream" "clicks" {
  name            = "clicks"
  shard_count     = 1
  encryption_type = "KMS"
  kms_key_id      = aws_kms_key.enabled.arn
}
