# KDS016: Firehose delivery streams that copy a Kinesis stream's records into S3.

variable "firehose_role_arn" {
  description = "Firehose's role, managed elsewhere"
  type        = string
}

variable "shared_bucket_arn" {
  description = "A bucket of another stack: its encryption is not known here"
  type        = string
}

data "aws_caller_identity" "current" {}

resource "aws_kms_key" "data" {
  description         = "streams and their archives"
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
  kms_key_id      = aws_kms_key.data.arn
}

# Buckets: left at the SSE-S3 default, SSE-S3 written out, SSE-KMS by default, legacy inline rules.
resource "aws_s3_bucket" "default_sse_s3" {
  bucket = "events-default-sse-s3"
}

resource "aws_s3_bucket" "aes256" {
  bucket = "events-aes256"
}

resource "aws_s3_bucket_server_side_encryption_configuration" "aes256" {
  bucket = aws_s3_bucket.aes256.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket" "kms_default" {
  bucket = "events-kms-default"
}

resource "aws_s3_bucket_server_side_encryption_configuration" "kms_default" {
  bucket = "events-kms-default"
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.data.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket" "inline_aes256" {
  bucket = "events-inline-aes256"
  server_side_encryption_configuration {
    rule {
      apply_server_side_encryption_by_default {
        sse_algorithm = "AES256"
      }
    }
  }
}

resource "aws_s3_bucket" "inline_kms" {
  bucket = "events-inline-kms"
  server_side_encryption_configuration {
    rule {
      apply_server_side_encryption_by_default {
        sse_algorithm = "aws:kms:dsse"
      }
    }
  }
}

# Bad: no key in Firehose, and the bucket keeps the SSE-S3 default.
resource "aws_kinesis_firehose_delivery_stream" "sse_s3_bucket" {
  name        = "events-to-default-bucket"
  destination = "extended_s3"
  kinesis_source_configuration {
    kinesis_stream_arn = aws_kinesis_stream.events.arn
    role_arn           = var.firehose_role_arn
  }
  extended_s3_configuration {
    role_arn    = var.firehose_role_arn
    bucket_arn  = aws_s3_bucket.default_sse_s3.arn
    kms_key_arn = aws_kms_key.data.arn
  }
}

# Bad: the destination names a key, but the enabled backup goes to an SSE-S3 bucket.
resource "aws_kinesis_firehose_delivery_stream" "backup_unencrypted" {
  name        = "events-with-backup"
  destination = "extended_s3"
  kinesis_source_configuration {
    kinesis_stream_arn = aws_kinesis_stream.events.arn
    role_arn           = var.firehose_role_arn
  }
  extended_s3_configuration {
    role_arn       = var.firehose_role_arn
    bucket_arn     = aws_s3_bucket.kms_default.arn
    kms_key_arn    = aws_kms_key.data.arn
    s3_backup_mode = "Enabled"
    s3_backup_configuration {
      role_arn    = var.firehose_role_arn
      bucket_arn  = aws_s3_bucket.aes256.arn
      kms_key_arn = aws_kms_key.data.arn
    }
  }
}

# Bad: the bucket's legacy inline rule is SSE-S3.
resource "aws_kinesis_firehose_delivery_stream" "inline_aes256" {
  name        = "events-to-inline-aes256"
  destination = "extended_s3"
  kinesis_source_configuration {
    kinesis_stream_arn = aws_kinesis_stream.events.arn
    role_arn           = var.firehose_role_arn
  }
  extended_s3_configuration {
    role_arn    = var.firehose_role_arn
    bucket_arn  = "arn:aws:s3:::events-inline-aes256"
    kms_key_arn = aws_kms_key.data.arn
  }
}

# Good: Firehose names a KMS key (no Firehose-level SSE: it does not apply to Kinesis sources).
resource "aws_kinesis_firehose_delivery_stream" "firehose_key" {
  name        = "events-firehose-key"
  destination = "extended_s3"
  kinesis_source_configuration {
    kinesis_stream_arn = aws_kinesis_stream.events.arn
    role_arn           = var.firehose_role_arn
  }
  extended_s3_configuration {
    role_arn    = var.firehose_role_arn
    bucket_arn  = aws_s3_bucket.default_sse_s3.arn
    kms_key_arn = aws_kms_key.data.arn
  }
}

# Good: SSE-KMS by the bucket's default; the backup is disabled (AWS default).
resource "aws_kinesis_firehose_delivery_stream" "bucket_default" {
  name        = "events-bucket-default"
  destination = "extended_s3"
  kinesis_source_configuration {
    kinesis_stream_arn = aws_kinesis_stream.events.arn
    role_arn           = var.firehose_role_arn
  }
  extended_s3_configuration {
    role_arn   = var.firehose_role_arn
    bucket_arn = aws_s3_bucket.kms_default.arn
    s3_backup_configuration {
      role_arn   = var.firehose_role_arn
      bucket_arn = aws_s3_bucket.aes256.arn
    }
  }
}

# Good: DSSE-KMS by the bucket's inline rule.
resource "aws_kinesis_firehose_delivery_stream" "inline_kms" {
  name        = "events-inline-kms"
  destination = "extended_s3"
  kinesis_source_configuration {
    kinesis_stream_arn = aws_kinesis_stream.events.arn
    role_arn           = var.firehose_role_arn
  }
  extended_s3_configuration {
    role_arn   = var.firehose_role_arn
    bucket_arn = aws_s3_bucket.inline_kms.arn
  }
}

# Not judged: the bucket is not part of this scan.
resource "aws_kinesis_firehose_delivery_stream" "shared_bucket" {
  name        = "events-shared-bucket"
  destination = "extended_s3"
  kinesis_source_configuration {
    kinesis_stream_arn = aws_kinesis_stream.events.arn
    role_arn           = var.firehose_role_arn
  }
  extended_s3_configuration {
    role_arn   = var.firehose_role_arn
    bucket_arn = var.shared_bucket_arn
  }
}

# Not judged: Direct PUT, not a Kinesis stream source.
resource "aws_kinesis_firehose_delivery_stream" "direct_put" {
  name        = "direct-put"
  destination = "extended_s3"
  extended_s3_configuration {
    role_arn   = var.firehose_role_arn
    bucket_arn = aws_s3_bucket.default_sse_s3.arn
  }
}
