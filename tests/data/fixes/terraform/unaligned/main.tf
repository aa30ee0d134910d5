# Written by hand: one space before every "=".
resource "aws_kinesis_stream" "events" {
  name = "events"
  shard_count = 1
}
