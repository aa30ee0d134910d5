# Wildcards in every form a policy comes in: KDS004 (wildcard actions), KDS005 (every
# stream) and KDS007 (NotAction / NotResource).

variable "stream_name" {
  description = "Stream the app may read; the default lets it read every stream"
  type        = string
  default     = "*"
}

data "aws_iam_policy_document" "lambda_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "app" {
  name               = "app"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
}

data "aws_kinesis_stream" "orders" {
  name = "orders"
}

# jsonencode: kinesis:* on every resource (KDS004 and KDS005)
resource "aws_iam_policy" "kinesis_star" {
  name = "kinesis-star"
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "kinesis:*", Resource = "*" }]
  })
}

resource "aws_iam_role_policy_attachment" "kinesis_star" {
  role       = aws_iam_role.app.name
  policy_arn = aws_iam_policy.kinesis_star.arn
}

# heredoc JSON: kinesis:Put* takes in kinesis:PutResourcePolicy (KDS004)
resource "aws_iam_role_policy" "put_star" {
  name   = "put-star"
  role   = aws_iam_role.app.id
  policy = <<-POLICY
    {
      "Version": "2012-10-17",
      "Statement": [
        {
          "Effect": "Allow",
          "Action": "kinesis:Put*",
          "Resource": "${data.aws_kinesis_stream.orders.arn}"
        }
      ]
    }
  POLICY
}

# a policy document that pulls in another through source_policy_documents:
# "*" on "*" (KDS004 and KDS005)
data "aws_iam_policy_document" "admin" {
  statement {
    sid       = "Everything"
    actions   = ["*"]
    resources = ["*"]
  }
}

data "aws_iam_policy_document" "with_admin" {
  source_policy_documents = [data.aws_iam_policy_document.admin.json]
  statement {
    sid       = "Describe"
    actions   = ["kinesis:DescribeStreamSummary"]
    resources = [data.aws_kinesis_stream.orders.arn]
  }
}

resource "aws_iam_policy" "admin_from_document" {
  name   = "admin-from-document"
  policy = data.aws_iam_policy_document.with_admin.json
}

# file(): kinesis:* on one stream (KDS004) and NotAction (KDS007)
resource "aws_iam_policy" "from_file" {
  name   = "from-file"
  policy = file("${path.module}/policies/not-action.json")
}

# every stream by pattern (KDS005); kinesis:ListStreams on "*" is fine
resource "aws_iam_role_policy" "read_every_stream" {
  name = "read-every-stream"
  role = aws_iam_role.app.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      { Effect = "Allow", Action = "kinesis:ListStreams", Resource = "*" },
      {
        Effect   = "Allow"
        Action   = ["kinesis:GetRecords", "kinesis:GetShardIterator"]
        Resource = "arn:aws:kinesis:*:*:stream/*"
      },
    ]
  })
}

# templatefile(): the stream name comes from var.stream_name, whose default is "*" (KDS005)
resource "aws_iam_policy" "from_template" {
  name   = "from-template"
  policy = templatefile("${path.module}/policies/read-stream.json.tpl", { stream_name = var.stream_name })
}

# not_resources with Kinesis actions (KDS007)
resource "aws_iam_group" "ops" {
  name = "ops"
}

data "aws_iam_policy_document" "not_resource" {
  statement {
    actions       = ["kinesis:DescribeStreamSummary", "kinesis:ListShards"]
    not_resources = ["arn:aws:kinesis:*:*:stream/payments"]
  }
}

resource "aws_iam_group_policy" "not_resource" {
  name   = "all-but-payments"
  group  = aws_iam_group.ops.name
  policy = data.aws_iam_policy_document.not_resource.json
}
