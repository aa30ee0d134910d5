resource "aws_kinesis_stream" "broken" {
  name = "broken"
  shard_count = = 1
}
