variable "name" {
  type = string
}

resource "aws_kms_key" "plain" {
  description         = "plain"
  enable_key_rotation = true
}

resource "aws_kms_key" "counted" {
  count               = 1
  description         = "counted"
  enable_key_rotation = true
}

resource "aws_kinesis_stream" "this" {
  name        = var.name
  shard_count = 1
}
