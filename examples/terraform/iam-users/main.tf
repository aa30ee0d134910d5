# Producers and consumers as IAM users with access keys (KDS010, KDS011).

data "aws_kinesis_stream" "orders" {
  name = "orders"
}

# A user with an inline policy and an access key whose secret is an output.
resource "aws_iam_user" "producer" {
  name = "orders-producer"
}

resource "aws_iam_user_policy" "producer" {
  name = "produce-orders"
  user = aws_iam_user.producer.name
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = ["kinesis:PutRecord", "kinesis:PutRecords"], Resource = data.aws_kinesis_stream.orders.arn }]
  })
}

resource "aws_iam_access_key" "producer" {
  user = aws_iam_user.producer.name
}

output "producer_secret_access_key" {
  value     = aws_iam_access_key.producer.secret
  sensitive = true
}

# A user that reads through its group.
resource "aws_iam_group" "consumers" {
  name = "orders-consumers"
}

resource "aws_iam_group_policy" "consumers" {
  name  = "consume-orders"
  group = aws_iam_group.consumers.name
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = ["kinesis:GetRecords", "kinesis:GetShardIterator"], Resource = data.aws_kinesis_stream.orders.arn }]
  })
}

resource "aws_iam_user" "in_group" {
  name = "orders-consumer"
}

resource "aws_iam_user_group_membership" "in_group" {
  user   = aws_iam_user.in_group.name
  groups = [aws_iam_group.consumers.name]
}

resource "aws_iam_access_key" "in_group" {
  user = aws_iam_user.in_group.name
}

# A user created elsewhere, given Kinesis permissions here.
resource "aws_iam_user_policy" "outside_user" {
  name = "produce-orders"
  user = "legacy-producer"
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "kinesis:PutRecord", Resource = data.aws_kinesis_stream.orders.arn }]
  })
}
