# KDS018: DynamoDB tables that consumers of an encrypted stream write to.

variable "function_role_arn" {
  description = "The function's role, managed elsewhere"
  type        = string
}

data "aws_caller_identity" "current" {}

resource "aws_kms_key" "streams" {
  description         = "streams and their consumers' tables"
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

resource "aws_kinesis_stream" "orders" {
  name            = "orders"
  shard_count     = 1
  encryption_type = "KMS"
  kms_key_id      = aws_kms_key.streams.arn
}

# Bad: the KCL application's lease table keeps the AWS owned key (the default).
resource "aws_dynamodb_table" "leases" {
  name         = "orders-consumer"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "leaseKey"
  attribute {
    name = "leaseKey"
    type = "S"
  }
}

# Good: a customer managed key.
resource "aws_dynamodb_table" "checkpoints" {
  name         = "orders-checkpoints"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "shardId"
  attribute {
    name = "shardId"
    type = "S"
  }
  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.streams.arn
  }
}

# Bad: the AWS managed key is not one the account controls.
resource "aws_dynamodb_table" "results" {
  name         = "orders-results"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "orderId"
  attribute {
    name = "orderId"
    type = "S"
  }
  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.streams.arn
  }
}

# Not judged: no consumer writes to it.
resource "aws_dynamodb_table" "unrelated" {
  name         = "unrelated"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"
  attribute {
    name = "id"
    type = "S"
  }
}

resource "aws_iam_role" "kcl_app" {
  name = "orders-kcl-app"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "ecs-tasks.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_iam_role_policy" "kcl_app" {
  name = "consume-orders"
  role = aws_iam_role.kcl_app.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect   = "Allow"
        Action   = ["kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:DescribeStream", "kinesis:ListShards"]
        Resource = aws_kinesis_stream.orders.arn
      },
      {
        Effect   = "Allow"
        Action   = ["kms:Decrypt"]
        Resource = aws_kms_key.streams.arn
      },
      {
        Effect   = "Allow"
        Action   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:Scan"]
        Resource = [aws_dynamodb_table.leases.arn, "arn:aws:dynamodb:eu-west-1:${data.aws_caller_identity.current.account_id}:table/orders-checkpoints"]
      }
    ]
  })
}

resource "aws_lambda_function" "consumer" {
  function_name = "orders-consumer"
  role          = var.function_role_arn
  runtime       = "python3.12"
  handler       = "app.handler"
  filename      = "consumer.zip"
  environment {
    variables = {
      RESULTS_TABLE = aws_dynamodb_table.results.name
    }
  }
}

resource "aws_lambda_event_source_mapping" "consumer" {
  event_source_arn  = aws_kinesis_stream.orders.arn
  function_name     = aws_lambda_function.consumer.arn
  starting_position = "LATEST"
}
