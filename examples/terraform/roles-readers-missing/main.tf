# Readers of a stream whose roles cannot read it.

data "aws_caller_identity" "current" {}

resource "aws_kms_key" "streams" {
  description         = "streams"
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

resource "aws_kinesis_stream" "audit" {
  name            = "audit"
  shard_count     = 1
  encryption_type = "KMS"
  kms_key_id      = aws_kms_key.streams.arn
}

data "aws_iam_policy_document" "lambda_trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

# Only logs: no Kinesis permission at all.
resource "aws_iam_role" "consumer_without_policy" {
  name               = "consumer-without-policy"
  assume_role_policy = data.aws_iam_policy_document.lambda_trust.json
}

resource "aws_iam_role_policy_attachment" "consumer_without_policy_logs" {
  role       = aws_iam_role.consumer_without_policy.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
}

resource "aws_lambda_function" "consumer" {
  function_name = "events-consumer"
  role          = aws_iam_role.consumer_without_policy.arn
  runtime       = "python3.12"
  handler       = "app.handler"
  filename      = "consumer.zip"
}

resource "aws_lambda_event_source_mapping" "consumer" {
  event_source_arn  = aws_kinesis_stream.events.arn
  function_name     = aws_lambda_function.consumer.arn
  starting_position = "LATEST"
}

# Read permissions, but on another stream.
resource "aws_iam_role" "consumer_other_stream" {
  name               = "consumer-other-stream"
  assume_role_policy = data.aws_iam_policy_document.lambda_trust.json
}

data "aws_iam_policy_document" "read_audit" {
  statement {
    actions = [
      "kinesis:DescribeStream",
      "kinesis:DescribeStreamSummary",
      "kinesis:GetRecords",
      "kinesis:GetShardIterator",
      "kinesis:ListShards",
    ]
    resources = [aws_kinesis_stream.audit.arn]
  }
}

resource "aws_iam_role_policy" "consumer_other_stream" {
  name   = "read-audit"
  role   = aws_iam_role.consumer_other_stream.id
  policy = data.aws_iam_policy_document.read_audit.json
}

resource "aws_lambda_function" "second_consumer" {
  function_name = "events-second-consumer"
  role          = aws_iam_role.consumer_other_stream.arn
  runtime       = "python3.12"
  handler       = "app.handler"
  filename      = "consumer.zip"
}

resource "aws_lambda_event_source_mapping" "second_consumer" {
  event_source_arn  = aws_kinesis_stream.events.arn
  function_name     = aws_lambda_function.second_consumer.function_name
  starting_position = "TRIM_HORIZON"
}

# Firehose reading the stream: its source role lacks kinesis:ListShards.
resource "aws_iam_role" "firehose_source" {
  name = "firehose-source"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "firehose.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
  inline_policy {
    name = "read-events"
    policy = jsonencode({
      Version = "2012-10-17"
      Statement = [{
        Effect   = "Allow"
        Action   = ["kinesis:DescribeStream", "kinesis:GetRecords", "kinesis:GetShardIterator"]
        Resource = aws_kinesis_stream.events.arn
      }]
    })
  }
}

resource "aws_kinesis_firehose_delivery_stream" "archive" {
  name        = "events-archive"
  destination = "extended_s3"
  kinesis_source_configuration {
    kinesis_stream_arn = aws_kinesis_stream.events.arn
    role_arn           = aws_iam_role.firehose_source.arn
  }
  extended_s3_configuration {
    role_arn   = "arn:aws:iam::123456789012:role/firehose-delivery"
    bucket_arn = "arn:aws:s3:::events-archive"
  }
}
