# Roles that only AWS services assume: CloudWatch Logs writes a log group's events into a
# stream, Firehose reads the stream into a bucket. What each service calls is documented, so
# KDS004 and KDS005 offer fixes that narrow the wildcard grants below to exactly that.

data "aws_caller_identity" "current" {}

resource "aws_kms_key" "streams" {
  description         = "Kinesis streams and their archive"
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

resource "aws_kinesis_stream" "app_logs" {
  name            = "app-logs"
  shard_count     = 1
  encryption_type = "KMS"
  kms_key_id      = aws_kms_key.streams.arn
}

# CloudWatch Logs -> stream: the service calls kinesis:PutRecord with this role.
resource "aws_cloudwatch_log_group" "app" {
  name = "/app/web"
}

data "aws_iam_policy_document" "logs_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["logs.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "logs_to_stream" {
  name               = "logs-to-stream"
  assume_role_policy = data.aws_iam_policy_document.logs_assume.json
}

data "aws_iam_policy_document" "logs_to_stream" {
  # every Kinesis action on every stream (KDS004, KDS005)
  statement {
    actions   = ["kinesis:PutRecord", "kinesis:PutRecords"]
    resources = [aws_kinesis_stream.app_logs.arn]
  }
}

resource "aws_iam_role_policy" "logs_to_stream" {
  name   = "logs-to-stream"
  role   = aws_iam_role.logs_to_stream.id
  policy = data.aws_iam_policy_document.logs_to_stream.json
}

resource "aws_cloudwatch_log_subscription_filter" "app" {
  name            = "app-to-stream"
  log_group_name  = aws_cloudwatch_log_group.app.name
  filter_pattern  = ""
  destination_arn = aws_kinesis_stream.app_logs.arn
  role_arn        = aws_iam_role.logs_to_stream.arn
}

# stream -> Firehose -> bucket: the service reads the stream with this role.
resource "aws_s3_bucket" "archive" {
  bucket = "app-logs-archive"
}

data "aws_iam_policy_document" "firehose_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["firehose.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "archive" {
  name               = "app-logs-archive"
  assume_role_policy = data.aws_iam_policy_document.firehose_assume.json
}

data "aws_iam_policy_document" "archive" {
  statement {
    sid       = "WriteArchive"
    actions   = ["s3:PutObject", "s3:GetBucketLocation"]
    resources = [aws_s3_bucket.archive.arn, "${aws_s3_bucket.archive.arn}/*"]
  }
  # every Kinesis action on the stream (KDS004)
  statement {
    sid       = "ReadStream"
    actions   = ["kinesis:DescribeStream", "kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:ListShards"]
    resources = [aws_kinesis_stream.app_logs.arn]
  }
}

resource "aws_iam_role_policy" "archive" {
  name   = "app-logs-archive"
  role   = aws_iam_role.archive.id
  policy = data.aws_iam_policy_document.archive.json
}

resource "aws_kinesis_firehose_delivery_stream" "archive" {
  name        = "app-logs-archive"
  destination = "extended_s3"
  kinesis_source_configuration {
    kinesis_stream_arn = aws_kinesis_stream.app_logs.arn
    role_arn           = aws_iam_role.archive.arn
  }
  extended_s3_configuration {
    role_arn    = aws_iam_role.archive.arn
    bucket_arn  = aws_s3_bucket.archive.arn
    kms_key_arn = aws_kms_key.streams.arn
  }
}
