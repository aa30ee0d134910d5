# Streams encrypted, but with the AWS managed key alias/aws/kinesis.

variable "kms_key_id" {
  description = "KMS key for the metrics stream"
  type        = string
  default     = "alias/aws/kinesis"
}

data "aws_kms_alias" "kinesis" {
  name = "alias/aws/kinesis"
}

resource "aws_kinesis_stream" "alias_name" {
  name            = "alias-name"
  shard_count     = 1
  encryption_type = "KMS"
  kms_key_id      = aws_kms_key.alias_name_key.arn
}

resource "aws_kms_key" "alias_name_key" {
  description         = "Encrypts Kinesis stream aws_kinesis_stream.alias_name"
  enable_key_rotation = true
}

resource "aws_kinesis_stream" "alias_arn" {
  name            = "alias-arn"
  shard_count     = 1
  encryption_type = "KMS"
  kms_key_id      = aws_kms_key.alias_arn_key.arn
}

resource "aws_kms_key" "alias_arn_key" {
  description         = "Encrypts Kinesis stream aws_kinesis_stream.alias_arn"
  enable_key_rotation = true
}

resource "aws_kinesis_stream" "data_lookup" {
  name            = "data-lookup"
  shard_count     = 1
  encryption_type = "KMS"
  kms_key_id      = aws_kms_key.data_lookup_key.arn
}

resource "aws_kms_key" "data_lookup_key" {
  description         = "Encrypts Kinesis stream aws_kinesis_stream.data_lookup"
  enable_key_rotation = true
}

resource "aws_kinesis_stream" "variable_default" {
  name            = "metrics"
  shard_count     = 1
  encryption_type = "KMS"
  kms_key_id      = var.kms_key_id
}
