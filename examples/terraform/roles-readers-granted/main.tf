# Readers whose roles allow exactly the read actions on exactly the stream they read.

variable "external_role_arn" {
  description = "A role managed elsewhere: not judged"
  type        = string
}

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

data "aws_iam_policy_document" "lambda_trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "read_events" {
  statement {
    actions = [
      "kinesis:DescribeStream",
      "kinesis:DescribeStreamSummary",
      "kinesis:GetRecords",
      "kinesis:GetShardIterator",
      "kinesis:ListShards",
    ]
    resources = [aws_kinesis_stream.events.arn]
  }
  statement {
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.streams.arn]
  }
}

# Inline policy resource.
resource "aws_iam_role" "consumer" {
  name               = "events-consumer"
  assume_role_policy = data.aws_iam_policy_document.lambda_trust.json
}

resource "aws_iam_role_policy" "consumer" {
  name   = "read-events"
  role   = aws_iam_role.consumer.id
  policy = data.aws_iam_policy_document.read_events.json
}

resource "aws_lambda_function" "consumer" {
  function_name = "events-consumer"
  role          = aws_iam_role.consumer.arn
  runtime       = "python3.12"
  handler       = "app.handler"
  filename      = "consumer.zip"
}

resource "aws_lambda_event_source_mapping" "consumer" {
  event_source_arn  = aws_kinesis_stream.events.arn
  function_name     = aws_lambda_function.consumer.arn
  starting_position = "LATEST"
}

# A customer managed policy attached to the role; the stream's ARN written out by name.
resource "aws_iam_policy" "read_events_by_name" {
  name = "read-events-by-name"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["kinesis:DescribeStream", "kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:ListShards", "kinesis:SubscribeToShard"]
      Resource = ["arn:aws:kinesis:eu-west-1:${data.aws_caller_identity.current.account_id}:stream/events"]
    }]
  })
}

resource "aws_iam_role" "fan_out" {
  name               = "events-fan-out"
  assume_role_policy = data.aws_iam_policy_document.lambda_trust.json
}

resource "aws_iam_role_policy_attachment" "fan_out" {
  role       = aws_iam_role.fan_out.name
  policy_arn = aws_iam_policy.read_events_by_name.arn
}

resource "aws_kinesis_stream_consumer" "fan_out" {
  name       = "fan-out"
  stream_arn = aws_kinesis_stream.events.arn
}

resource "aws_lambda_function" "fan_out" {
  function_name = "events-fan-out"
  role          = aws_iam_role.fan_out.arn
  runtime       = "python3.12"
  handler       = "app.handler"
  filename      = "consumer.zip"
}

# Enhanced fan-out: reads through the stream consumer.
resource "aws_lambda_event_source_mapping" "fan_out" {
  event_source_arn  = aws_kinesis_stream_consumer.fan_out.arn
  function_name     = aws_lambda_function.fan_out.arn
  starting_position = "LATEST"
}

# A role defined elsewhere: what it allows is not known here.
resource "aws_lambda_function" "external_role" {
  function_name = "events-external-role"
  role          = var.external_role_arn
  runtime       = "python3.12"
  handler       = "app.handler"
  filename      = "consumer.zip"
}

resource "aws_lambda_event_source_mapping" "external_role" {
  event_source_arn  = aws_kinesis_stream.events.arn
  function_name     = aws_lambda_function.external_role.arn
  starting_position = "LATEST"
}

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
    name   = "read-events"
    policy = data.aws_iam_policy_document.read_events.json
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
