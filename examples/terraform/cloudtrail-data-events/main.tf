# One trail records Kinesis data events for some streams only: one by reference, those whose
# name starts with "events-" except events-internal. The streams "unselected" and "excluded"
# have no data events recorded (KDS022).

provider "aws" {
  region = "us-east-1"
}

resource "aws_cloudtrail" "audit" {
  name                       = "audit"
  s3_bucket_name             = aws_s3_bucket.audit_logs.id
  is_multi_region_trail      = true
  enable_log_file_validation = true
  kms_key_id                 = aws_kms_key.audit.arn

  advanced_event_selector {
    name = "Management events"
    field_selector {
      field  = "eventCategory"
      equals = ["Management"]
    }
  }

  advanced_event_selector {
    name = "Data events of the orders stream"
    field_selector {
      field  = "eventCategory"
      equals = ["Data"]
    }
    field_selector {
      field  = "resources.type"
      equals = ["AWS::Kinesis::Stream"]
    }
    field_selector {
      field  = "resources.ARN"
      equals = [aws_kinesis_stream.by_reference.arn]
    }
  }

  advanced_event_selector {
    name = "Data events of the events- streams, but events-internal"
    field_selector {
      field  = "eventCategory"
      equals = ["Data"]
    }
    field_selector {
      field  = "resources.type"
      equals = ["AWS::Kinesis::Stream"]
    }
    field_selector {
      field           = "resources.ARN"
      starts_with     = ["arn:aws:kinesis:us-east-1:111122223333:stream/events-"]
      not_equals      = ["arn:aws:kinesis:us-east-1:111122223333:stream/events-internal"]
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

resource "aws_kms_key" "streams" {
  description         = "Kinesis streams"
  enable_key_rotation = true
}

resource "aws_kinesis_stream" "by_reference" {
  name            = "orders"
  shard_count     = 1
  encryption_type = "KMS"
  kms_key_id      = aws_kms_key.streams.arn
}

resource "aws_kinesis_stream" "by_prefix" {
  name            = "events-clicks"
  shard_count     = 1
  encryption_type = "KMS"
  kms_key_id      = aws_kms_key.streams.arn
}

resource "aws_kinesis_stream" "excluded" {
  name            = "events-internal"
  shard_count     = 1
  encryption_type = "KMS"
  kms_key_id      = aws_kms_key.streams.arn
}

resource "aws_kinesis_stream" "unselected" {
  name            = "payments"
  shard_count     = 1
  encryption_type = "KMS"
  kms_key_id      = aws_kms_key.streams.arn
}
