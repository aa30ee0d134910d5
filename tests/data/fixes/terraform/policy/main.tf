data "aws_iam_policy_document" "producer" {
  statement {
    sid       = "Describe"
    actions   = ["kinesis:DescribeStreamSummary"]
    resources = ["*"]
  }

  statement {
    sid       = "Write"
    actions   = ["kinesis:*"] # far too much
    resources = ["arn:aws:kinesis:eu-west-1:111122223333:stream/orders"]
  }
}

resource "aws_iam_policy" "producer" {
  name   = "producer"
  policy = data.aws_iam_policy_document.producer.json
}

resource "aws_kinesis_stream" "orders" {
  name        = "orders"
  shard_count = 1
}
