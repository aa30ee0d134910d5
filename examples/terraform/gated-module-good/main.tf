# The same module shape done right: gated blocks that, when created, give a producer a role
# with only PutRecord(s) on its own streams, and streams encrypted with a customer managed key.

variable "create_producer_role" {
  type    = bool
  default = false
}

variable "streams" {
  type    = map(object({ shard_count = number }))
  default = {}
}

resource "aws_kms_key" "streams" {
  count               = length(var.streams) > 0 ? 1 : 0
  description         = "Kinesis streams of this module"
  enable_key_rotation = true
}

resource "aws_kinesis_stream" "this" {
  for_each        = var.streams
  name            = each.key
  shard_count     = each.value.shard_count
  encryption_type = "KMS"
  kms_key_id      = aws_kms_key.streams[0].arn
}

resource "aws_iam_role" "producer" {
  count = var.create_producer_role ? 1 : 0
  name  = "stream-producer"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "ecs-tasks.amazonaws.com" } }]
  })
}

resource "aws_iam_role_policy" "producer" {
  count = var.create_producer_role ? 1 : 0
  name  = "put-records"
  role  = aws_iam_role.producer[0].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["kinesis:PutRecord", "kinesis:PutRecords"]
      Resource = [for s in aws_kinesis_stream.this : s.arn]
    }]
  })
}
