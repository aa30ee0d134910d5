# KDS017: where Lambda sends the failed batches of a Kinesis stream mapping.

variable "consumer_role_arn" {
  description = "The consumers' role, managed elsewhere"
  type        = string
}

variable "topic_key_id" {
  description = "KMS key for the alerts topic"
  type        = string
  default     = null
}

data "aws_caller_identity" "current" {}

resource "aws_kms_key" "streams" {
  description         = "streams and their failure destinations"
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

resource "aws_lambda_function" "consumer" {
  function_name = "events-consumer"
  role          = var.consumer_role_arn
  runtime       = "python3.12"
  handler       = "app.handler"
  filename      = "consumer.zip"
}

# Bad: SSE-SQS is not KMS.
resource "aws_sqs_queue" "sqs_managed" {
  name                    = "events-failures"
  sqs_managed_sse_enabled = true
}

# Bad: an SNS topic without a key is not encrypted at rest (the input defaults to null).
resource "aws_sns_topic" "plain" {
  name              = "events-failure-alerts"
  kms_master_key_id = var.topic_key_id
}

# Good: a customer managed key.
resource "aws_sqs_queue" "encrypted" {
  name              = "events-failures-encrypted"
  kms_master_key_id = aws_kms_key.streams.arn
}

# Not judged: no stream mapping sends failures here.
resource "aws_sqs_queue" "unrelated" {
  name = "unrelated"
}

resource "aws_lambda_event_source_mapping" "to_queue" {
  event_source_arn  = aws_kinesis_stream.events.arn
  function_name     = aws_lambda_function.consumer.arn
  starting_position = "LATEST"
  destination_config {
    on_failure {
      destination_arn = aws_sqs_queue.sqs_managed.arn
    }
  }
}

resource "aws_lambda_event_source_mapping" "to_topic" {
  event_source_arn  = aws_kinesis_stream.events.arn
  function_name     = aws_lambda_function.consumer.arn
  starting_position = "LATEST"
  destination_config {
    on_failure {
      destination_arn = aws_sns_topic.plain.arn
    }
  }
}

resource "aws_lambda_event_source_mapping" "to_encrypted_queue" {
  event_source_arn  = aws_kinesis_stream.events.arn
  function_name     = aws_lambda_function.consumer.arn
  starting_position = "TRIM_HORIZON"
  destination_config {
    on_failure {
      destination_arn = "arn:aws:sqs:eu-west-1:${data.aws_caller_identity.current.account_id}:events-failures-encrypted"
    }
  }
}

# Not judged: the destination is defined elsewhere.
resource "aws_lambda_event_source_mapping" "to_external" {
  event_source_arn  = aws_kinesis_stream.events.arn
  function_name     = aws_lambda_function.consumer.arn
  starting_position = "LATEST"
  destination_config {
    on_failure {
      destination_arn = "arn:aws:sqs:eu-west-1:111122223333:shared-failures"
    }
  }
}
