# Trails with one defect each (KDS021): every other setting is effective. The streams are in
# us-east-1 (the default provider) and us-west-2 (aws.west).

provider "aws" {
  region = "us-east-1"
}

provider "aws" {
  alias  = "west"
  region = "us-west-2"
}

resource "aws_cloudtrail" "logging_off" {
  name                       = "logging_off"
  s3_bucket_name             = aws_s3_bucket.audit_logs.id
  enable_logging             = true
  is_multi_region_trail      = true
  enable_log_file_validation = true
  kms_key_id                 = aws_kms_key.audit.arn
}

resource "aws_cloudtrail" "single_region" {
  name                       = "single_region"
  s3_bucket_name             = aws_s3_bucket.audit_logs.id
  enable_log_file_validation = true
  kms_key_id                 = aws_kms_key.audit.arn
  is_multi_region_trail      = true
}

resource "aws_cloudtrail" "no_validation" {
  name                       = "no_validation"
  s3_bucket_name             = aws_s3_bucket.audit_logs.id
  is_multi_region_trail      = true
  kms_key_id                 = aws_kms_key.audit.arn
  enable_log_file_validation = true
}

resource "aws_cloudtrail" "no_kms" {
  name                       = "no_kms"
  s3_bucket_name             = aws_s3_bucket.audit_logs.id
  is_multi_region_trail      = true
  enable_log_file_validation = true
}

resource "aws_cloudtrail" "management_excluded" {
  name                       = "management_excluded"
  s3_bucket_name             = aws_s3_bucket.audit_logs.id
  is_multi_region_trail      = true
  enable_log_file_validation = true
  kms_key_id                 = aws_kms_key.audit.arn
  event_selector {
    include_management_events = true
    data_resource {
      type   = "AWS::S3::Object"
      values = ["arn:aws:s3"]
    }
  }
}

resource "aws_cloudtrail" "read_only" {
  name                       = "read_only"
  s3_bucket_name             = aws_s3_bucket.audit_logs.id
  is_multi_region_trail      = true
  enable_log_file_validation = true
  kms_key_id                 = aws_kms_key.audit.arn
  event_selector {
    read_write_type = "All"
  }
}

resource "aws_cloudtrail" "data_only" {
  name                       = "data_only"
  s3_bucket_name             = aws_s3_bucket.audit_logs.id
  is_multi_region_trail      = true
  enable_log_file_validation = true
  kms_key_id                 = aws_kms_key.audit.arn
  advanced_event_selector {
    name = "Kinesis stream data events"
    field_selector {
      field  = "eventCategory"
      equals = ["Data"]
    }
    field_selector {
      field  = "resources.type"
      equals = ["AWS::Kinesis::Stream"]
    }
  }
}

resource "aws_kms_key" "audit" {
  description         = "CloudTrail log files"
  enable_key_rotation = true
}

resource "aws_s3_bucket" "audit_logs" {
  bucket = "acme-audit-logs"
}

resource "aws_s3_bucket_public_access_block" "audit_logs" {
  bucket                  = aws_s3_bucket.audit_logs.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "audit_logs" {
  bucket = aws_s3_bucket.audit_logs.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.audit.arn
    }
  }
}

resource "aws_s3_bucket_policy" "audit_logs" {
  bucket = aws_s3_bucket.audit_logs.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "CloudTrailAclCheck"
        Effect    = "Allow"
        Principal = { Service = "cloudtrail.amazonaws.com" }
        Action    = "s3:GetBucketAcl"
        Resource  = aws_s3_bucket.audit_logs.arn
      },
      {
        Sid       = "CloudTrailWrite"
        Effect    = "Allow"
        Principal = { Service = "cloudtrail.amazonaws.com" }
        Action    = "s3:PutObject"
        Resource  = "${aws_s3_bucket.audit_logs.arn}/AWSLogs/*"
        Condition = { StringEquals = { "s3:x-amz-acl" = "bucket-owner-full-control" } }
      }
    ]
  })
}

resource "aws_kms_key" "streams" {
  description         = "Kinesis streams"
  enable_key_rotation = true
}

resource "aws_kinesis_stream" "orders" {
  name            = "orders"
  shard_count     = 1
  encryption_type = "KMS"
  kms_key_id      = aws_kms_key.streams.arn
}

resource "aws_kms_key" "streams_west" {
  provider            = aws.west
  description         = "Kinesis streams in us-west-2"
  enable_key_rotation = true
}

resource "aws_kinesis_stream" "clicks" {
  provider        = aws.west
  name            = "clicks"
  shard_count     = 1
  encryption_type = "KMS"
  kms_key_id      = aws_kms_key.streams_west.arn
}
