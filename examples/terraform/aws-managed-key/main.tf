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
  kms_key_id      = "alias/aws/kinesis"
}

resource "aws_kinesis_stream" "alias_arn" {
  name            = "alias-arn"
  shard_count     = 1
  encryption_type = "KMS"
  kms_key_id      = "arn:aws:kms:eu-west-1:111122223333:alias/aws/kinesis"
}

resource "aws_kinesis_stream" "data_lookup" {
  name            = "data-lookup"
  shard_count     = 1
  encryption_type = "KMS"
  kms_key_id      = data.aws_kms_alias.kinesis.arn
}

resource "aws_kinesis_stream" "variable_default" {
  name            = "metrics"
  shard_count     = 1
  encryption_type = "KMS"
  kms_key_id      = var.kms_key_id
}
