# Producers and consumers that may also destroy or open up the stream (KDS006).

data "aws_iam_policy_document" "ecs_tasks_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
  }
}

data "aws_kinesis_stream" "orders" {
  name = "orders"
}

# Producer: writes records, and may delete the stream and resize it.
resource "aws_iam_role" "producer" {
  name               = "orders-producer"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

resource "aws_iam_policy" "producer_admin" {
  name = "orders-producer"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect   = "Allow"
        Action   = ["kinesis:PutRecord", "kinesis:PutRecords"]
        Resource = data.aws_kinesis_stream.orders.arn
      },
      {
        Effect   = "Allow"
        Action   = ["kinesis:DeleteStream", "kinesis:UpdateShardCount"]
        Resource = data.aws_kinesis_stream.orders.arn
      },
    ]
  })
}

resource "aws_iam_role_policy_attachment" "producer_admin" {
  role       = aws_iam_role.producer.name
  policy_arn = aws_iam_policy.producer_admin.arn
}

# Consumer: reads records, and may shorten the retention (an inline policy of the role).
resource "aws_iam_role" "consumer" {
  name               = "orders-consumer"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json

  inline_policy {
    name = "consume-orders"
    policy = jsonencode({
      Version = "2012-10-17"
      Statement = [{
        Effect   = "Allow"
        Action   = ["kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:DecreaseStreamRetentionPeriod"]
        Resource = data.aws_kinesis_stream.orders.arn
      }]
    })
  }
}

# The deployment role manages the stream but neither writes nor reads records: not reported.
resource "aws_iam_role" "deployer" {
  name               = "orders-deployer"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

resource "aws_iam_role_policy" "deployer" {
  name = "manage-orders-stream"
  role = aws_iam_role.deployer.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["kinesis:DeleteStream", "kinesis:UpdateShardCount", "kinesis:DecreaseStreamRetentionPeriod"]
      Resource = data.aws_kinesis_stream.orders.arn
    }]
  })
}
