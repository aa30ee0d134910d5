# The trail exists only when var.enabled is true, and it defaults to false: with input
# defaults the scope has no trail (KDS020 names the input that creates it; KDS022).

variable "enabled" {
  description = "Create the audit trail"
  type        = bool
  default     = false
}

resource "aws_cloudtrail" "audit" {
  count                      = var.enabled ? 1 : 0
  name                       = "audit"
  s3_bucket_name             = "acme-audit-logs"
  is_multi_region_trail      = true
  enable_log_file_validation = true
  kms_key_id                 = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
}

resource "aws_kms_key" "streams" {
  description         = "Kinesis streams"
  enable_key_rotation = true
}

resource "aws_kinesis_stream" "orders" {
  name            = "orders"
  shard_count     = 1
  encryption_type = "KMS"
  kms_key_id      = aws_kms_key.streams.arn
}
