variable "kms_key_id" {
  type    = string
  default = "alias/aws/kinesis"
}

locals {
  key = "alias/aws/kinesis"
}

resource "aws_kinesis_stream" "from_variable" {
  name            = "from-variable"
  shard_count     = 1
  encryption_type = "KMS"
  kms_key_id      = var.kms_key_id
}

resource "aws_kinesis_stream" "from_local" {
  name            = "from-local"
  shard_count     = 1
  encryption_type = "KMS"
  kms_key_id      = local.key
}

resource "aws_kinesis_stream" "from_call" {
  name            = "from-call"
  shard_count     = 1
  encryption_type = "KMS"
  kms_key_id      = trimspace(" alias/aws/kinesis ")
}

resource "aws_kinesis_stream" "conditional" {
  name            = "conditional"
  shard_count     = 1
  encryption_type = var.kms_key_id == null ? "NONE" : "KMS"
}

resource "aws_kinesis_stream" "interpolated" {
  name            = "interpolated-${local.key}"
  shard_count     = 1
  encryption_type = "KMS"
  kms_key_id      = "${var.kms_key_id}"
}

resource "aws_kinesis_stream" "heredoc" {
  shard_count = 1
  name        = <<-NAME
    heredoc
  NAME
}

resource "aws_dynamodb_table" "dynamic" {
  name     = "dynamic"
  hash_key = "id"

  attribute {
    name = "id"
    type = "S"
  }

  dynamic "server_side_encryption" {
    for_each = [1]
    content {
      enabled = true
    }
  }
}

resource "aws_dynamodb_table" "two_blocks" {
  name      = "two-blocks"
  hash_key  = "id"
  range_key = "at"

  attribute {
    name = "id"
    type = "S"
  }

  attribute {
    name = "at"
    type = "N"
  }
}

resource "aws_kinesis_firehose_delivery_stream" "object" {
  name        = "object"
  destination = "extended_s3"

  extended_s3_configuration {
    role_arn   = "arn:aws:iam::111122223333:role/firehose"
    bucket_arn = "arn:aws:s3:::archive"
  }

  tags = {
    team = "data"
  }
}

data "aws_iam_policy_document" "commented" {
  statement {
    actions = [
      "kinesis:PutRecord", # the producer's
      "kinesis:DeleteStream",
    ]
    resources = ["*"]
  }
}
