# Settings written as literals, laid out as terraform fmt does.

resource "aws_kms_key" "stream" {
  description         = "stream key"
  enable_key_rotation = false # off until the team says otherwise
}

resource "aws_kinesis_stream" "events" {
  name        = "events"
  shard_count = 1

  tags = {
    team = "data"
  }
}

resource "aws_kinesis_stream" "orders" {
  name = "orders" # the only attribute
}

resource "aws_kms_key" "empty" {}

resource "aws_kinesis_stream" "inline" { name = "inline" }

resource "aws_kinesis_stream" "templated" {
  name            = "templated"
  shard_count     = 1
  encryption_type = "KMS"
  kms_key_id      = "${aws_kms_key.stream.arn}"
}
