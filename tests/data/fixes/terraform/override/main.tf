resource "aws_kinesis_stream" "events" {
  name        = "events"
  shard_count = 1
}

resource "aws_kinesis_stream" "orders" {
  name        = "orders"
  shard_count = 1
}
