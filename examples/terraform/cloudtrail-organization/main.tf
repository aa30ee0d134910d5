# No trail here: the organization trail declared in .kds-iac.yaml records this account's API
# calls (KDS020 passes, and the report header says so). It is not declared to record Kinesis
# data events (KDS022).

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
