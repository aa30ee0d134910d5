# Streams that ask for KMS without naming a key: AWS rejects them, and as written nothing
# is encrypted.

variable "orders_key_arn" {
  description = "KMS key of the orders stream; left empty, the stream has no key"
  type        = string
  default     = ""
}

resource "aws_kms_key" "streams" {
  description         = "Kinesis streams"
  enable_key_rotation = true
}

resource "aws_kinesis_stream" "no_key_id" {
  name            = "no-key-id"
  shard_count     = 1
  encryption_type = "KMS"
  kms_key_id      = aws_kms_key.streams.arn
}

resource "aws_kinesis_stream" "orders" {
  name            = "orders"
  shard_count     = 1
  encryption_type = "KMS"
  kms_key_id      = var.orders_key_arn
}

resource "aws_kinesis_stream" "with_key" {
  name            = "with-key"
  shard_count     = 1
  encryption_type = "KMS"
  kms_key_id      = aws_kms_key.streams.arn
}
