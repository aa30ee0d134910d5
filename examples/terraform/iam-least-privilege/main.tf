# Least-privilege grants for a producer, a consumer and an auditor of Kinesis streams:
# every kds-iac IAM rule stays silent here.

data "aws_caller_identity" "current" {}

resource "aws_kms_key" "streams" {
  description         = "Kinesis streams"
  enable_key_rotation = true
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "AccountAdministration"
      Effect    = "Allow"
      Principal = { AWS = "arn:aws:iam::${data.aws_caller_identity.current.account_id}:root" }
      Action    = "kms:*"
      Resource  = "*"
    }]
  })
}

resource "aws_kinesis_stream" "events" {
  name            = "events"
  shard_count     = 1
  encryption_type = "KMS"
  kms_key_id      = aws_kms_key.streams.arn
}

data "aws_kinesis_stream" "audit" {
  name = "audit"
}

data "aws_iam_policy_document" "ecs_tasks_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
  }
}

# Producer: a customer managed policy from a policy document, attached to its role.
data "aws_iam_policy_document" "producer" {
  statement {
    sid       = "ListStreams"
    actions   = ["kinesis:ListStreams"]
    resources = ["*"]
  }
  statement {
    sid       = "Produce"
    actions   = ["kinesis:PutRecord", "kinesis:PutRecords", "kinesis:DescribeStreamSummary"]
    resources = [aws_kinesis_stream.events.arn]
  }
}

resource "aws_iam_role" "producer" {
  name               = "events-producer"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json
}

resource "aws_iam_policy" "producer" {
  name   = "events-producer"
  policy = data.aws_iam_policy_document.producer.json
}

resource "aws_iam_role_policy_attachment" "producer" {
  role       = aws_iam_role.producer.name
  policy_arn = aws_iam_policy.producer.arn
}

# Consumer: an inline policy on the role, naming the stream and a name prefix.
resource "aws_iam_role" "consumer" {
  name               = "events-consumer"
  assume_role_policy = data.aws_iam_policy_document.ecs_tasks_assume.json

  inline_policy {
    name = "consume-events"
    policy = jsonencode({
      Version = "2012-10-17"
      Statement = [{
        Effect   = "Allow"
        Action   = ["kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:DescribeStreamSummary", "kinesis:ListShards"]
        Resource = [aws_kinesis_stream.events.arn, "arn:aws:kinesis:*:*:stream/events-archive-*"]
      }]
    })
  }
}

# Auditor: a policy rendered from a template file of the module.
resource "aws_iam_role_policy" "auditor" {
  name   = "read-audit-stream"
  role   = aws_iam_role.consumer.id
  policy = templatefile("${path.module}/auditor-policy.json.tpl", { stream_arn = data.aws_kinesis_stream.audit.arn })
}

# A resource policy that lets the consumer role of this account read the stream.
resource "aws_kinesis_resource_policy" "events" {
  resource_arn = aws_kinesis_stream.events.arn
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { AWS = aws_iam_role.consumer.arn }
      Action    = ["kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:DescribeStreamSummary"]
      Resource  = aws_kinesis_stream.events.arn
    }]
  })
}

# A user with an access key, but no Kinesis permissions.
resource "aws_iam_user" "reports" {
  name = "reports-uploader"
}

resource "aws_iam_user_policy" "reports" {
  name = "upload-reports"
  user = aws_iam_user.reports.name
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "s3:PutObject", Resource = "arn:aws:s3:::example-reports/*" }]
  })
}

resource "aws_iam_access_key" "reports" {
  user = aws_iam_user.reports.name
}
