# Streams that store records unencrypted, each in its own way.

variable "encryption_type" {
  description = "Server-side encryption for the audit stream"
  type        = string
  default     = "NONE"
}

variable "kms_key_id" {
  description = "KMS key for the orders stream; leaving it null disables encryption"
  type        = string
  default     = null
}

resource "aws_kinesis_stream" "plain" {
  name            = "plain"
  shard_count     = 1
  encryption_type = "KMS"
  kms_key_id      = aws_kms_key.plain_key.arn
}

resource "aws_kms_key" "plain_key" {
  description         = "Encrypts Kinesis stream aws_kinesis_stream.plain"
  enable_key_rotation = true
}

resource "aws_kinesis_stream" "explicitly_none" {
  name            = "explicitly-none"
  shard_count     = 1
  encryption_type = "KMS"
  kms_key_id      = aws_kms_key.explicitly_none_key.arn
}

resource "aws_kms_key" "explicitly_none_key" {
  description         = "Encrypts Kinesis stream aws_kinesis_stream.explicitly_none"
  enable_key_rotation = true
}

resource "aws_kinesis_stream" "from_variable" {
  name            = "audit"
  shard_count     = 1
  encryption_type = var.encryption_type
}

resource "aws_kinesis_stream" "optional_key" {
  name            = "orders"
  shard_count     = 1
  encryption_type = var.kms_key_id == null ? "NONE" : "KMS"
  kms_key_id      = var.kms_key_id
}

resource "aws_kinesis_stream" "suppressed" {
  #checkov:skip=CKV_KDS_1:Holds only synthetic load-test data
  name        = "load-test"
  shard_count = 1
}
