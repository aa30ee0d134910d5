# Resource policies of streams and the key policy of their key: public (KDS009) and
# cross-account (KDS015) grants.

resource "aws_kms_key" "stream_key" {
  description         = "Kinesis streams"
  enable_key_rotation = true
}

resource "aws_kms_key_policy" "stream_key" {
  key_id = aws_kms_key.stream_key.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AccountAdministration"
        Effect    = "Allow"
        Principal = { AWS = "arn:aws:iam::111122223333:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        Sid       = "AnyoneMayEncrypt"
        Effect    = "Allow"
        Principal = { AWS = "*" }
        Action    = ["kms:GenerateDataKey", "kms:DescribeKey"]
        Resource  = "*"
      },
      {
        Sid       = "AnalyticsAccountDecrypts"
        Effect    = "Allow"
        Principal = { AWS = "arn:aws:iam::444455556666:root" }
        Action    = ["kms:Decrypt", "kms:DescribeKey"]
        Resource  = "*"
      },
    ]
  })
}

resource "aws_kinesis_stream" "clicks" {
  name            = "clicks"
  shard_count     = 1
  encryption_type = "KMS"
  kms_key_id      = aws_kms_key.stream_key.arn
}

resource "aws_kinesis_stream" "orders" {
  name            = "orders"
  shard_count     = 1
  encryption_type = "KMS"
  kms_key_id      = aws_kms_key.stream_key.arn
}

resource "aws_kinesis_stream" "metrics" {
  name            = "metrics"
  shard_count     = 1
  encryption_type = "KMS"
  kms_key_id      = aws_kms_key.stream_key.arn
}

# anyone may read (KDS009)
resource "aws_kinesis_resource_policy" "public" {
  resource_arn = aws_kinesis_stream.clicks.arn
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { AWS = "*" }
      Action    = ["kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:DescribeStreamSummary"]
      Resource  = aws_kinesis_stream.clicks.arn
    }]
  })
}

# another account's role may read (KDS015)
resource "aws_kinesis_resource_policy" "cross_account" {
  resource_arn = aws_kinesis_stream.orders.arn
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { AWS = "arn:aws:iam::444455556666:role/orders-reader" }
      Action    = ["kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:DescribeStreamSummary"]
      Resource  = aws_kinesis_stream.orders.arn
    }]
  })
}

# Principal "*" pinned to a VPC endpoint of this account: neither public nor cross-account
resource "aws_kinesis_resource_policy" "pinned" {
  resource_arn = aws_kinesis_stream.metrics.arn
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { AWS = "*" }
      Action    = ["kinesis:PutRecord", "kinesis:PutRecords"]
      Resource  = aws_kinesis_stream.metrics.arn
      Condition = { StringEquals = { "aws:SourceVpce" = "vpce-0123456789abcdef0" } }
    }]
  })
}
