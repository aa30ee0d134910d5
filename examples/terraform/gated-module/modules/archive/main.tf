resource "aws_kinesis_stream" "archive" {
  name            = "archive"
  shard_count     = 1
  encryption_type = "NONE"
}
